// Bounded job logs (issue 13): the size cap keeps the head and a rolling tail behind a marker
// line; logs_excerpt keeps the first and last 10 lines, each cut short, whatever the file holds.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXCERPT_LINE_BYTES, logsExcerpt } from '../daemon/jobs/excerpt.js';
import { JobLogWriter, followLog } from '../daemon/jobs/logs.js';

let root = '';
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'midship-job-logs-'));
});
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

const MARKER = /\n\[\.\.\. (\d+) bytes of log output skipped: the log is capped at (\d+) bytes \.\.\.\]\n/;

test('a capped log keeps its head, a marker with the bytes skipped, and a tail from a line start; followers see the same', async () => {
  const path = join(root, 'capped.log');
  const w = new JobLogWriter(path, { maxBytes: 40_000 });
  let followed = '';
  const following = followLog(path, w, (t) => (followed += t), new AbortController().signal);
  let want = '';
  for (let i = 0; i < 2000; i++) {
    const batch = Array.from({ length: 5 }, (_, k) => `line ${String(i * 5 + k).padStart(6, '0')} ${'é'.repeat(k)} some output\n`).join('');
    want += batch;
    w.append(batch);
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await w.close();
  await following;
  const file = await readFile(path, 'utf8');
  const m = MARKER.exec(file);
  assert.ok(m, 'a marker line');
  assert.is(Number(m![2]), 40_000);
  const head = file.slice(0, m!.index);
  const tail = file.slice(m!.index + m![0].length);
  assert.ok(want.startsWith(head), 'the head is the start of the output');
  assert.ok(want.endsWith(tail), 'the tail is the end of the output');
  assert.match(tail, /^line \d{6} /, 'the tail starts at a line');
  assert.is(Number(m![1]), Buffer.byteLength(want) - Buffer.byteLength(head) - Buffer.byteLength(tail), 'the marker counts what is missing');
  assert.ok(Buffer.byteLength(head) + Buffer.byteLength(tail) <= 40_000, 'within the cap');
  assert.ok(Buffer.byteLength(tail) > 5_000, 'a useful tail');
  assert.is(followed, file, 'a follower sees what the file holds');
});

test('a log under its cap is untouched', async () => {
  const path = join(root, 'small.log');
  const w = new JobLogWriter(path, { maxBytes: 40_000 });
  w.append('one\n');
  w.append('two\n');
  await w.close();
  assert.is(await readFile(path, 'utf8'), 'one\ntwo\n');
});

test('one huge line past the cap: the head, the marker, the last part of the line', async () => {
  const path = join(root, 'oneline.log');
  const w = new JobLogWriter(path, { maxBytes: 8000 });
  for (let i = 0; i < 100; i++) w.append('x'.repeat(1000));
  await w.close();
  const file = await readFile(path, 'utf8');
  const m = MARKER.exec(file)!;
  assert.is(m.index, 6000);
  assert.is(file.length - m.index - m[0].length, 2000);
  assert.is(Number(m[1]), 100_000 - 8000);
});

test('logs_excerpt: one 5 MB line without a newline is cut to a short line', async () => {
  const path = join(root, 'flood.log');
  await writeFile(path, 'y'.repeat(5 * 1024 * 1024));
  const e = await logsExcerpt(path);
  assert.is(e, `${'y'.repeat(EXCERPT_LINE_BYTES)}... [${5 * 1024 * 1024 - EXCERPT_LINE_BYTES} more bytes]`);
});

test('logs_excerpt: first and last 10 lines of 300,000, each cut, counted exactly, cut on a character boundary', async () => {
  const path = join(root, 'many.log');
  const lines: string[] = [];
  for (let i = 0; i < 300_000; i++) lines.push(i === 3 || i === 299_995 ? `${i} ${'é'.repeat(3000)}\n` : `${i}\n`);
  await writeFile(path, lines.join(''));
  const e = await logsExcerpt(path);
  const out = e.split('\n');
  assert.is(out[10], '... 299980 more lines ...');
  assert.equal(out.slice(0, 3), ['0', '1', '2']);
  assert.equal(out.slice(11, 13), ['299990', '299991']);
  assert.is(out[20], '299999');
  for (const long of [out[3]!, out[16]!]) {
    assert.ok(!long.includes('\uFFFD'), 'no broken character');
    assert.match(long, /^\d+ é+\.\.\. \[\d+ more bytes\]$/);
    assert.ok(Buffer.byteLength(long) < EXCERPT_LINE_BYTES + 40);
  }
  assert.ok(e.length < 3000, 'a small excerpt');
});

test.run();
