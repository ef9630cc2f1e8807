// DST, driven by the controllable clock: the scheduler running across spring-forward and
// fall-back nights in Berlin and New York, and the schedule math checked against an oracle that
// reads the rule off Intl minute by minute around every 2025 transition of several zones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cron } from 'croner';
import { Calendar } from '../methods/scheduling/calendar.js';
import { ScheduleEngine, type ScheduledRun } from '../methods/scheduling/engine.js';
import { DEFAULT_SCHEDULE, type ScheduleT } from '../methods/scheduling/schemas.js';
import { VirtualClock } from '../methods/scheduling/virtual-clock.js';
import { ZoneRules } from '../methods/scheduling/zone.js';

const Z = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** Runs one job from `from` to `to` on a virtual clock; returns the scheduled times as ISO strings. */
function drive(schedule: Partial<ScheduleT>, from: string, to: string): string[] {
  const clock = new VirtualClock(Z(from));
  const runs: ScheduledRun[] = [];
  const engine = new ScheduleEngine({ clock, calendar: new Calendar({ defaultTimeZone: 'UTC' }), onRun: (r) => runs.push(r) });
  engine.set(1, { schedules: [{ ...DEFAULT_SCHEDULE, ...schedule }], catchUpWindow: 0, catchUp: 'ONE' });
  engine.start();
  clock.advanceTo(Z(to));
  engine.stop();
  for (const r of runs) {
    assert.is(r.firedAt, r.scheduledAt, 'no jitter: fired exactly on time');
    assert.not.ok(r.caughtUp);
  }
  return runs.map((r) => iso(r.scheduledAt));
}

test('New York spring forward: 02:30 runs once, at 03:00 EDT; the days around run at 02:30', () => {
  assert.equal(drive({ minute: '30', hour: '2', timezone: 'America/New_York' }, '2025-03-08T00:00:00Z', '2025-03-11T00:00:00Z'), [
    '2025-03-08T07:30:00.000Z', // 02:30 EST
    '2025-03-09T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT
    '2025-03-10T06:30:00.000Z', // 02:30 EDT
  ]);
});

test('New York fall back: 01:30 runs once (the first pass); a list of hours does not run twice either', () => {
  assert.equal(drive({ minute: '30', hour: '1', timezone: 'America/New_York' }, '2025-11-01T00:00:00Z', '2025-11-04T00:00:00Z'), [
    '2025-11-01T05:30:00.000Z',
    '2025-11-02T05:30:00.000Z', // 01:30 EDT; 01:30 EST an hour later is not run
    '2025-11-03T06:30:00.000Z',
  ]);
  // croner's own zone mode runs this one twice at 01:00 on 2 November.
  assert.equal(drive({ minute: '0', hour: '1,13', timezone: 'America/New_York' }, '2025-11-02T00:00:00Z', '2025-11-03T00:00:00Z'), [
    '2025-11-02T05:00:00.000Z',
    '2025-11-02T18:00:00.000Z',
  ]);
});

test('Berlin spring forward and fall back: 02:30 once each night; minutes of a named hour once each', () => {
  assert.equal(drive({ minute: '30', hour: '2', timezone: 'Europe/Berlin' }, '2025-03-29T00:00:00Z', '2025-03-31T12:00:00Z'), [
    '2025-03-29T01:30:00.000Z',
    '2025-03-30T01:00:00.000Z', // 03:00 CEST, the end of the gap
    '2025-03-31T00:30:00.000Z',
  ]);
  assert.equal(drive({ minute: '30', hour: '2', timezone: 'Europe/Berlin' }, '2025-10-25T00:00:00Z', '2025-10-27T12:00:00Z'), [
    '2025-10-25T00:30:00.000Z',
    '2025-10-26T00:30:00.000Z', // 02:30 CEST; 02:30 CET is not run
    '2025-10-27T01:30:00.000Z',
  ]);
  // croner's zone mode skips these entirely on the spring day and runs them twice on the autumn one.
  assert.equal(drive({ minute: '*/20', hour: '2', timezone: 'Europe/Berlin' }, '2025-03-30T00:00:00Z', '2025-03-30T12:00:00Z'), ['2025-03-30T01:00:00.000Z']);
  assert.equal(drive({ minute: '*/20', hour: '2', timezone: 'Europe/Berlin' }, '2025-10-25T23:59:00Z', '2025-10-26T12:00:00Z'), [
    '2025-10-26T00:00:00.000Z',
    '2025-10-26T00:20:00.000Z',
    '2025-10-26T00:40:00.000Z',
  ]);
});

