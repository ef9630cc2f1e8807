// Scheduler figures (issue 19): start-up time to arm 10,000 enabled cron jobs, the process's idle
// CPU with them armed on the real clock, memory, and catch-up throughput for 1,000 missed runs.
// Runs in its own process (`node dist/bench/scheduling.js [--idle-s S] [--rounds N] [--json]`);
// `npm run bench` starts it pinned to one core.
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Cron } from 'croner';
import { Calendar } from '../methods/scheduling/calendar.js';
import { planCatchUp } from '../methods/scheduling/catch-up.js';
import { SystemClock } from '../methods/scheduling/clock.js';
import { ScheduleEngine, type JobTiming } from '../methods/scheduling/engine.js';
import { DEFAULT_SCHEDULE, type ScheduleT } from '../methods/scheduling/schemas.js';
import { VirtualClock } from '../methods/scheduling/virtual-clock.js';
import { busyFraction } from './idle.js';
import { benchCronDaemon, cronDaemonLines, type CronDaemonBenchResult } from './scheduling-daemon.js';
import { startNode, runToEnd } from './spawn.js';
import { median } from './stats.js';

export interface SchedulingBenchResult {
  jobs: number;
  distinctPatterns: number;
  /** Arming every job with 10,000 distinct schedules: the first round in a fresh process (cold JIT, as a daemon's start). */
  startupDistinctFirstMs: number;
  /** The same, median of the rounds (new caches each round). */
  startupDistinctMs: number;
  /** The same with 20 schedules shared by all jobs (the common case). */
  startupSharedMs: number;
  idleWindowS: number;
  /** Share of one core used over the window, without and with 10,000 jobs armed. */
  idleCpuBaselinePct: number;
  idleCpuPct: number;
  runsInIdleWindow: number;
  /** Heap the armed engine holds for 10,000 distinct jobs. */
  engineHeapMb: number;
  /** What one croner instance per job (the cron module's scheduler before issue 19) would hold. */
  cronerPerJobHeapMb: number;
  catchUpOneJobMs: number;
  catchUpOneJobRunsPerS: number;
  catchUpManyJobsMs: number;
  catchUpManyJobsRunsPerS: number;
}

const JOBS = 10_000;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'America/Sao_Paulo', 'Asia/Kolkata', 'Europe/London'];

/** Job i's timing: distinct fields for every i (minute, hour, day of month), zones and jitter mixed. */
function distinctTiming(i: number): JobTiming {
  const s: ScheduleT = {
    ...DEFAULT_SCHEDULE,
    minute: String(i % 60),
    hour: i % 10 === 0 ? '*' : String(Math.floor(i / 60) % 24),
    dom: i < 1440 ? '*' : String((Math.floor(i / 1440) % 28) + 1),
    timezone: ZONES[i % ZONES.length]!,
    ...(i % 4 === 0 ? { jitter: 60 } : {}),
  };
  return { schedules: [s], catchUpWindow: 0, catchUp: 'ONE' };
}

