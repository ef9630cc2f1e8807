// Runs every compiled test file (dist/tests/**/*.test.js) as its own process, two at a time (the
// machine has two cores), streams their output, and ends with the line CI reads:
// `N passed, N failed, N skipped`. Each file is a uvu suite that runs itself.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const concurrency = Math.max(1, Number(process.env.MIDSHIP_TEST_JOBS ?? 2));
const only = process.argv.slice(2);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

interface FileResult { file: string; passed: number; failed: number; skipped: number; code: number | null; output: string }

function runFile(file: string): Promise<FileResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), Number(process.env.MIDSHIP_TEST_FILE_TIMEOUT_MS ?? 300_000));
    child.on('close', (code) => {
      clearTimeout(timer);
      const num = (re: RegExp) => [...output.matchAll(re)].reduce((s, m) => s + Number(m[1]), 0);
      const total = num(/^\s*Total:\s+(\d+)/gm);
      const passed = num(/^\s*Passed:\s+(\d+)/gm);
      const skipped = num(/^\s*Skipped:\s+(\d+)/gm);
      let failed = total - passed - skipped;
      // A file that crashed or was killed before uvu could summarise counts as one failure.
      if (code !== 0 && failed === 0) failed = 1;
      resolve({ file, passed, failed, skipped, code, output });
    });
  });
}

const files = findTests(here).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const results: FileResult[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < files.length) {
    const file = files[next++]!;
    const started = Date.now();
    const r = await runFile(file);
    results.push(r);
    const status = r.failed > 0 ? 'FAIL' : 'ok  ';
    process.stdout.write(`\n=== ${status} ${relative(here, file)} (${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    process.stdout.write(r.output);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const sum = (k: 'passed' | 'failed' | 'skipped') => results.reduce((s, r) => s + r[k], 0);
const failedFiles = results.filter((r) => r.failed > 0).map((r) => relative(here, r.file));
if (failedFiles.length) process.stdout.write(`\nFailed files: ${failedFiles.join(', ')}\n`);
process.stdout.write(`\n${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped\n`);
process.exitCode = sum('failed') > 0 || files.length === 0 ? 1 : 0;