test('a cadence over every hour keeps real time: 23 runs on the spring day, 25 on the autumn day', () => {
  const hourly = { minute: '0', hour: '*' };
  const day = (zone: string, from: string, to: string) => drive({ ...hourly, timezone: zone }, from, to);
  // Local days: 2025-03-09 and 2025-11-02 in New York, 2025-03-30 and 2025-10-26 in Berlin.
  const ny = (d: string, to: string) => day('America/New_York', d, to);
  const spring = ny('2025-03-09T04:59:59Z', '2025-03-10T03:59:59Z');
  assert.is(spring.length, 23);
  assert.not.ok(spring.includes('2025-03-09T07:00:00.000Z') && spring.filter((t) => t === '2025-03-09T07:00:00.000Z').length > 1);
  const autumn = ny('2025-11-02T03:59:59Z', '2025-11-03T04:59:59Z');
  assert.is(autumn.length, 25);
  assert.ok(autumn.includes('2025-11-02T05:00:00.000Z') && autumn.includes('2025-11-02T06:00:00.000Z'), '01:00 EDT and 01:00 EST: an hour of real time apart');
  assert.is(day('Europe/Berlin', '2025-03-29T22:59:59Z', '2025-03-30T21:59:59Z').length, 23);
  assert.is(day('Europe/Berlin', '2025-10-25T21:59:59Z', '2025-10-26T22:59:59Z').length, 25);
  // Each run is exactly an hour after the one before, through both changes.
  for (const list of [spring, autumn]) {
    for (let i = 1; i < list.length; i++) assert.is(Z(list[i]!) - Z(list[i - 1]!), 3_600_000);
  }
});

test('next() from inside a repeated hour: first pass and second pass, both kinds of schedule', () => {
  const cal = new Calendar({ defaultTimeZone: 'America/New_York' });
  const fixed = cal.compile({ ...DEFAULT_SCHEDULE, minute: '30', hour: '1' });
  const cadence = cal.compile({ ...DEFAULT_SCHEDULE, minute: '*/20', hour: '*' });
  // 01:50 EDT (first pass): the cadence comes back to 01:00 EST next; the fixed one waits a day.
  assert.is(iso(cal.next(cadence, Z('2025-11-02T05:50:00Z'))!), '2025-11-02T06:00:00.000Z');
  assert.is(iso(cal.next(fixed, Z('2025-11-02T05:50:00Z'))!), '2025-11-03T06:30:00.000Z');
  // 01:10 EST (second pass): 01:30 already ran in the first pass.
  assert.is(iso(cal.next(fixed, Z('2025-11-02T06:10:00Z'))!), '2025-11-03T06:30:00.000Z');
  assert.is(iso(cal.next(cadence, Z('2025-11-02T06:10:00Z'))!), '2025-11-02T06:20:00.000Z');
  // 01:20 EDT: 01:30 EDT is next for both.
  assert.is(iso(cal.next(fixed, Z('2025-11-02T05:20:00Z'))!), '2025-11-02T05:30:00.000Z');
  // Just before and exactly at a gap's end.
  const gapJob = cal.compile({ ...DEFAULT_SCHEDULE, minute: '30', hour: '2' });
  assert.is(iso(cal.next(gapJob, Z('2025-03-09T06:59:59.999Z'))!), '2025-03-09T07:00:00.000Z');
  assert.is(iso(cal.next(gapJob, Z('2025-03-09T07:00:00Z'))!), '2025-03-10T06:30:00.000Z');
});

// ---- The oracle: the rule read off Intl, minute by minute (or every 15 s for 6-field patterns).

/** Wall-clock times (ms read as UTC) of every `step` from `from` to `to`, straight from Intl. */
function wallsOf(zone: string, from: number, to: number, step: number): Map<number, number> {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const walls = new Map<number, number>();
  for (let t = from; t <= to; t += step) {
    const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, Number(x.value)]));
    walls.set(t, Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!));
  }
  return walls;
}

