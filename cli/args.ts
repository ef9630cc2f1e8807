// Command-line arguments to call parameters (PROTOCOL.md 10.2): each argument is JSON if it
// parses, else a plain string; `-` stands for all of stdin (read once, shared by every `-`).

/** Read all of a stream as text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function parseArg(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function parseArgs(args: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<unknown[]> {
  let input: string | null = null;
  const out: unknown[] = [];
  for (const a of args) {
    if (a === '-') {
      input ??= await readAll(stdin);
      out.push(parseArg(input.trim()));
    } else out.push(parseArg(a));
  }
  return out;
}

export class InputError extends Error {}

/** `bulk` input: one JSON array of arguments per non-empty line. */
export function parseBulkLines(text: string): unknown[][] {
  const out: unknown[][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new InputError(`line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(v)) throw new InputError(`line ${i + 1}: expected a JSON array of arguments, e.g. [1, "two"]`);
    out.push(v);
  });
  return out;
}