const SHARED: ScheduleT[] = Array.from({ length: 20 }, (_, k) => ({ ...DEFAULT_SCHEDULE, minute: String((k * 7) % 60), hour: k < 10 ? '*' : String(k) }));
const sharedTiming = (i: number): JobTiming => ({ schedules: [SHARED[i % SHARED.length]!], catchUpWindow: 0, catchUp: 'ONE' });

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function armAll(timingOf: (i: number) => JobTiming, onRun: () => void): { engine: ScheduleEngine; ms: number } {
  const t0 = performance.now();
  const engine = new ScheduleEngine({ clock: new SystemClock(), calendar: new Calendar(), onRun });
  for (let i = 1; i <= JOBS; i++) engine.set(i, timingOf(i), Date.now());
  engine.start();
  return { engine, ms: performance.now() - t0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cpuShare(windowMs: number): Promise<number> {
  const before = process.cpuUsage();
  const t0 = performance.now();
  await sleep(windowMs);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
}

export async function measureScheduling(opts: { idleS: number; rounds: number }): Promise<SchedulingBenchResult> {
  const gc = gcFn();
  const distinct = new Set(Array.from({ length: JOBS }, (_, i) => JSON.stringify(distinctTiming(i + 1).schedules[0])));

  // Start-up, cold each round (a new Calendar: zone tables and patterns compiled again).
  const distinctMs: number[] = [];
  const sharedMs: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const a = armAll(distinctTiming, () => undefined);
    distinctMs.push(a.ms);
    a.engine.stop();
    const b = armAll(sharedTiming, () => undefined);
    sharedMs.push(b.ms);
    b.engine.stop();
    gc();
  }

  // Idle: the same process over the same window, without and then with 10,000 jobs armed.
  gc();
  const baseline = await cpuShare(opts.idleS * 1000);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  let runs = 0;
  const armed = armAll(distinctTiming, () => runs++);
  gc();
  const engineHeap = process.memoryUsage().heapUsed - heapBefore;
  runs = 0;
  const idle = await cpuShare(opts.idleS * 1000);
  const runsInWindow = runs;
  armed.engine.stop();

  // One croner instance per job, as the cron module's scheduler kept before: measured on 500.
  gc();
  const cronBefore = process.memoryUsage().heapUsed;
  const crons = Array.from({ length: 500 }, (_, i) => new Cron(`${i % 60} ${i % 24} * * *`, { paused: true }));
  gc();
  const perCron = (process.memoryUsage().heapUsed - cronBefore) / crons.length;
  crons.length = 0;

  // Catch-up: 1,000 missed runs of one job (every minute, Berlin), and 1 missed run of each of
  // 1,000 jobs fired through a starting engine.
  const now = Date.UTC(2025, 2, 30, 12, 0); // the Berlin spring-forward day, a gap on the way
  const oneJobMs: number[] = [];
  const manyMs: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const cal = new Calendar({ defaultTimeZone: 'Europe/Berlin' });
    const every = [cal.compile({ ...DEFAULT_SCHEDULE, minute: '*' })];
    const t0 = performance.now();
    const plan = planCatchUp(cal, every, now - 1000 * 60_000, now, { windowS: 86_400, mode: 'ALL' });
    oneJobMs.push(performance.now() - t0);
    if (plan.runs.length !== 1000) throw new Error(`catch-up planned ${plan.runs.length} runs, not 1000`);

    const clock = new VirtualClock(now);
    let fired = 0;
    const engine = new ScheduleEngine({ clock, calendar: new Calendar({ defaultTimeZone: 'Europe/Berlin' }), onRun: () => fired++ });
    for (let i = 1; i <= 1000; i++) {
      engine.set(i, { schedules: [{ ...DEFAULT_SCHEDULE, minute: String(i % 60) }], catchUpWindow: 7200, catchUp: 'ALL' }, now - 3_600_000);
    }
    const t1 = performance.now();
    engine.start();
    manyMs.push(performance.now() - t1);
    if (fired !== 1000) throw new Error(`catch-up fired ${fired} runs, not 1000`);
    engine.stop();
  }

  const round1 = (n: number) => Math.round(n * 10) / 10;
  return {
    jobs: JOBS,
    distinctPatterns: distinct.size,
    startupDistinctFirstMs: round1(distinctMs[0]!),
    startupDistinctMs: round1(median(distinctMs)),
    startupSharedMs: round1(median(sharedMs)),
    idleWindowS: opts.idleS,
    idleCpuBaselinePct: Math.round(baseline * 1000) / 1000,
    idleCpuPct: Math.round(idle * 1000) / 1000,
    runsInIdleWindow: runsInWindow,
    engineHeapMb: round1(engineHeap / 1e6),
    cronerPerJobHeapMb: round1((perCron * JOBS) / 1e6),
    catchUpOneJobMs: round1(median(oneJobMs)),
    catchUpOneJobRunsPerS: Math.round(1000 / (median(oneJobMs) / 1000)),
    catchUpManyJobsMs: round1(median(manyMs)),
    catchUpManyJobsRunsPerS: Math.round(1000 / (median(manyMs) / 1000)),
  };
}