/** `everyHour`: the schedule's hour field covers all 24 hours (a cadence), stated by the test. */
function oracle(walls: Map<number, number>, s: ScheduleT, everyHour: boolean, from: number, to: number, step: number): number[] {
  const withSeconds = s.second !== undefined;
  const cron = new Cron(`${withSeconds ? `${s.second} ` : ''}${s.minute} ${s.hour} ${s.dom} ${s.month} ${s.dow}`, { utcOffset: 0, paused: true, mode: withSeconds ? '6-part' : '5-part' });
  const matches = (wall: number) => cron.match(new Date(wall));
  const out = new Set<number>();
  for (let t = from; t <= to; t += step) {
    const wall = walls.get(t)!;
    if (matches(wall)) {
      // A fixed schedule runs a wall time only at its first occurrence (look back up to 2 h).
      const seenBefore = [15, 30, 45, 60, 90, 120].some((m) => walls.get(t - m * 60_000) === wall);
      if (everyHour || !seenBefore) out.add(t);
    }
    // A jump forward between t - step and t: a fixed schedule runs what it skipped, once, at t.
    const prev = walls.get(t - step)!;
    if (!everyHour && wall - prev > step) {
      for (let w = prev + step; w < wall; w += step) if (matches(w)) out.add(t);
    }
  }
  return [...out].sort((a, b) => a - b);
}

test('the schedule math matches the oracle around every 2025 transition of six zones', () => {
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  const patterns: Array<[Partial<ScheduleT>, boolean]> = [
    [{ minute: '30', hour: '2' }, false],
    [{ minute: '0', hour: '1,13' }, false],
    [{ minute: '*/20', hour: '2' }, false],
    [{ minute: '*/15', hour: '*' }, true],
    [{ minute: '0', hour: '*' }, true],
    [{ minute: '30', hour: '1-3' }, false],
    [{ minute: '*/7', hour: '0-2' }, false],
    [{ minute: '0', hour: '*/2' }, false],
    [{ minute: '45', hour: '0-23' }, true],
    [{ minute: '10', hour: '*/1' }, true],
    [{ minute: '0', hour: '0' }, false],
    [{ minute: '59', hour: '1' }, false],
    [{ minute: '0', hour: '3' }, false],
    [{ second: '*/15', minute: '59', hour: '1' }, false],
    [{ second: '30', minute: '*', hour: '2' }, false],
  ];
  let compared = 0;
  for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'America/St_Johns']) {
    const rules = new ZoneRules(zone);
    for (let tr = rules.transitionIn(Z('2025-01-01T00:00:00Z'), Z('2026-01-01T00:00:00Z')); tr !== null; tr = rules.transitionIn(tr.at, Z('2026-01-01T00:00:00Z'))) {
      const from = tr.at - 30 * 3_600_000;
      const to = tr.at + 30 * 3_600_000;
      const walls = wallsOf(zone, from - 2 * 3_600_000, to, 15_000);
      for (const [p, everyHour] of patterns) {
        const s: ScheduleT = { ...DEFAULT_SCHEDULE, ...p, timezone: zone };
        const c = cal.compile(s);
        assert.is(c.cadence, everyHour, `cadence of ${JSON.stringify(p)}`);
        const want = oracle(walls, s, everyHour, from, to, s.second === undefined ? 60_000 : 15_000);
        const got = cal.fireTimes([c], from - 1, to).times.map((f) => f.at);
        assert.equal(got.map(iso), want.map(iso), `${zone} ${JSON.stringify(p)} around ${iso(tr.at)}`);
        // next() from any instant between two fire times gives the later one.
        for (let i = 1; i < want.length; i += 7) {
          const mid = want[i - 1]! + Math.floor((want[i]! - want[i - 1]!) / 2);
          assert.is(cal.next(c, mid), want[i]!, `next after ${iso(mid)} in ${zone} ${JSON.stringify(p)}`);
        }
        compared++;
      }
    }
  }
  // Two transitions a year in each of the six zones.
  assert.is(compared, 6 * 2 * patterns.length);
});

test.run();
