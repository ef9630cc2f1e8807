// Job-engine figures (issues 4, 12, 13): end-to-end throughput of trivial jobs with persistence
// on, with and without fsync; queries, the dashboard's 24-hour summary counts, memory and start-up
// over a 200,000-job history finished within one day. The daemon runs pinned to one core; this
// process drives it from the other.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { WebSocket } from 'ws';
import { JobStore } from '../daemon/jobs/store.js';
import { jobTime, type JobRecord, type JobState } from '../daemon/jobs/types.js';
import { startNode, stop, waitForLine, type Child } from './spawn.js';
import { latencySummary } from './stats.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const testModules = fileURLToPath(new URL('../tests/helpers/modules.js', import.meta.url));
/** 200,000 jobs 400 ms apart: all of them finished within the last 22 hours. */
const DAY_SPACING_MS = 400;

export interface JobBenchResult {
  jobs: number;
  /** With fsync (the default): every group-committed batch synced. */
  jobsPerSecond: number;
  jobsPerSecondNoFsync: number;
  history: number;
  failedPage: { p50Ms: number; p99Ms: number };
  failedCount: { p50Ms: number; p99Ms: number };
  firstPage: { p50Ms: number; p99Ms: number };
  /** core.get_jobs count of one state finished in the last 24 h (the dashboard summary). */
  summaryCount: { p50Ms: number; p99Ms: number };
  rssMb: number;
  /** Spawn to listening, restarting a daemon that already holds the history. */
  startupMs: number;
  /** The same for the very first open after the bulk load (LevelDB compacts it meanwhile). */
  firstStartupMs: number;
  /** core.job_delete of half the history (issue 19), with core.ping answered meanwhile. */
  deleteJobs: DeleteBench;
}

export interface DeleteBench {
  deleted: number;
  ms: number;
  pings: number;
  ping: { p50Ms: number; p99Ms: number };
}

/** A minimal JSON-RPC client over the unix socket (the daemon's local administrator). */
export class Rpc {
  private next = 1;
  private readonly pending = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
      if (typeof m.id === 'number') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    });
  }

  static async open(socketPath: string): Promise<Rpc> {
    const ws = new WebSocket(`ws+unix:${socketPath}:/api/current`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Rpc(ws);
  }

  call(method: string, params: unknown[] = []): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) => (r.error ? reject(new Error(JSON.stringify(r.error))) : resolve(r.result)));
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

