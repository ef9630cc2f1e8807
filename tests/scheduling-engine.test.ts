// The scheduler over a virtual clock: one timer for all jobs, order of runs, jitter bounds,
// cursors, changes while running, late and slept-through runs, errors in callbacks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Calendar } from '../methods/scheduling/calendar.js';
import { LATE_GRACE_MS, ScheduleEngine, type EngineOptions, type JobTiming, type ScheduledRun } from '../methods/scheduling/engine.js';
import { DEFAULT_SCHEDULE, type ScheduleT } from '../methods/scheduling/schemas.js';
import { VirtualClock } from '../methods/scheduling/virtual-clock.js';

const Z = (iso: string) => Date.parse(iso);
const T0 = Z('2025-06-02T00:00:00Z');
const S = (s: Partial<ScheduleT>): ScheduleT => ({ ...DEFAULT_SCHEDULE, ...s });
const timing = (...schedules: Array<Partial<ScheduleT>>): JobTiming => ({ schedules: schedules.map(S), catchUpWindow: 0, catchUp: 'ONE' });

function setup(extra: Partial<EngineOptions> = {}) {
  const clock = new VirtualClock(T0);
  const runs: ScheduledRun[] = [];
  const cursors: Array<[number, number, boolean]> = [];
  const engine = new ScheduleEngine({
    clock,
    calendar: new Calendar({ defaultTimeZone: 'UTC' }),
    onRun: (r) => runs.push(r),
    onCursor: (id, c, dropped) => cursors.push([id, c, dropped]),
    ...extra,
  });
  return { clock, runs, cursors, engine };
}

function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

test('a thousand jobs, one timer: armed on the earliest, and each job runs as often as its schedule says', () => {
  const { clock, runs, engine } = setup();
  for (let id = 1; id <= 1000; id++) engine.set(id, timing({ minute: String(id % 60), hour: id % 2 === 0 ? '*' : String(id % 24) }));
  engine.start();
  assert.is(clock.pending, 1, 'one clock timer for all jobs');
  assert.is(clock.nextAt(), T0 + 120_000, 'the earliest: job 2, hourly at minute 2');
  clock.advance(86_400_000);
  const perJob = new Map<number, number>();
  for (const r of runs) perJob.set(r.jobId, (perJob.get(r.jobId) ?? 0) + 1);
  for (let id = 1; id <= 1000; id++) {
    // Hourly jobs at minute 0 first run at 01:00; the run at 24:00 is the day's last instant.
    const want = id % 2 === 0 ? 24 : 1;
    assert.is(perJob.get(id), want, `job ${id}`);
  }
  for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.firedAt >= runs[i - 1]!.firedAt, 'fired in time order');
  for (const r of runs) {
    assert.is(r.firedAt, r.scheduledAt);
    assert.is(r.cursor, r.scheduledAt);
    assert.is(engine.cursor(r.jobId) !== null, true);
  }
  assert.is(clock.pending, 1);
});

test('jitter: each run 0 to N s after its time, never reaching the next one; the random source decides', () => {
  const { clock, runs, engine } = setup({ random: seeded(1) });
  engine.set(1, timing({ minute: '*/10', jitter: 120 }));
  engine.set(2, timing({ minute: '*', jitter: 300 }));
  engine.start();
  clock.advance(6 * 3_600_000 + 3 * 60_000);
  const delays = (id: number) => runs.filter((r) => r.jobId === id && r.scheduledAt <= T0 + 6 * 3_600_000).map((r) => r.firedAt - r.scheduledAt);
  const d1 = delays(1);
  assert.is(d1.length, 36);
  assert.ok(d1.every((d) => d >= 0 && d <= 120_000), 'within 0-120 s');
  assert.ok(Math.max(...d1) - Math.min(...d1) > 30_000, 'spread out, not constant');
  const d2 = delays(2);
  assert.is(d2.length, 360, 'no run of the every-minute job lost to a 300 s jitter');
  assert.ok(d2.every((d) => d >= 0 && d < 60_000), 'capped below the next scheduled minute');
  // The extremes of the source: 0 gives no delay, just under 1 gives the full jitter.
  for (const [r, want] of [[0, 0], [0.9999999, 120_000], [Number.NaN, 0], [7, 120_000]] as const) {
    const x = setup({ random: () => r });
    x.engine.set(1, timing({ minute: '*/10', jitter: 120 }));
    x.engine.start();
    x.clock.advance(13 * 60_000);
    assert.is(x.runs[0]!.firedAt - x.runs[0]!.scheduledAt, want, `random() = ${r}`);
  }
});

