// Wire-side figures (issues 12 and 14): the daemon's memory while a 1 GiB job log downloads, and
// a ReDoS-style regex filter over a job history while another client pings. The daemon runs in
// its own process (pinned when possible); this process drives it.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Client } from '../tests/helpers/daemon.js';
import { startNode, stop, waitForLine } from './spawn.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const testModules = fileURLToPath(new URL('../tests/helpers/modules.js', import.meta.url));
const GIB = 1024 ** 3;
const HISTORY = 2_000;
const ATTACK = '(.|.)*X';

export interface WireBenchResult {
  downloadBytes: number;
  downloadMiBps: number;
  rssBaselineMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
  regexHistory: number;
  regexAttackMs: number;
  /** The same query with a plain `=` filter: the cost of reading the history itself. */
  plainFilterMs: number;
  pingsDuringAttack: number;
  pingMaxMsDuringAttack: number;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Append `bytes` of varied text to `path`. */
async function grow(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path, { flags: 'a' });
  const block = Buffer.from(Array.from({ length: 16_384 }, (_, i) => `${i.toString(16).padStart(7, '0')}\n`).join(''));
  for (let written = 0; written < bytes; written += block.length) {
    block.writeUInt32BE(written >>> 0, 0);
    if (!out.write(Buffer.from(block))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/** Download over the unix socket as fast as it comes, discarding the body. */
function download(socketPath: string, path: string): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (b: Buffer) => {
        bytes += b.length;
        hash.update(b);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

export async function benchWire(core: number | null): Promise<WireBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-wire-'));
  process.env.MIDSHIP_MODULES = testModules;
  process.env.MIDSHIP_JOBS_KEEP = '1000000';
  const child = startNode(mainJs, ['--port', '0', '--data-dir', dir, '--log-level', 'warn'], core);
  delete process.env.MIDSHIP_MODULES;
  delete process.env.MIDSHIP_JOBS_KEEP;
  const pid = child.proc.pid!;
  try {
    await waitForLine(child, 'stdout', (l) => l.includes('dashboard at'), 60_000);
    const socketPath = join(dir, 'middlewared.sock');
    const c = await Client.connect(socketPath);
    await c.call('core.set_options', { legacy_jobs: false });

    // 1 GiB log: a finished job's log grown on disk, then downloaded while RSS is sampled.
    await c.call('test.job', { steps: 1, delay: 1 });
    const job = (await c.call('core.get_jobs', [['method', '=', 'test.job']], { order_by: ['-id'], get: true })) as { id: number; logs_path: string };
    await grow(job.logs_path, GIB);
    const url = (await c.call('core.job_download_logs', job.id, 'big.log')) as string;
    const baseline = await rssMb(pid);
    let peak = baseline;
    const sampler = setInterval(() => void rssMb(pid).then((m) => (peak = Math.max(peak, m)), () => undefined), 20);
    const started = performance.now();
    const got = await download(socketPath, url);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, await rssMb(pid));
    if (got.status !== 200) throw new Error(`log download answered ${got.status}`);

    // A history of jobs, then the ReDoS filter while a second client pings every 5 ms.
    for (let i = 0; i < HISTORY; i += 2000) {
      await c.call('core.bulk', 'test.job', Array.from({ length: 2000 }, () => [{ steps: 0, delay: 0 }]));
    }
    const other = await Client.connect(socketPath);
    const pings: number[] = [];
    let attacking = true;
    const pinger = (async () => {
      while (attacking) {
        const t = performance.now();
        await other.call('core.ping');
        pings.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const tp = performance.now();
    await c.call('core.get_jobs', [['description', '=', 'X']], { count: true });
    const plainMs = performance.now() - tp;
    const t0 = performance.now();
    const matched = (await c.call('core.get_jobs', [['description', '~', ATTACK]], { count: true })) as number;
    const attackMs = performance.now() - t0;
    attacking = false;
    await pinger;
    if (matched !== 0) throw new Error(`the attack pattern matched ${matched} jobs`);
    await other.close();
    await c.close();
    return {
      downloadBytes: got.bytes,
      downloadMiBps: got.bytes / 1024 / 1024 / seconds,
      rssBaselineMb: baseline,
      rssPeakMb: peak,
      rssGrowthMb: peak - baseline,
      regexHistory: HISTORY + 1,
      regexAttackMs: attackMs,
      plainFilterMs: plainMs,
      pingsDuringAttack: pings.length,
      pingMaxMsDuringAttack: pings.length ? Math.max(...pings) : 0,
    };
  } finally {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

export function wireTargetLines(r: WireBenchResult): string {
  const ok = (pass: boolean) => (pass ? 'ok  ' : 'MISS');
  return [
    `  ${ok(r.rssGrowthMb < 64)} 1 GiB job log download: daemon RSS ${r.rssBaselineMb.toFixed(0)} -> peak ${r.rssPeakMb.toFixed(0)} MiB, growth ${r.rssGrowthMb.toFixed(1)} MiB (target < 64), ${r.downloadMiBps.toFixed(0)} MiB/s`,
    `  ${ok(r.regexAttackMs < 100)} core.get_jobs [["description","~","${ATTACK}"]] over ${r.regexHistory.toLocaleString('en-US')} jobs: ${r.regexAttackMs.toFixed(1)} ms (target < 100; the same scan with an \`=\` filter: ${r.plainFilterMs.toFixed(1)} ms); another client's core.ping meanwhile: ${r.pingsDuringAttack} answered, slowest ${r.pingMaxMsDuringAttack.toFixed(1)} ms`,
  ].join('\n');
}
