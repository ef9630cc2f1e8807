// Catch-up after a simulated outage: an engine runs, its cursors are "stored" by the callbacks,
// it stops (the daemon goes down), the virtual clock jumps, and a new engine starts from the
// stored cursors, as the cron module will do across a restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Calendar } from '../methods/scheduling/calendar.js';
import { planCatchUp } from '../methods/scheduling/catch-up.js';
import { ScheduleEngine, type JobTiming, type ScheduledRun } from '../methods/scheduling/engine.js';
import { DEFAULT_SCHEDULE, type ScheduleT } from '../methods/scheduling/schemas.js';
import { VirtualClock } from '../methods/scheduling/virtual-clock.js';

const Z = (iso: string) => Date.parse(iso);
const T0 = Z('2025-06-02T00:00:00Z');
const H = 3_600_000;
const S = (s: Partial<ScheduleT>): ScheduleT => ({ ...DEFAULT_SCHEDULE, ...s });

/** A daemon's view: a durable cursor store, and the runs it started. */
class Host {
  readonly cursors = new Map<number, number>();
  readonly runs: ScheduledRun[] = [];
  engine: ScheduleEngine | null = null;

  constructor(
    readonly clock: VirtualClock,
    readonly calendar = new Calendar({ defaultTimeZone: 'UTC' }),
  ) {}

  boot(jobs: Array<[number, JobTiming]>, opts: { stopAfterRuns?: number; maxCatchUpRuns?: number } = {}): ScheduleEngine {
    let started = 0;
    const engine = new ScheduleEngine({
      clock: this.clock,
      calendar: this.calendar,
      maxCatchUpRuns: opts.maxCatchUpRuns,
      onRun: (r) => {
        // A power cut after `stopAfterRuns` runs: nothing after it is started or stored.
        if (opts.stopAfterRuns !== undefined && started >= opts.stopAfterRuns) return;
        started++;
        this.runs.push(r);
        this.cursors.set(r.jobId, r.cursor);
      },
      onCursor: (id, c) => {
        if (opts.stopAfterRuns !== undefined && started >= opts.stopAfterRuns) return;
        this.cursors.set(id, c);
      },
    });
    for (const [id, t] of jobs) engine.set(id, t, this.cursors.get(id) ?? null);
    engine.start();
    this.engine = engine;
    return engine;
  }

  down(): void {
    this.engine?.stop();
    this.engine = null;
  }
}

const hourly = (window: number, mode: 'ONE' | 'ALL'): JobTiming => ({ schedules: [S({ minute: '0' })], catchUpWindow: window, catchUp: mode });
const hoursOf = (runs: ScheduledRun[]) => runs.map((r) => [(r.scheduledAt - T0) / H, r.caughtUp]);

test('catch_up_window 0 (the default, as TrueNAS): nothing missed is run; the cursor moves past it', () => {
  const host = new Host(new VirtualClock(T0));
  host.boot([[1, hourly(0, 'ALL')]]);
  host.clock.advance(5.5 * H);
  host.down();
  assert.equal(hoursOf(host.runs), [[1, false], [2, false], [3, false], [4, false], [5, false]]);
  host.clock.jumpTo(T0 + 15.5 * H);
  host.boot([[1, hourly(0, 'ALL')]]);
  assert.is(host.runs.length, 5, 'nothing caught up');
  assert.is(host.cursors.get(1), T0 + 15.5 * H, 'the missed runs are behind the cursor now');
  host.clock.advance(H);
  assert.equal(hoursOf(host.runs).at(-1), [16, false]);
});

test('catch_up ALL: every run missed within the window, oldest first, flagged; older ones dropped', () => {
  const host = new Host(new VirtualClock(T0));
  host.boot([[1, hourly(4 * 3600, 'ALL')]]);
  host.clock.advance(5.5 * H);
  host.down();
  host.clock.jumpTo(T0 + 15.5 * H);
  host.runs.length = 0;
  host.boot([[1, hourly(4 * 3600, 'ALL')]]);
  // Missed 6..15; the window reaches back to 11:30.
  assert.equal(hoursOf(host.runs), [[12, true], [13, true], [14, true], [15, true]]);
  assert.equal(host.runs.map((r) => r.firedAt), [T0 + 15.5 * H, T0 + 15.5 * H, T0 + 15.5 * H, T0 + 15.5 * H], 'all at start-up');
  assert.equal(host.runs.map((r) => (r.cursor - T0) / H), [12, 13, 14, 15.5]);
  host.clock.advance(H);
  assert.equal(hoursOf(host.runs).at(-1), [16, false]);
});

test('catch_up ONE: one run for all missed in the window, dated at the oldest of them', () => {
  const host = new Host(new VirtualClock(T0));
  host.boot([[1, hourly(4 * 3600, 'ONE')]]);
  host.clock.advance(2.5 * H);
  host.down();
  host.clock.jumpTo(T0 + 15.5 * H);
  host.runs.length = 0;
  host.boot([[1, hourly(4 * 3600, 'ONE')]]);
  assert.equal(hoursOf(host.runs), [[12, true]]);
  assert.is(host.cursors.get(1), T0 + 15.5 * H);
  // Restarting again at once catches up nothing more.
  host.down();
  host.boot([[1, hourly(4 * 3600, 'ONE')]]);
  assert.is(host.runs.length, 1);
});

