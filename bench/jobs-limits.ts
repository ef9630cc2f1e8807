// Job-engine limits (issue 13): the heap after 50,000 aborted core.job_wait jobs, SIGTERM with
// 50,000 running jobs, and core.ping latency while a cron job prints 2 million lines. Figures,
// not assertions: the machine is shared and noisy.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rpc } from './jobs.js';
import { startNode, stop, waitForLine, type Child } from './spawn.js';
import { latencySummary } from './stats.js';
import { until } from '../tests/helpers/until.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const benchModules = fileURLToPath(new URL('./daemon-modules.js', import.meta.url));

export interface LimitsResult {
  waiters: number;
  heapBaselineMb: number;
  heapAfterAbortMb: number;
  rssAfterAbortMb: number;
  sigtermJobs: number;
  sigtermMs: number;
  sigtermExitCode: number | null;
  sigtermStoppedLogged: boolean;
  chattyLines: number;
  chattyJobMs: number;
  chattyPings: number;
  pingIdle: { p50Ms: number; p99Ms: number };
  pingChatty: { p50Ms: number; p99Ms: number };
}

async function startDaemon(dir: string, core: number | null): Promise<{ child: Child; socket: string; stderr: () => string }> {
  process.env.MIDSHIP_MODULES = benchModules;
  const child = startNode(mainJs, ['--port', '0', '--data-dir', dir, '--log-level', 'info'], core, ['--expose-gc']);
  delete process.env.MIDSHIP_MODULES;
  let err = '';
  child.proc.stderr!.on('data', (d: Buffer) => (err += d.toString().slice(0, 100_000)));
  await waitForLine(child, 'stderr', (l) => l.includes('"midshipd listening"'), 60_000);
  return { child, socket: join(dir, 'middlewared.sock'), stderr: () => err };
}

/** `count` calls spread over `conns`, `inFlight` at a time on each; returns the results in order. */
async function many(conns: Rpc[], inFlight: number, count: number, call: (c: Rpc, i: number) => Promise<unknown>): Promise<unknown[]> {
  const out = new Array<unknown>(count);
  let next = 0;
  await Promise.all(conns.flatMap((c) => Array.from({ length: inFlight }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await call(c, i);
    }
  })));
  return out;
}

async function heapMb(rpc: Rpc): Promise<{ heap: number; rss: number }> {
  const m = (await rpc.call('bench.heap')) as { heapUsed: number; rss: number };
  return { heap: m.heapUsed / 2 ** 20, rss: m.rss / 2 ** 20 };
}

async function countRunning(rpc: Rpc): Promise<number> {
  return (await rpc.call('core.get_jobs', [[['state', 'in', ['WAITING', 'RUNNING']]], { count: true }])) as number;
}

async function untilCount(rpc: Rpc, want: number, ms: number): Promise<void> {
  await until(async () => (await countRunning(rpc)) === want, `${want} active jobs`, ms, 100);
}

/** 50,000 core.job_wait jobs on one running job, all aborted: how much heap stays. Then SIGTERM with 50,000 running. */
async function waitersAndStop(dir: string, core: number | null, n: number): Promise<Pick<LimitsResult, 'waiters' | 'heapBaselineMb' | 'heapAfterAbortMb' | 'rssAfterAbortMb' | 'sigtermJobs' | 'sigtermMs' | 'sigtermExitCode' | 'sigtermStoppedLogged'>> {
  const d = await startDaemon(dir, core);
  const conns = await Promise.all(Array.from({ length: 8 }, () => Rpc.open(d.socket)));
  const rpc = conns[0]!;
  await many(conns, 16, 2000, (c) => c.call('test.job', [{ steps: 0 }])); // warm-up, legacy ids
  await untilCount(rpc, 0, 60_000);
  const base = await heapMb(rpc);
  const target = (await rpc.call('test.until_aborted')) as number;
  const ids = (await many(conns, 16, n, (c) => c.call('core.job_wait', [target]))) as number[];
  await untilCount(rpc, n + 1, 120_000);
  await many(conns, 16, n, (c, i) => c.call('core.job_abort', [ids[i]]));
  await untilCount(rpc, 1, 120_000);
  const after = await heapMb(rpc);

  // SIGTERM with as many jobs running.
  await many(conns, 16, n, (c) => c.call('core.job_wait', [target]));
  await untilCount(rpc, n + 1, 120_000);
  for (const c of conns) c.close();
  const t0 = performance.now();
  const exited = new Promise<number | null>((r) => d.child.proc.once('exit', (code) => r(code)));
  d.child.proc.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
  const sigtermMs = performance.now() - t0;
  await stop(d.child, 100);
  return {
    waiters: n,
    heapBaselineMb: base.heap,
    heapAfterAbortMb: after.heap,
    rssAfterAbortMb: after.rss,
    sigtermJobs: n + 1,
    sigtermMs,
    sigtermExitCode: code,
    sigtermStoppedLogged: d.stderr().includes('"msg":"midshipd stopped"'),
  };
}

