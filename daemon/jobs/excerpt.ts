// The `logs_excerpt` of a finished job (PROTOCOL.md 5.4): up to 20 lines as they are; otherwise
// the first 10, a line `... N more lines ...` and the last 10. Every line is cut at
// EXCERPT_LINE_BYTES, so an excerpt stays small whatever the job printed (one line of 500 MB
// included). The file is streamed as bytes: only the text of the lines kept is ever decoded, and
// of a chunk holding thousands of lines only the last ten are looked at beyond counting them.
import { createReadStream } from 'node:fs';

const EXCERPT_HEAD = 10;
const EXCERPT_TAIL = 10;
export const EXCERPT_LINE_BYTES = 1000;
const NL = 0x0a;

/** Splits a byte stream into counted lines, keeping the first and last few, each cut short. */
class LineKeeper {
  lines = 0;
  readonly head: string[] = [];
  tail: string[] = []; // ring of the latest lines after the head
  private cur: Buffer[] = [];
  private curKept = 0; // bytes of the current line held in `cur`
  private curBytes = 0; // bytes of the current line seen
  private curNl = false; // whether the current line ended with a newline

  push(buf: Buffer): void {
    let pos = 0;
    // The head: line by line (this is only ever the start of the file).
    while (this.head.length < EXCERPT_HEAD && pos < buf.length) {
      const nl = buf.indexOf(NL, pos);
      if (nl === -1) {
        this.take(buf, pos, buf.length);
        return;
      }
      this.take(buf, pos, nl + 1);
      this.endLine();
      pos = nl + 1;
    }
    if (pos >= buf.length) return;
    // Count the rest; only the lines ending at the last EXCERPT_TAIL newlines can still matter.
    const keep: number[] = [];
    let count = 0;
    for (let i = buf.indexOf(NL, pos); i !== -1; i = buf.indexOf(NL, i + 1)) {
      count++;
      keep.push(i);
      if (keep.length > EXCERPT_TAIL + 1) keep.shift();
    }
    if (count > EXCERPT_TAIL) {
      // Everything up to keep[0] completes lines that newer ones push out of the excerpt.
      const skipped = count - EXCERPT_TAIL;
      this.lines += skipped;
      this.tail = [];
      this.resetLine();
      pos = keep[0]! + 1;
    }
    for (let nl = buf.indexOf(NL, pos); nl !== -1; nl = buf.indexOf(NL, pos)) {
      this.take(buf, pos, nl + 1);
      this.endLine();
      pos = nl + 1;
    }
    if (pos < buf.length) this.take(buf, pos, buf.length);
  }

  end(): void {
    if (this.curBytes > 0) this.endLine();
  }

  private take(buf: Buffer, start: number, end: number): void {
    this.curBytes += end - start;
    this.curNl = buf[end - 1] === NL;
    const room = EXCERPT_LINE_BYTES + 1 - this.curKept;
    if (room <= 0) return;
    const upTo = Math.min(end, start + room);
    this.cur.push(buf.subarray(start, upTo));
    this.curKept += upTo - start;
  }

  private endLine(): void {
    this.lines++;
    const text = this.lineText();
    this.resetLine();
    if (this.head.length < EXCERPT_HEAD) this.head.push(text);
    else {
      this.tail.push(text);
      if (this.tail.length > EXCERPT_TAIL) this.tail.shift();
    }
  }

  private lineText(): string {
    const bytes = Buffer.concat(this.cur);
    const content = this.curBytes - (this.curNl ? 1 : 0);
    if (content <= EXCERPT_LINE_BYTES) return bytes.toString('utf8');
    let cut = EXCERPT_LINE_BYTES;
    // Cut on a character boundary: back off while the byte at the cut continues a character.
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    return `${bytes.toString('utf8', 0, cut)}... [${content - cut} more bytes]${this.curNl ? '\n' : ''}`;
  }

  private resetLine(): void {
    this.cur = [];
    this.curKept = 0;
    this.curBytes = 0;
    this.curNl = false;
  }
}

export async function logsExcerpt(path: string): Promise<string> {
  const keeper = new LineKeeper();
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) keeper.push(piece);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return 'Log file was removed';
    throw err;
  } finally {
    stream.destroy();
  }
  keeper.end();
  const { head, tail, lines } = keeper;
  if (lines <= EXCERPT_HEAD + EXCERPT_TAIL) return head.join('') + tail.join('');
  return `${head.join('')}... ${lines - EXCERPT_HEAD - EXCERPT_TAIL} more lines ...\n${tail.join('')}`;
}
