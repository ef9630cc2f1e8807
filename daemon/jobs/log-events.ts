// A job's log as Server-Sent Events (GET /api/jobs/<id>/logs?follow=1): one event per line, its
// `id` the byte offset in the log file just after that line, so a client that reconnects with
// `Last-Event-ID: N` gets every line from byte N on: nothing missed, nothing repeated. The stream
// ends with `event: end` (data: the job's final state) once the job has ended and its log is
// complete.
//
// The file is the only source of text: the log writer's chunk notifications only wake the
// follower, which then reads what reached the file since its position. So a client that stops
// reading costs nothing but its socket buffer: while the response is backed up the follower
// waits for 'drain' and reads nothing; the log keeps growing on disk, not in memory.
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { JobManager } from './manager.js';

/** Bytes read from the file per step (and at most this much is handed to the socket at once). */
const READ_BYTES = 64 * 1024;
/** A line longer than this is sent in pieces (each with its own id). */
const MAX_LINE_BYTES = 64 * 1024;
/** A comment this often keeps proxies from closing an idle stream and finds dead clients. */
export const KEEPALIVE_MS = 15_000;
/** What EventSource waits before reconnecting (the `retry` field). */
const RETRY_MS = 2000;

/** Where the stream stands: the next byte to read, and the bytes of a line not yet complete. */
interface Position {
  /** File offset of the next byte to read. */
  next: number;
  partial: Buffer;
}

/** The SSE text of one log line ending at byte `end`; a CR inside a line starts another data field. */
function lineEvent(line: string, end: number): string {
  return `id: ${end}\ndata: ${line.split('\r').join('\ndata: ')}\n\n`;
}

/** Cut `buf` after at most `max` bytes, on a UTF-8 character boundary (at least one character). */
function cutAt(buf: Buffer, max: number): number {
  let cut = Math.min(max, buf.length);
  while (cut > 1 && cut < buf.length && (buf[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}

/** The events of the complete lines in `pos.partial` + `bytes`; the incomplete rest stays in `pos`. */
function takeLines(pos: Position, bytes: Buffer, final: boolean): string {
  let buf = pos.partial.length > 0 ? Buffer.concat([pos.partial, bytes]) : bytes;
  const base = pos.next + bytes.length - buf.length; // file offset of buf[0]
  let out = '';
  let start = 0;
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
    const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
    out += lineEvent(buf.toString('utf8', start, end), base + nl + 1);
    start = nl + 1;
  }
  while (buf.length - start > MAX_LINE_BYTES || (final && buf.length > start)) {
    const cut = start + cutAt(buf.subarray(start), MAX_LINE_BYTES);
    out += lineEvent(buf.toString('utf8', start, cut), base + cut);
    start = cut;
  }
  buf = buf.subarray(start);
  pos.partial = Buffer.from(buf); // a copy: the read buffer is reused
  pos.next += bytes.length;
  return out;
}

/** Writes `text`; waits while the client is backed up. False once the client has gone. */
async function send(out: Writable, text: string, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted || out.destroyed) return false;
  if (out.write(text)) return true;
  try {
    await once(out, 'drain', { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Streams job `id`'s log from byte `from` to `out` as SSE (the caller checked access and sent the
 * headers) until the job has ended, then `event: end`. Returns when done or `signal` aborts.
 */
export async function streamLogEvents(out: Writable, jobs: JobManager, id: number, logsPath: string, from: number, signal: AbortSignal): Promise<void> {
  if (!(await send(out, `retry: ${RETRY_MS}\n\n`, signal))) return;
  const pos: Position = { next: from, partial: Buffer.alloc(0) };
  const buf = Buffer.alloc(READ_BYTES);
  for (;;) {
    // Subscribe before reading: a chunk written during the read wakes the next round.
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const live = jobs.getLive(id);
    const writer = live && !live.finished ? live.logWriter : null;
    const unsubscribe = writer !== null ? [writer.onChunk(() => wake()), writer.onEnd(() => wake())] : live && !live.finished ? [jobs.watch(id, () => wake())] : [];
    let idle = false;
    const keepalive = setTimeout(() => ((idle = true), wake()), KEEPALIVE_MS);
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // Complete: the job is over, or its writer closed the file (the end record may still be on its way).
      const complete = (live === undefined || live.finished || writer?.ended === true) && !(live?.state === 'WAITING');
      const upTo = writer !== null && !writer.ended ? writer.bytesWritten : Infinity;
      if (!(await pump(out, logsPath, pos, buf, upTo, signal))) return;
      if (complete) {
        if (pos.partial.length > 0 && !(await send(out, takeLines(pos, Buffer.alloc(0), true), signal))) return;
        const state = await finalState(jobs, id, signal);
        if (state !== null) await send(out, `event: end\ndata: ${state}\n\n`, signal);
        out.end();
        return;
      }
      await woken;
      if (signal.aborted) return;
      if (idle && !(await send(out, ': keepalive\n\n', signal))) return;
    } finally {
      for (const off of unsubscribe) off();
      clearTimeout(keepalive);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Reads the file from `pos.next` up to `upTo` (Infinity: its end) and sends its lines. False: the client went. */
async function pump(out: Writable, path: string, pos: Position, buf: Buffer, upTo: number, signal: AbortSignal): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // nothing written yet
    throw err;
  }
  try {
    while (pos.next < upTo) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, upTo - pos.next), pos.next);
      if (bytesRead === 0) return true;
      const text = takeLines(pos, buf.subarray(0, bytesRead), false);
      if (text.length > 0 && !(await send(out, text, signal))) return false;
    }
    return true;
  } finally {
    await fh.close();
  }
}

/** The job's state once it has ended (its log may be complete a moment before its end is stored). */
async function finalState(jobs: JobManager, id: number, signal: AbortSignal): Promise<string | null> {
  const live = jobs.getLive(id);
  if (live !== undefined && !live.finished) {
    await new Promise<void>((resolve) => {
      const stop = jobs.watch(id, (j) => j.finished && (stop(), resolve()));
      signal.addEventListener('abort', () => (stop(), resolve()), { once: true });
    });
    if (signal.aborted) return null;
  }
  return (await jobs.getRecord(id))?.state ?? null;
}
