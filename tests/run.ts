// Runs every compiled test file (dist/tests/**/*.test.js) as its own process, two at a time (the
// machine has two cores), streams their output, and ends with the line CI reads:
// `N passed, N failed, N skipped`. Each file is a uvu suite that runs itself.
//
// Counting follows uvu's own summary: its `Total` is the tests it ran (skipped ones are not in
// it), so failed = Total - Passed. A file that exits non-zero, or ends without a summary (it
// crashed, was killed, or never ran its suite), counts as at least one failure, and any such
// file makes the whole run exit non-zero.
//
//   node dist/tests/run.js [--dir DIR] [substring ...]
// --dir runs the *.test.js files under DIR instead (the runner's own test uses it on fixtures).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const dirFlag = args.indexOf('--dir');
const root = dirFlag >= 0 ? resolve(args[dirFlag + 1] ?? '.') : fileURLToPath(new URL('.', import.meta.url));
const only = dirFlag >= 0 ? args.filter((_, i) => i !== dirFlag && i !== dirFlag + 1) : args;
const concurrency = Math.max(1, Number(process.env.MIDSHIP_TEST_JOBS ?? 2));

/** Fixture suites (tests/fixtures) are run only by the tests that want them, never as tests. */
function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'fixtures') out.push(...findTests(full));
    } else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

export interface FileResult { file: string; passed: number; failed: number; skipped: number; code: number | null; signal: string | null; output: string }

/** uvu's closing figures of one file, or null when it printed none. */
function uvuSummary(output: string): { total: number; passed: number; skipped: number } | null {
  const last = (re: RegExp) => {
    const all = [...output.matchAll(re)];
    return all.length === 0 ? null : Number(all[all.length - 1]![1]);
  };
  const total = last(/^\s*Total:\s+(\d+)\s*$/gm);
  const passed = last(/^\s*Passed:\s+(\d+)\s*$/gm);
  const skipped = last(/^\s*Skipped:\s+(\d+)\s*$/gm);
  if (total === null || passed === null || skipped === null) return null;
  return { total, passed, skipped };
}

function runFile(file: string): Promise<FileResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), Number(process.env.MIDSHIP_TEST_FILE_TIMEOUT_MS ?? 300_000));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const s = uvuSummary(output);
      let failed = s === null ? 0 : Math.max(0, s.total - s.passed);
      if (s === null) output += '\n(runner: no uvu summary: the file crashed, was killed, or never ran its suite)\n';
      if ((code !== 0 || s === null) && failed === 0) failed = 1;
      done({ file, passed: s?.passed ?? 0, failed, skipped: s?.skipped ?? 0, code, signal, output });
    });
  });
}

const files = findTests(root).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const results: FileResult[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < files.length) {
    const file = files[next++]!;
    const started = Date.now();
    const r = await runFile(file);
    results.push(r);
    const status = r.failed > 0 ? 'FAIL' : 'ok  ';
    const exit = r.code === 0 ? '' : `, exit ${r.signal ?? r.code}`;
    process.stdout.write(`\n=== ${status} ${relative(root, file)} (${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${exit}, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    process.stdout.write(r.output);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const sum = (k: 'passed' | 'failed' | 'skipped') => results.reduce((s, r) => s + r[k], 0);
const failedFiles = results.filter((r) => r.failed > 0).map((r) => relative(root, r.file));
if (failedFiles.length) process.stdout.write(`\nFailed files: ${failedFiles.join(', ')}\n`);
if (files.length === 0) process.stdout.write(`\nno test files matched under ${root}\n`);
process.stdout.write(`\n${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped\n`);
process.exitCode = sum('failed') > 0 || results.some((r) => r.code !== 0) || files.length === 0 ? 1 : 0;