test('several jobs: caught-up runs come oldest first across all of them', () => {
  const host = new Host(new VirtualClock(T0));
  const jobs: Array<[number, JobTiming]> = [
    [1, { schedules: [S({ minute: '0' })], catchUpWindow: 3 * 3600, catchUp: 'ALL' }],
    [2, { schedules: [S({ minute: '20' }), S({ minute: '40', hour: '*/2' })], catchUpWindow: 3 * 3600, catchUp: 'ALL' }],
    [3, { schedules: [S({ minute: '30' })], catchUpWindow: 3 * 3600, catchUp: 'ONE' }],
  ];
  host.boot(jobs);
  host.down();
  host.clock.jumpTo(T0 + 3 * H);
  host.boot(jobs);
  assert.equal(
    host.runs.map((r) => `${(r.scheduledAt - T0) / 60_000}:${r.jobId}#${r.schedule}`),
    ['20:2#0', '30:3#0', '40:2#1', '60:1#0', '80:2#0', '120:1#0', '140:2#0', '160:2#1', '180:1#0'],
  );
  assert.ok(host.runs.every((r) => r.caughtUp));
});

test('a power cut in the middle of a catch-up: the next start runs the rest, none twice', () => {
  const host = new Host(new VirtualClock(T0));
  const job: Array<[number, JobTiming]> = [[1, { schedules: [S({ minute: '*/10' })], catchUpWindow: 86_400, catchUp: 'ALL' }]];
  host.boot(job);
  host.down();
  host.clock.jumpTo(T0 + 2 * H);
  host.boot(job, { stopAfterRuns: 5 });
  host.down();
  assert.equal(host.runs.map((r) => (r.scheduledAt - T0) / 60_000), [10, 20, 30, 40, 50]);
  host.boot(job);
  assert.equal(host.runs.map((r) => (r.scheduledAt - T0) / 60_000), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
  assert.ok(host.runs.every((r) => r.caughtUp));
});

test('the cap: at most maxCatchUpRuns per job at a start, the oldest; the rest dropped and said so', () => {
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  const everyMinute = [cal.compile(S({ minute: '*' }))];
  const plan = planCatchUp(cal, everyMinute, T0, T0 + 86_400_000, { windowS: 86_400, mode: 'ALL', maxRuns: 100 });
  assert.is(plan.runs.length, 100);
  assert.ok(plan.capped && plan.dropped);
  assert.is(plan.runs[0]!.scheduledAt, T0 + 60_000);
  assert.is(plan.runs.at(-1)!.cursor, T0 + 86_400_000, 'the last run carries the cursor past what was dropped');
  const host = new Host(new VirtualClock(T0), cal);
  host.boot([[1, { schedules: [S({ minute: '*' })], catchUpWindow: 86_400, catchUp: 'ALL' }]]);
  host.down();
  host.clock.jumpTo(T0 + 86_400_000);
  host.boot([[1, { schedules: [S({ minute: '*' })], catchUpWindow: 86_400, catchUp: 'ALL' }]], { maxCatchUpRuns: 1000 });
  assert.is(host.runs.length, 1000);
});

test('planning is bounded by the window, not the outage; a cursor in the future catches up nothing', () => {
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  const everySecond = [cal.compile(S({ second: '*', minute: '*' }))];
  const tenYearsAgo = T0 - 10 * 365 * 86_400_000;
  const plan = planCatchUp(cal, everySecond, tenYearsAgo, T0, { windowS: 60, mode: 'ALL' });
  assert.is(plan.runs.length, 61, 'T0-60 s to T0 inclusive');
  assert.is(plan.runs[0]!.scheduledAt, T0 - 60_000);
  assert.ok(plan.dropped);
  assert.equal(planCatchUp(cal, everySecond, T0 + H, T0, { windowS: 60, mode: 'ALL' }), { runs: [], dropped: false, capped: false, cursor: T0 + H, next: { at: T0 + H + 1000, schedule: 0 } });
  // Nothing missed: the cursor stays where it is, and the plan says when the job runs next.
  const hourlyC = [cal.compile(S({ minute: '0' }))];
  assert.equal(planCatchUp(cal, hourlyC, T0 + 60_000, T0 + 120_000, { windowS: 3600, mode: 'ONE' }), {
    runs: [],
    dropped: false,
    capped: false,
    cursor: T0 + 60_000,
    next: { at: T0 + H, schedule: 0 },
  });
});

test('a job never scheduled before (no cursor) catches up nothing at its first start', () => {
  const host = new Host(new VirtualClock(T0));
  host.boot([[1, hourly(86_400, 'ALL')]]);
  assert.is(host.runs.length, 0);
  assert.is(host.cursors.get(1), T0, 'given a cursor, so a later outage can be caught up');
});

test('catch-up across a DST change: missed times in the window are those the zone really had', () => {
  const clock = new VirtualClock(Z('2025-10-25T12:00:00Z'));
  const host = new Host(clock, new Calendar({ defaultTimeZone: 'Europe/Berlin' }));
  const job: Array<[number, JobTiming]> = [
    [1, { schedules: [S({ minute: '30', hour: '2' })], catchUpWindow: 3 * 86_400, catchUp: 'ALL' }],
    [2, { schedules: [S({ minute: '0', hour: '*' })], catchUpWindow: 3 * 86_400, catchUp: 'ALL' }],
  ];
  host.boot(job);
  host.down();
  clock.jumpTo(Z('2025-10-26T12:00:00Z'));
  host.boot(job);
  const of = (id: number) => host.runs.filter((r) => r.jobId === id).map((r) => new Date(r.scheduledAt).toISOString().slice(11, 16));
  assert.equal(of(1), ['00:30'], '02:30 CEST only, not 02:30 CET');
  assert.is(of(2).length, 24, '25 local hours on the autumn day, 24 of them from 13:00 to 12:00 UTC');
  // 02:00 CEST (00:00 UTC) and 02:00 CET (01:00 UTC): the repeated hour is real time for a cadence.
  assert.equal(of(2).slice(10, 13), ['23:00', '00:00', '01:00']);
});

test.run();