export function schedulingLines(r: SchedulingBenchResult & { daemon?: CronDaemonBenchResult }): string {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  return [
    '  The engine alone, in one process:',
    `  arm ${r.jobs.toLocaleString('en-US')} jobs, ${r.distinctPatterns.toLocaleString('en-US')} distinct schedules in 8 zones   ${r.startupDistinctFirstMs} ms first in a fresh process, ${r.startupDistinctMs} ms median`,
    `  arm ${r.jobs.toLocaleString('en-US')} jobs sharing 20 schedules                        ${r.startupSharedMs} ms median`,
    `  idle CPU over ${r.idleWindowS} s with them armed (real clock)                  ${r.idleCpuPct}% of a core (process alone: ${r.idleCpuBaselinePct}%), ${r.runsInIdleWindow} runs fired`,
    `  heap of the armed engine                                          ${r.engineHeapMb} MB (one croner instance per job, as the cron module kept before: ${r.cronerPerJobHeapMb} MB)`,
    `  catch-up: 1,000 missed runs of one job (Berlin, across a DST gap)  ${r.catchUpOneJobMs} ms = ${r.catchUpOneJobRunsPerS.toLocaleString('en-US')} runs/s`,
    `  catch-up: 1 missed run of each of 1,000 jobs, fired at start       ${r.catchUpManyJobsMs} ms = ${r.catchUpManyJobsRunsPerS.toLocaleString('en-US')} runs/s`,
    '',
    `  ${mark(r.startupDistinctFirstMs < 1000)} start-up with 10,000 jobs under 1 s (worst case: all schedules distinct, cold process)`,
    `  ${mark(r.idleCpuPct - r.idleCpuBaselinePct < 1)} idle CPU added by 10,000 jobs under 1 % of a core`,
    ...(r.daemon ? ['', '  Through midshipd (cron jobs in its database, runs as real processes):', cronDaemonLines(r.daemon)] : []),
  ].join('\n');
}

const thisScript = fileURLToPath(import.meta.url);

/**
 * Runs the engine measurement in its own process (on `core` when given), as `npm run bench` does,
 * then the same through midshipd (scheduling-daemon.ts).
 */
export async function benchScheduling(core: number | null, opts = { idleS: 10, rounds: 3 }): Promise<SchedulingBenchResult & { daemon: CronDaemonBenchResult }> {
  const child = startNode(thisScript, ['--json', '--idle-s', String(opts.idleS), '--rounds', String(opts.rounds)], core);
  const out = await runToEnd(child, 120_000 + opts.idleS * 3000);
  const engine = JSON.parse(out.trim().split('\n').pop()!) as SchedulingBenchResult;
  return { ...engine, daemon: await benchCronDaemon(core, opts.idleS) };
}

function bounded(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} needs an integer ${min}-${max}`);
  return n;
}

if (process.argv[1] === thisScript) {
  const argv = process.argv.slice(2);
  const opts = { idleS: 10, rounds: 3 };
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--idle-s') opts.idleS = bounded(a, argv[++i], 1, 60);
    else if (a === '--rounds') opts.rounds = bounded(a, argv[++i], 1, 10);
    else if (a === '--json') json = true;
    else {
      console.error(`usage: node dist/bench/scheduling.js [--idle-s S (1-60)] [--rounds N (1-10)] [--json]`);
      process.exit(2);
    }
  }
  const busy = json ? null : await busyFraction(1000);
  if (busy !== null) console.log(`CPU busy before start: ${Math.round(busy * 100)}%${busy > 0.15 ? '  WARNING: something else is running; figures will be noisy' : ''}`);
  await measureScheduling(opts).then(
    (r) => console.log(json ? JSON.stringify(r) : `Scheduler (issue 19), node ${process.version}\n\n${schedulingLines(r)}`),
    (err: unknown) => {
      console.error(`scheduling bench failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