export async function startDaemon(dir: string, core: number | null, flags: string[] = []): Promise<{ child: Child; startupMs: number }> {
  const started = performance.now();
  // The test module provides test.noop; retention is raised so the seeded history stays whole.
  process.env.MIDSHIP_MODULES = testModules;
  process.env.MIDSHIP_JOBS_KEEP = '1000000';
  process.env.MIDSHIP_JOBS_KEEP_DAYS = '36500';
  const child = startNode(mainJs, ['--port', '0', '--data-dir', dir, '--log-level', 'info', ...flags], core);
  delete process.env.MIDSHIP_MODULES;
  delete process.env.MIDSHIP_JOBS_KEEP;
  delete process.env.MIDSHIP_JOBS_KEEP_DAYS;
  await waitForLine(child, 'stderr', (l) => l.includes('"midshipd listening"'), 60_000);
  return { child, startupMs: performance.now() - started };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** 8 connections x 16 jobs in flight, new-style calls: each returns when its job has ended. */
export async function throughput(socketPath: string, total: number): Promise<number> {
  const conns = await Promise.all(Array.from({ length: 8 }, () => Rpc.open(socketPath)));
  for (const c of conns) await c.call('core.set_options', [{ legacy_jobs: false }]);
  for (let i = 0; i < 500; i++) await conns[0]!.call('test.noop'); // warm-up
  let issued = 0;
  const started = performance.now();
  await Promise.all(conns.flatMap((c) => Array.from({ length: 16 }, async () => {
    while (issued < total) {
      issued++;
      await c.call('test.noop');
    }
  })));
  const seconds = (performance.now() - started) / 1000;
  for (const c of conns) c.close();
  return total / seconds;
}

/** Write a history of `n` jobs finished within the last day straight into the store (10% FAILED). */
async function seedHistory(dir: string, n: number): Promise<void> {
  const db = new ClassicLevel<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
  await db.open();
  const store = new JobStore(db);
  await store.open();
  const methods = ['cronjob.run', 'pool.scrub', 'test.job', 'core.bulk'];
  const now = Date.now();
  for (let i = 0; i < n; i += 5000) {
    const puts: Array<Promise<void>> = [];
    for (let k = i; k < Math.min(n, i + 5000); k++) {
      const state: JobState = k % 10 === 3 ? 'FAILED' : k % 50 === 7 ? 'ABORTED' : 'SUCCESS';
      const id = await store.allocateId();
      const r: JobRecord = {
        id, message_ids: [], method: methods[k % methods.length]!, arguments: [k % 100, { name: `item ${k}` }], transient: false,
        description: `Job ${k}`, abortable: true, logs_path: null, logs_excerpt: null,
        progress: { percent: 100, description: 'done', extra: null }, result: state === 'SUCCESS' ? { ok: true, n: k } : null,
        result_encoding_error: null, error: state === 'FAILED' ? '[EIO] Disk went away' : null, exception: null,
        exc_info: state === 'FAILED' ? { repr: 'CallError("Disk went away", 5, None)', type: 'CallError', errno: 5, extra: null } : null,
        state, time_started: jobTime(now - (n - k) * DAY_SPACING_MS), time_finished: jobTime(now - (n - k) * DAY_SPACING_MS + 500),
        credentials: { type: 'UNIX_SOCKET', data: { username: 'root' } }, owner: 'UNIX_SOCKET:root',
      };
      puts.push(store.put(r, null));
    }
    await Promise.all(puts);
  }
  await db.close();
}

/** core.job_delete of `filters` on one connection while another pings one call after another until it returns. */
async function deleteWhilePinging(socketPath: string, filters: unknown[]): Promise<DeleteBench> {
  const [deleter, pinger] = await Promise.all([Rpc.open(socketPath), Rpc.open(socketPath)]);
  try {
    const samples: number[] = [];
    let done = false;
    const started = performance.now();
    const deleting = deleter.call('core.job_delete', [filters]).then((n) => {
      done = true;
      return { n: n as number, ms: performance.now() - started };
    });
    while (!done) {
      const t = performance.now();
      await pinger.call('core.ping');
      samples.push(performance.now() - t);
    }
    const { n, ms } = await deleting;
    return { deleted: n, ms, pings: samples.length, ping: latencySummary(Float64Array.from(samples), samples.length) };
  } finally {
    deleter.close();
    pinger.close();
  }
}

async function timed(times: number, fn: () => Promise<unknown>): Promise<{ p50Ms: number; p99Ms: number }> {
  const samples = new Float64Array(times);
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    samples[i] = performance.now() - t;
  }
  return latencySummary(samples, times);
}

