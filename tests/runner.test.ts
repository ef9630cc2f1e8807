// The test runner (tests/run.ts) counts what uvu reports, never less: run through the real runner
// as a child process over fixture suites (passes, a failure among skips, only skips, a crash, a late
// non-zero exit).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runJs = fileURLToPath(new URL('./run.js', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/runner/', import.meta.url));

async function runner(...only: string[]): Promise<{ code: number | null; out: string; last: string }> {
  const child = spawn(process.execPath, [runJs, '--dir', fixtures, ...only], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MIDSHIP_TEST_JOBS: '2' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  return { code, out, last: out.trimEnd().split('\n').pop() ?? '' };
}

test('passing files: exact counts, exit 0', async () => {
  const r = await runner('passes');
  assert.is(r.last, '2 passed, 0 failed, 0 skipped', r.out);
  assert.is(r.code, 0);
});

test('1 pass, 1 failure and 3 skips count as one failure and exit non-zero', async () => {
  const r = await runner('mixed');
  assert.is(r.last, '1 passed, 1 failed, 3 skipped', r.out);
  assert.is(r.code, 1);
  assert.match(r.out, /Failed files: mixed\.test\.js/);
});

test('a file of skips only is neither passed nor failed', async () => {
  const r = await runner('skips');
  assert.is(r.last, '0 passed, 0 failed, 2 skipped', r.out);
  assert.is(r.code, 0);
});

test('a file that dies before its summary is a failure', async () => {
  const r = await runner('crash');
  assert.is(r.last, '0 passed, 1 failed, 0 skipped', r.out);
  assert.is(r.code, 1);
  assert.match(r.out, /FAIL crash\.test\.js .*exit 3/);
  assert.match(r.out, /no uvu summary/);
});

test('a file that exits non-zero is a failure even when all its tests passed', async () => {
  const r = await runner('late-exit');
  assert.is(r.last, '1 passed, 1 failed, 0 skipped', r.out);
  assert.is(r.code, 1);
});

test('all fixtures together: the sums, and the run fails', async () => {
  const r = await runner();
  assert.is(r.last, '4 passed, 3 failed, 5 skipped', r.out);
  assert.is(r.code, 1);
});

test('no matching file is a failure, not an empty success', async () => {
  const r = await runner('no-such-file');
  assert.is(r.last, '0 passed, 0 failed, 0 skipped', r.out);
  assert.is(r.code, 1);
});

test.run();
