// README.md's fleet quick start, run line by line as it is printed there: `midshipd fleet init`,
// nats-server from the written nats.conf, two daemons with the fleet flags, then midclt's fleet
// hosts, a call, a job followed with -j, and the fleet's jobs. The only changes are the ports
// (free ones instead of 4222, 6001, 6002: the machine is shared) and the binaries' paths.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnClient, MIDCLT_BIN, type RunResult, type Running } from './helpers/midclt.js';
import { freePort, natsServerPath, natsTest } from './helpers/nats.js';
import { until } from './helpers/until.js';

const t = natsTest(test);
const MAIN = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The quick start's command lines, from the code block after the fleet-quickstart marker. */
async function quickStart(): Promise<string[]> {
  const text = await readFile(README, 'utf8');
  const at = text.indexOf('<!-- fleet-quickstart');
  assert.ok(at >= 0, 'README.md has the fleet quick start');
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at));
  return block![1]!.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** A shell line's words (single quotes only, which is all the quick start uses). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}

const background: Running[] = [];
let cwd = '';

t('the README quick start works as printed', async () => {
  cwd = await mkdtemp(join(tmpdir(), 'midship-quickstart-'));
  const natsPort = String(await freePort());
  const lines = await quickStart();
  assert.ok(lines.some((l) => l.startsWith('midshipd fleet init')) && lines.some((l) => l.includes('fleet hosts')));
  const outputs: Array<{ line: string; result: RunResult }> = [];
  for (const raw of lines) {
    const bg = raw.endsWith('&');
    const line = raw.replace(/&$/, '').trim().replaceAll('4222', natsPort).replace(/--port 600\d/, '--port 0');
    const [cmd, ...args] = words(line);
    const [bin, argv] = cmd === 'midshipd' ? [process.execPath, [MAIN, ...args]] : cmd === 'midclt' ? [process.execPath, [MIDCLT_BIN, ...args]] : cmd === 'nats-server' ? [natsServerPath()!, args] : [null, []];
    assert.ok(bin, `a command the quick start may use: ${cmd}`);
    if (bg) {
      const p = spawnClient(bin!, argv as string[], { cwd, killAfterMs: 600_000 });
      background.push(p);
      await p.until(({ stdout, stderr }) => /Server is ready|"msg":"midshipd listening"/.test(stdout + stderr), `${cmd} to be ready`);
      continue;
    }
    const run = () => spawnClient(bin!, argv as string[], { cwd, killAfterMs: 60_000 }).done;
    // A person runs `fleet hosts` again until both hosts show up; so does the test.
    const result = line.endsWith('fleet hosts')
      ? await until(async () => {
        const r = await run();
        return (r.stdout.match(/ online /g) ?? []).length === 2 ? r : null;
      }, 'both hosts online in `fleet hosts`', 30_000, 250)
      : await run();
    assert.is(result.code, 0, `${line}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    outputs.push({ line, result });
  }
  const out = (pred: (l: string) => boolean) => outputs.find((o) => pred(o.line))!.result;
  assert.match(out((l) => l.startsWith('midshipd fleet init')).stdout, /wrote fleet\//);
  const hosts = out((l) => l.endsWith('fleet hosts')).stdout;
  assert.match(hosts, /^h1\s+online\s/m);
  assert.match(hosts, /^h2\s+online\s/m);
  assert.is(out((l) => l.includes('call core.ping')).stdout, 'pong\n');
  const job = out((l) => l.includes('call -j'));
  assert.match(job.stdout, /"result": "pong"/);
  assert.match(job.stderr, /Job \d+ started on h2 \(core\.bulk\)/);
  assert.match(out((l) => l.endsWith('fleet jobs')).stdout, /^h2\s+\d+\s+core\.bulk\s+SUCCESS\s/m);
});

t('stop', async () => {
  // Daemons first (a clean stop writes their presence), then the server.
  for (const p of [...background].reverse()) {
    if (p.child.exitCode === null && p.child.signalCode === null) process.kill(p.child.pid!, 'SIGTERM');
    await p.done;
  }
  await rm(cwd, { recursive: true, force: true });
});

test.run();