export async function benchJobs(serverCore: number | null, clientCore: number | null, history = 200_000, jobs = 20_000): Promise<JobBenchResult> {
  if (clientCore !== null) spawnSync('taskset', ['-pc', String(clientCore), String(process.pid)], { stdio: 'ignore' });
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-jobs-'));
  try {
    const seedDir = join(dir, 'history');
    await seedHistory(seedDir, history);
    const run = join(dir, 'run');
    let d = await startDaemon(run, serverCore, ['--fsync']);
    const jobsPerSecond = await throughput(join(run, 'middlewared.sock'), jobs);
    await stop(d.child);
    const runNoSync = join(dir, 'run-nofsync');
    d = await startDaemon(runNoSync, serverCore, ['--no-fsync']);
    const jobsPerSecondNoFsync = await throughput(join(runNoSync, 'middlewared.sock'), jobs);
    await stop(d.child);
    d = await startDaemon(seedDir, serverCore);
    const rpc = await Rpc.open(join(seedDir, 'middlewared.sock'));
    const failedPage = await timed(50, () => rpc.call('core.get_jobs', [[['state', '=', 'FAILED']], { order_by: ['-id'], limit: 50 }]));
    const failedCount = await timed(20, () => rpc.call('core.get_jobs', [[['state', '=', 'FAILED']], { count: true }]));
    const firstPage = await timed(50, () => rpc.call('core.get_jobs', [[], { order_by: ['-id'], limit: 50 }]));
    // The dashboard's summary: jobs of a state finished in the last 24 hours (all 200,000 did).
    let k = 0;
    const summaryCount = await timed(40, () => {
      const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
      return rpc.call('core.get_jobs', [[['state', '=', k++ % 2 ? 'FAILED' : 'SUCCESS'], ['time_finished.$date', '>=', since]], { count: true }]);
    });
    const rss = await rssMb(d.child.proc.pid!);
    rpc.close();
    await stop(d.child);
    const firstStartupMs = d.startupMs;
    // A restart: how long a daemon with this history takes to come back (median of 3).
    const restarts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const again = await startDaemon(seedDir, serverCore);
      restarts.push(again.startupMs);
      await stop(again.child);
    }
    restarts.sort((a, b) => a - b);
    // Half the history (two of its four methods) deleted while another client pings.
    d = await startDaemon(seedDir, serverCore);
    const deleteJobs = await deleteWhilePinging(join(seedDir, 'middlewared.sock'), [['method', 'in', ['cronjob.run', 'pool.scrub']]]);
    await stop(d.child);
    return { jobs, jobsPerSecond, jobsPerSecondNoFsync, history, failedPage, failedCount, firstPage, summaryCount, rssMb: rss, startupMs: restarts[1]!, firstStartupMs, deleteJobs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function line(label: string, value: string, target: string, ok: boolean): string {
  return `${ok ? 'PASS' : 'MISS'}  ${label.padEnd(52)} ${value.padStart(14)}   target ${target}`;
}

export function jobTargetLines(r: JobBenchResult): string {
  return [
    line(`job throughput, fsync (${r.jobs.toLocaleString('en-US')} jobs, 8 x 16)`, `${Math.round(r.jobsPerSecond).toLocaleString('en-US')} jobs/s`, '>= 10,000 jobs/s', r.jobsPerSecond >= 10_000),
    line('  same, --no-fsync', `${Math.round(r.jobsPerSecondNoFsync).toLocaleString('en-US')} jobs/s`, '(report)', true),
    line(`get_jobs FAILED, limit 50, -id (${r.history.toLocaleString('en-US')} jobs) p50`, `${r.failedPage.p50Ms.toFixed(1)} ms`, '< 20 ms', r.failedPage.p50Ms < 20),
    line('  same, p99', `${r.failedPage.p99Ms.toFixed(1)} ms`, '(report)', true),
    line('get_jobs FAILED count p50', `${r.failedCount.p50Ms.toFixed(1)} ms`, '< 300 ms', r.failedCount.p50Ms < 300),
    line('get_jobs first page (limit 50, -id) p50', `${r.firstPage.p50Ms.toFixed(1)} ms`, '(report)', true),
    line('24 h summary count (state + time_finished range) p50', `${r.summaryCount.p50Ms.toFixed(1)} ms`, '< 100 ms', r.summaryCount.p50Ms < 100),
    line('  same, p99', `${r.summaryCount.p99Ms.toFixed(1)} ms`, '(report)', true),
    line('daemon RSS with that history (after the queries)', `${r.rssMb.toFixed(0)} MB`, '< 150 MB', r.rssMb < 150),
    line('start-up with that history (restart: spawn to listening)', `${Math.round(r.startupMs)} ms`, '< 1000 ms', r.startupMs < 1000),
    line('  first open right after the bulk load (compacting)', `${Math.round(r.firstStartupMs)} ms`, '(report)', true),
    line(`core.job_delete of ${r.deleteJobs.deleted.toLocaleString('en-US')} jobs (filter on method)`, `${(r.deleteJobs.ms / 1000).toFixed(1)} s`, '(report)', true),
    line('  same, jobs deleted per second', `${Math.round(r.deleteJobs.deleted / (r.deleteJobs.ms / 1000)).toLocaleString('en-US')} jobs/s`, '(report)', true),
    line(`  core.ping p99 meanwhile (${r.deleteJobs.pings.toLocaleString('en-US')} pings)`, `${r.deleteJobs.ping.p99Ms.toFixed(1)} ms`, '< 20 ms', r.deleteJobs.ping.p99Ms < 20),
    line('  core.ping p50 meanwhile', `${r.deleteJobs.ping.p50Ms.toFixed(1)} ms`, '(report)', true),
  ].join('\n');
}

/** Standalone: `node dist/bench/jobs.js` prints the figures. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchJobs(0, 1);
  console.log(JSON.stringify(r, null, 2));
}