test('set while running arms from now and moves the cursor; the same schedule again keeps the armed run', () => {
  const { clock, runs, cursors, engine } = setup({ random: seeded(9) });
  engine.start();
  clock.advance(90 * 60_000);
  engine.set(7, timing({ minute: '0', jitter: 600 }), T0 - 86_400_000);
  assert.equal(cursors, [[7, T0 + 90 * 60_000, false]], 'a day-old cursor does not replay the day');
  const armed = engine.next(7)!;
  assert.is(armed.scheduledAt, T0 + 2 * 3_600_000);
  engine.set(7, timing({ minute: '0', jitter: 600 }));
  assert.equal(engine.next(7), armed, 'jitter not drawn again');
  engine.set(7, timing({ minute: '30' }));
  assert.equal(engine.next(7), { scheduledAt: T0 + 90 * 60_000 + 60 * 60_000, due: T0 + 150 * 60_000 });
  clock.advance(3 * 3_600_000);
  assert.equal(runs.map((r) => (r.scheduledAt - T0) / 60_000), [150, 210, 270]);
  assert.ok(engine.remove(7));
  assert.not.ok(engine.remove(7));
  assert.is(engine.next(7), null);
  assert.is(clock.pending, 0, 'no jobs, no timer');
});

test('onRun may remove or replace jobs; a throwing onRun is reported and the schedule goes on', () => {
  const errors: Array<[string, number]> = [];
  let engine!: ScheduleEngine;
  const runs: number[] = [];
  const x = setup({
    onRun: (r) => {
      runs.push(r.jobId);
      if (r.jobId === 1) engine.remove(1);
      if (r.jobId === 2) engine.set(2, timing({ minute: '0', hour: '*/2' }));
      if (r.jobId === 3) throw new Error('boom');
    },
    onError: (err, id) => errors.push([(err as Error).message, id]),
  });
  engine = x.engine;
  engine.set(1, timing({ minute: '*/10' }));
  engine.set(2, timing({ minute: '*/10' }));
  engine.set(3, timing({ minute: '0' }));
  engine.start();
  x.clock.advance(4 * 3_600_000);
  assert.is(runs.filter((id) => id === 1).length, 1, 'removed by its own run');
  // Job 2: once at 00:10 on the old schedule, then every two hours.
  assert.is(runs.filter((id) => id === 2).length, 3);
  assert.is(runs.filter((id) => id === 3).length, 4);
  assert.equal(errors, [['boom', 3], ['boom', 3], ['boom', 3], ['boom', 3]]);
});

test('a run up to a minute late (busy loop) still runs as scheduled; one slept through longer is missed', () => {
  const { clock, runs, cursors, engine } = setup();
  engine.set(1, timing({ second: '*/10', minute: '*' }));
  engine.start();
  clock.jumpTo(T0 + 45_000); // the loop was blocked for 45 s
  clock.advance(0);
  assert.equal(runs.map((r) => [(r.scheduledAt - T0) / 1000, r.caughtUp]), [[10, false], [20, false], [30, false], [40, false]]);
  runs.length = 0;
  // Suspended for an hour: the armed run fires, runs more than LATE_GRACE_MS late are dropped
  // (catch_up_window 0), the last minute still runs.
  clock.jumpTo(T0 + 3_600_000 + 45_000);
  clock.advance(0);
  assert.is(runs[0]!.scheduledAt, T0 + 50_000);
  // (The first: a job without a cursor gets one at start.)
  assert.equal(cursors, [[1, T0, false], [1, T0 + 3_600_000 + 45_000 - LATE_GRACE_MS, true]]);
  assert.equal(runs.slice(1).map((r) => (r.scheduledAt - T0 - 3_600_000) / 1000), [-10, 0, 10, 20, 30, 40]);
  assert.ok(runs.every((r) => !r.caughtUp));
});

test('slept through with a catch-up window: the missed runs in it are caught up, flagged, oldest first', () => {
  const { clock, runs, engine } = setup();
  engine.set(1, { schedules: [S({ minute: '*/5' })], catchUpWindow: 1800, catchUp: 'ALL' });
  engine.start();
  clock.jumpTo(T0 + 3 * 3_600_000);
  clock.advance(0);
  const mins = runs.map((r) => [(r.scheduledAt - T0) / 60_000, r.caughtUp]);
  // The armed 00:05, then the window (02:30 to 02:59) caught up, then 03:00 on time (not late).
  assert.equal(mins, [[5, false], [150, true], [155, true], [160, true], [165, true], [170, true], [175, true], [180, false]]);
});

test('stop fires nothing more and drops the timer; start again resumes from the cursors', () => {
  const { clock, runs, engine } = setup();
  engine.set(1, timing({ minute: '0' }));
  engine.start();
  clock.advance(2 * 3_600_000);
  assert.is(runs.length, 2);
  engine.stop();
  assert.is(clock.pending, 0);
  assert.not.ok(engine.running);
  clock.advance(3 * 3_600_000);
  assert.is(runs.length, 2);
  engine.start();
  clock.advance(3_600_000);
  assert.equal(runs.map((r) => (r.scheduledAt - T0) / 3_600_000), [1, 2, 6]);
});

test('a job whose schedule never fires again is kept but not armed', () => {
  const { clock, engine } = setup();
  engine.set(1, timing({ minute: '0', hour: '0', dom: '31', month: '2' }));
  engine.start();
  assert.ok(engine.has(1));
  assert.is(engine.next(1), null);
  assert.is(clock.pending, 0);
});

test.run();
