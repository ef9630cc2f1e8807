// The scheduler through the daemon (issue 19): midshipd started as a child on a data dir seeded
// with 10,000 enabled cron jobs (distinct schedules in 8 zones, none due for months), against the
// same daemon on an empty data dir: start-up time, the cron module's own start, idle CPU and RSS.
// Then catch-up after an outage: 1,000 missed runs of one cron job (catch_up ALL, one after
// another), and one missed run of each of 1,000 cron jobs (under MIDSHIP_MAX_RUNNING_JOBS=16),
// every run a real process, timed from the moment the daemon listens to the last run's end.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import { coreModule } from '../methods/core.js';
import { cronjobModule } from '../methods/cronjob.js';
import { normalizeCreate } from '../methods/cronjob/data.js';
import type { CronRecord } from '../methods/cronjob/store.js';
import type { CronJobCreateT } from '../schemas/cronjob.js';
import { jobsModule } from '../methods/jobs.js';
import { until } from '../tests/helpers/until.js';
import { processCpuMs } from './cpu.js';
import { Rpc } from './jobs.js';
import { startNode, stop, waitForLine, type Child } from './spawn.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const JOBS = 10_000;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'America/Sao_Paulo', 'Asia/Kolkata', 'Europe/London'];
const MINUTE = 60_000;

export interface CronDaemonBenchResult {
  jobs: number;
  startupEmptyMs: number;
  startupWithJobsMs: number;
  /** CPU the daemon used until it listened: a figure the host's load does not inflate. */
  startupCpuEmptyMs: number;
  startupCpuWithJobsMs: number;
  /** The cron module's start with 10,000 jobs (arming them), as it logs it: wall and CPU time. */
  cronStartMs: number;
  cronStartCpuMs: number;
  idleWindowS: number;
  idleCpuEmptyPct: number;
  idleCpuWithJobsPct: number;
  rssEmptyMb: number;
  rssWithJobsMb: number;
  catchUpOneJobRuns: number;
  catchUpOneJobMs: number;
  catchUpManyJobsRuns: number;
  catchUpManyJobsMs: number;
}

const AUTHOR = { type: 'INTERNAL' as const, username: 'root', user_id: null, full_admin: true };

function record(id: number, data: Partial<CronJobCreateT>): CronRecord {
  return { id, ...normalizeCreate({ command: 'true', user: 'root', ...data } as CronJobCreateT), author: AUTHOR };
}

/** Writes cron jobs (and cursors) straight into a data dir's database, through a daemon started in this process. */
async function seed(dir: string, records: CronRecord[], cursors: Map<number, number>): Promise<void> {
  const d = await Daemon.start(defaultConfig({ dataDir: dir, port: 0, socketPath: join(dir, 'seed.sock'), logLevel: 'error' }), [coreModule, jobsModule, cronjobModule]);
  try {
    const db = d.sublevel('cronjob');
    const key = (prefix: string, id: number) => prefix + String(id).padStart(10, '0');
    for (let i = 0; i < records.length; i += 1000) {
      await db.batch(records.slice(i, i + 1000).map((r) => ({ type: 'put' as const, key: key('rec:', r.id), value: r })));
    }
    await db.batch([...cursors].map(([id, at]) => ({ type: 'put' as const, key: key('cur:', id), value: at })));
    await db.put('meta:next_id', records.length + 1);
  } finally {
    await d.stop();
  }
}

/** 10,000 distinct schedules in 8 zones, all in the month half a year away: none fires while measured. */
function idleRecords(): CronRecord[] {
  const month = String(((new Date().getUTCMonth() + 6) % 12) + 1);
  return Array.from({ length: JOBS }, (_, k) => {
    const i = k + 1;
    const schedule = { minute: String(i % 60), hour: String(Math.floor(i / 60) % 24), dom: String((Math.floor(i / 1440) % 28) + 1), month, timezone: ZONES[i % ZONES.length]!, ...(i % 4 === 0 ? { jitter: 60 } : {}) };
    return record(i, { schedule, description: `bench ${i}` });
  });
}