/** Sequential core.ping latencies until `done` resolves (at most `max` samples). */
async function pings(rpc: Rpc, done: Promise<unknown> | null, count: number): Promise<{ p50Ms: number; p99Ms: number; n: number }> {
  const samples = new Float64Array(count);
  let n = 0;
  let over = false;
  void done?.then(() => (over = true));
  while (n < count && !(done !== null && over)) {
    const t = performance.now();
    await rpc.call('core.ping');
    samples[n++] = performance.now() - t;
  }
  return { ...latencySummary(samples, n), n };
}

/** core.ping from another client while a cron job prints `lines` lines (its output kept, then capped). */
async function chatty(dir: string, core: number | null, lines: number): Promise<Pick<LimitsResult, 'chattyLines' | 'chattyJobMs' | 'chattyPings' | 'pingIdle' | 'pingChatty'>> {
  const d = await startDaemon(dir, core);
  const rpc = await Rpc.open(d.socket);
  const pinger = await Rpc.open(d.socket);
  await rpc.call('core.set_options', [{ legacy_jobs: false }]);
  const idle = await pings(pinger, null, 2000);
  const cron = (await rpc.call('cronjob.create', [{ user: 'root', command: `seq 1 ${lines}`, stdout: false, enabled: false }])) as { id: number };
  const t0 = performance.now();
  const run = rpc.call('cronjob.run', [cron.id]);
  const busy = await pings(pinger, run, 1_000_000);
  await run;
  const chattyJobMs = performance.now() - t0;
  rpc.close();
  pinger.close();
  await stop(d.child);
  return { chattyLines: lines, chattyJobMs, chattyPings: busy.n, pingIdle: { p50Ms: idle.p50Ms, p99Ms: idle.p99Ms }, pingChatty: { p50Ms: busy.p50Ms, p99Ms: busy.p99Ms } };
}

export async function benchLimits(serverCore: number | null, waiters = 50_000, lines = 2_000_000): Promise<LimitsResult> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-limits-'));
  try {
    const w = await waitersAndStop(join(dir, 'waiters'), serverCore, waiters);
    const c = await chatty(join(dir, 'chatty'), serverCore, lines);
    return { ...w, ...c };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function line(label: string, value: string, target: string, ok: boolean): string {
  return `${ok ? 'PASS' : 'MISS'}  ${label.padEnd(52)} ${value.padStart(14)}   target ${target}`;
}

export function limitsTargetLines(r: LimitsResult): string {
  const grown = r.heapAfterAbortMb - r.heapBaselineMb;
  return [
    line(`heap after ${r.waiters.toLocaleString('en-US')} aborted core.job_wait jobs`, `+${grown.toFixed(1)} MB`, '<= 20 MB over baseline', grown <= 20),
    line('  heap baseline / after (after a full GC)', `${r.heapBaselineMb.toFixed(0)} / ${r.heapAfterAbortMb.toFixed(0)} MB`, '(report)', true),
    line('  daemon RSS after', `${r.rssAfterAbortMb.toFixed(0)} MB`, '(report)', true),
    line(`SIGTERM with ${r.sigtermJobs.toLocaleString('en-US')} running jobs: time to exit`, `${Math.round(r.sigtermMs)} ms`, '< 5000 ms, exit 0', r.sigtermMs < 5000 && r.sigtermExitCode === 0),
    line('  exit status, "midshipd stopped" logged', `${r.sigtermExitCode} / ${r.sigtermStoppedLogged ? 'yes' : 'no'}`, '0 / yes', r.sigtermExitCode === 0 && r.sigtermStoppedLogged),
    line(`core.ping p99 while a cron job prints ${r.chattyLines.toLocaleString('en-US')} lines`, `${r.pingChatty.p99Ms.toFixed(1)} ms`, '< 20 ms', r.pingChatty.p99Ms < 20),
    line('  same, p50 / pings answered / job time', `${r.pingChatty.p50Ms.toFixed(2)} ms / ${r.chattyPings} / ${(r.chattyJobMs / 1000).toFixed(1)} s`, '(report)', true),
    line('  core.ping p99 with the daemon idle', `${r.pingIdle.p99Ms.toFixed(2)} ms`, '(report)', true),
  ].join('\n');
}

/** Standalone: `node dist/bench/jobs-limits.js [waiters] [lines]` prints the figures. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchLimits(0, Number(process.argv[2] ?? 50_000), Number(process.argv[3] ?? 2_000_000));
  console.log(limitsTargetLines(r));
  console.log(JSON.stringify(r, null, 2));
}