interface Running {
  child: Child;
  startupMs: number;
  startupCpuMs: number;
  /** The cron module's "cron jobs scheduled" line. */
  cronStart: { ms: number; cpuMs: number };
  rpc: Rpc;
}

async function start(dir: string, core: number | null, env: Record<string, string> = {}): Promise<Running> {
  // The child inherits the environment as it is when spawned.
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  const t0 = performance.now();
  const child = startNode(mainJs, ['--port', '0', '--data-dir', dir, '--log-level', 'info'], core);
  for (const k of Object.keys(env)) delete process.env[k];
  let cronStart = { ms: -1, cpuMs: -1 };
  const line = waitForLine(child, 'stderr', (l) => l.includes('"cron jobs scheduled"'), 60_000).then((l) => (cronStart = JSON.parse(l) as { ms: number; cpuMs: number }));
  await waitForLine(child, 'stderr', (l) => l.includes('"midshipd listening"'), 60_000);
  const startupMs = performance.now() - t0;
  const startupCpuMs = (await processCpuMs(child.proc.pid!)) ?? -1;
  await line;
  return { child, startupMs, startupCpuMs, cronStart, rpc: await Rpc.open(join(dir, 'middlewared.sock')) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Share of one core the daemon uses over `windowS`, after it settled. */
async function idle(r: Running, windowS: number): Promise<{ cpuPct: number; rssMb: number }> {
  const pid = r.child.proc.pid!;
  await sleep(3000);
  const before = (await processCpuMs(pid))!;
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const used = (await processCpuMs(pid))! - before;
  return { cpuPct: (used / (performance.now() - t0)) * 100, rssMb: await rssMb(pid) };
}

/** Runs of cron.run ended as caught up, counted until `want`; returns ms from listening. */
async function caughtUp(r: Running, want: number, timeoutMs: number): Promise<{ runs: number; ms: number }> {
  const t0 = performance.now();
  let runs = 0;
  await until(async () => {
    runs = (await r.rpc.call('core.get_jobs', [[['method', '=', 'cronjob.run'], ['arguments.2.caught_up', '=', true], ['state', 'in', ['SUCCESS', 'FAILED', 'ABORTED']]], { count: true }])) as number;
    return runs >= want;
  }, `${want} caught-up runs`, timeoutMs, 100);
  return { runs, ms: performance.now() - t0 };
}

async function shutdown(r: Running): Promise<void> {
  r.rpc.close();
  await stop(r.child, 10_000);
}

export async function benchCronDaemon(core: number | null, idleS = 10): Promise<CronDaemonBenchResult> {
  const dirs: string[] = [];
  const dir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'midship-bench-cron-'));
    dirs.push(d);
    return d;
  };
  try {
    // Empty, then 10,000 enabled cron jobs.
    const empty = await start(await dir(), core);
    const emptyIdle = await idle(empty, idleS);
    await shutdown(empty);
    const seeded = await dir();
    await seed(seeded, idleRecords(), new Map());
    const full = await start(seeded, core);
    const fullIdle = await idle(full, idleS);
    await shutdown(full);

    // One cron job every minute that missed the last 1,000 (catch_up ALL runs them one after another).
    const now = Date.now();
    const oneDir = await dir();
    const lastMinute = Math.floor(now / MINUTE) * MINUTE;
    await seed(oneDir, [record(1, { schedule: { minute: '*', timezone: 'UTC' }, catch_up_window: 86_400, catch_up: 'ALL' })], new Map([[1, lastMinute - 1000 * MINUTE + 1]]));
    const one = await start(oneDir, core);
    const oneRuns = await caughtUp(one, 1000, 600_000);
    await shutdown(one);

    // 1,000 cron jobs, hourly at the minute ten minutes ago, each with one missed run.
    const manyDir = await dir();
    const missed = new Date(Date.now() - 10 * MINUTE).getUTCMinutes();
    const many = Array.from({ length: 1000 }, (_, k) => record(k + 1, { schedule: { minute: String(missed), hour: '*', timezone: 'UTC' }, catch_up_window: 3600, catch_up: 'ALL' }));
    await seed(manyDir, many, new Map(many.map((r) => [r.id, Date.now() - 20 * MINUTE])));
    const manyRun = await start(manyDir, core, { MIDSHIP_MAX_RUNNING_JOBS: '16' });
    const manyRuns = await caughtUp(manyRun, 1000, 600_000);
    await shutdown(manyRun);

    const r1 = (n: number) => Math.round(n * 10) / 10;
    return {
      jobs: JOBS,
      startupEmptyMs: Math.round(empty.startupMs),
      startupWithJobsMs: Math.round(full.startupMs),
      startupCpuEmptyMs: empty.startupCpuMs,
      startupCpuWithJobsMs: full.startupCpuMs,
      cronStartMs: full.cronStart.ms,
      cronStartCpuMs: full.cronStart.cpuMs,
      idleWindowS: idleS,
      idleCpuEmptyPct: Math.round(emptyIdle.cpuPct * 1000) / 1000,
      idleCpuWithJobsPct: Math.round(fullIdle.cpuPct * 1000) / 1000,
      rssEmptyMb: r1(emptyIdle.rssMb),
      rssWithJobsMb: r1(fullIdle.rssMb),
      catchUpOneJobRuns: oneRuns.runs,
      catchUpOneJobMs: Math.round(oneRuns.ms),
      catchUpManyJobsRuns: manyRuns.runs,
      catchUpManyJobsMs: Math.round(manyRuns.ms),
    };
  } finally {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

export function cronDaemonLines(r: CronDaemonBenchResult): string {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  const perS = (runs: number, ms: number) => Math.round(runs / (ms / 1000));
  return [
    `  midshipd start-up, empty data dir / ${r.jobs.toLocaleString('en-US')} enabled cron jobs   ${r.startupEmptyMs} ms / ${r.startupWithJobsMs} ms wall, ${r.startupCpuEmptyMs} / ${r.startupCpuWithJobsMs} ms CPU`,
    `  the cron module arming them                                   ${r.cronStartMs} ms wall, ${r.cronStartCpuMs} ms CPU`,
    `  midshipd idle CPU over ${r.idleWindowS} s, empty / ${r.jobs.toLocaleString('en-US')} cron jobs      ${r.idleCpuEmptyPct}% / ${r.idleCpuWithJobsPct}% of a core; RSS ${r.rssEmptyMb} / ${r.rssWithJobsMb} MB`,
    `  catch-up through the daemon: ${r.catchUpOneJobRuns.toLocaleString('en-US')} missed runs of one cron job       ${r.catchUpOneJobMs} ms = ${perS(r.catchUpOneJobRuns, r.catchUpOneJobMs)} runs/s (one after another, each a process)`,
    `  catch-up through the daemon: 1 run each of ${r.catchUpManyJobsRuns.toLocaleString('en-US')} cron jobs      ${r.catchUpManyJobsMs} ms = ${perS(r.catchUpManyJobsRuns, r.catchUpManyJobsMs)} runs/s (16 at a time)`,
    '',
    `  ${mark(r.startupWithJobsMs - r.startupEmptyMs < 1000)} 10,000 cron jobs add under 1 s to the daemon's start-up (wall)`,
    `  ${mark(r.startupCpuWithJobsMs - r.startupCpuEmptyMs < 1000)} 10,000 cron jobs add under 1 s of CPU to the daemon's start-up`,
    `  ${mark(r.idleCpuWithJobsPct < 1)} the daemon idles under 1 % of a core with 10,000 cron jobs`,
  ].join('\n');
}
