// Schedule math away from DST: next fire times, several schedules per job, seconds, zones, the
// cap on listing fire times, schedules that never fire, and the shared pattern cache.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Calendar, FIRE_TIMES_LIMIT } from '../methods/scheduling/calendar.js';
import { PatternCache } from '../methods/scheduling/cron-pattern.js';
import { DEFAULT_SCHEDULE, type ScheduleT } from '../methods/scheduling/schemas.js';

const Z = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? 'null' : new Date(t).toISOString());
const S = (s: Partial<ScheduleT>): ScheduleT => ({ ...DEFAULT_SCHEDULE, ...s });

test('next is strictly after the instant given; defaults run hourly at minute 00 in the default zone', () => {
  const cal = new Calendar({ defaultTimeZone: 'Asia/Tokyo' });
  const c = cal.compile(DEFAULT_SCHEDULE);
  assert.is(c.zone, 'Asia/Tokyo');
  assert.is(iso(cal.next(c, Z('2025-06-01T10:00:00Z'))), '2025-06-01T11:00:00.000Z');
  assert.is(iso(cal.next(c, Z('2025-06-01T10:59:59.999Z'))), '2025-06-01T11:00:00.000Z');
  const daily = cal.compile(S({ minute: '15', hour: '9' }));
  // 09:15 in Tokyo (+09:00) is 00:15 UTC.
  assert.is(iso(cal.next(daily, Z('2025-06-01T00:15:00Z'))), '2025-06-02T00:15:00.000Z');
  assert.is(iso(cal.next(daily, Z('2025-06-01T00:14:00Z'))), '2025-06-01T00:15:00.000Z');
  // The same fields in another zone name other instants.
  const ny = cal.compile(S({ minute: '15', hour: '9', timezone: 'america/new_york' }));
  assert.is(ny.zone, 'America/New_York');
  assert.is(iso(cal.next(ny, Z('2025-06-01T00:00:00Z'))), '2025-06-01T13:15:00.000Z');
});

test('seconds (6 fields), day-of-month or day-of-week (cron OR), L for the last day, month names', () => {
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  const everyTen = cal.compile(S({ second: '*/10', minute: '*' }));
  assert.equal(cal.fireTimes([everyTen], Z('2025-01-01T00:00:00Z'), Z('2025-01-01T00:00:30Z')).times.map((f) => iso(f.at)), [
    '2025-01-01T00:00:10.000Z',
    '2025-01-01T00:00:20.000Z',
    '2025-01-01T00:00:30.000Z',
  ]);
  // 13th of the month or a Friday, as Vixie cron reads "0 0 13 * 5".
  const friday13 = cal.compile(S({ minute: '0', hour: '0', dom: '13', dow: '5' }));
  assert.equal(cal.fireTimes([friday13], Z('2025-06-01T00:00:00Z'), Z('2025-06-21T00:00:00Z')).times.map((f) => iso(f.at).slice(0, 10)), [
    '2025-06-06',
    '2025-06-13',
    '2025-06-20',
  ]);
  const last = cal.compile(S({ minute: '0', hour: '12', dom: 'L', month: 'feb' }));
  assert.is(iso(cal.next(last, Z('2027-01-01T00:00:00Z'))), '2027-02-28T12:00:00.000Z');
  assert.is(iso(cal.next(last, Z('2028-01-01T00:00:00Z'))), '2028-02-29T12:00:00.000Z');
});

test('several schedules: the union, oldest first, a time two schedules share fired once (by the first)', () => {
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  const cs = [S({ minute: '0', hour: '*/6' }), S({ minute: '30', hour: '1' }), S({ minute: '0', hour: '12', timezone: 'Europe/Berlin' })].map((s) => cal.compile(s));
  const { times, capped } = cal.fireTimes(cs, Z('2025-01-01T00:00:00Z'), Z('2025-01-01T23:59:59Z'));
  assert.not.ok(capped);
  assert.equal(
    times.map((f) => `${iso(f.at).slice(11, 16)}#${f.schedule}`),
    ['01:30#1', '06:00#0', '11:00#2', '12:00#0', '18:00#0'],
  );
  assert.equal(cal.upcoming(cs, Z('2025-01-01T06:00:00Z'), 3).map((f) => iso(f.at).slice(11, 16)), ['11:00', '12:00', '18:00']);
  const same = [S({ minute: '0', hour: '12' }), S({ minute: '0', hour: '12' })].map((s) => cal.compile(s));
  assert.equal(cal.fireTimes(same, Z('2025-01-01T00:00:00Z'), Z('2025-01-03T00:00:00Z')).times.map((f) => f.schedule), [0, 0]);
  assert.is(cal.nextOf([], 0), null);
});

test('fireTimes is bounded: the cap given, and never more than FIRE_TIMES_LIMIT; capped says so', () => {
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  const everySecond = cal.compile(S({ second: '*', minute: '*' }));
  const from = Z('2025-01-01T00:00:00Z');
  const small = cal.fireTimes([everySecond], from, from + 100_000, 10);
  assert.is(small.times.length, 10);
  assert.ok(small.capped);
  const exact = cal.fireTimes([everySecond], from, from + 10_000, 10);
  assert.is(exact.times.length, 10);
  assert.not.ok(exact.capped, 'exactly 10 in the interval: nothing left out');
  const huge = cal.fireTimes([everySecond], from, from + 86_400_000, 1e9);
  assert.is(huge.times.length, FIRE_TIMES_LIMIT);
  assert.ok(huge.capped);
  assert.equal(cal.fireTimes([everySecond], from, from, 10), { times: [], capped: false });
});

test('a schedule that never fires (again) gives null, not a loop', () => {
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  assert.is(cal.next(cal.compile(S({ minute: '0', hour: '0', dom: '30', month: '2' })), 0), null);
  assert.is(cal.next(cal.compile(S({ minute: '0', hour: '0', dom: '31', month: '4,6,9,11' })), Z('2025-01-01T00:00:00Z')), null);
  assert.is(cal.next(cal.compile(DEFAULT_SCHEDULE), Date.UTC(9999, 11, 31, 23, 30)), null, 'beyond year 9999');
});

test('a Calendar refuses an unknown default zone; compile refuses an unknown schedule zone', () => {
  assert.throws(() => new Calendar({ defaultTimeZone: 'Nowhere/Land' }), /Unknown time zone "Nowhere\/Land"/);
  const cal = new Calendar({ defaultTimeZone: 'UTC' });
  assert.throws(() => cal.compile(S({ timezone: 'Nowhere/Land' })), /Unknown time zone/);
  // Patterns are compiled when first evaluated (validate.ts refuses them before that).
  assert.throws(() => cal.next(cal.compile(S({ minute: '61' })), 0), /minute/);
});

test('the pattern cache keeps a pattern once it comes back, at most its capacity, least recently used dropped', () => {
  const cache = new PatternCache(2);
  const once = cache.get('0 1 * * *', false);
  assert.is(cache.get('0 1 * * *', false), once, 'the last one used is at hand');
  cache.get('0 2 * * *', false);
  assert.is(cache.size, 0, 'asked for once: not kept');
  const kept = cache.get('0 1 * * *', false);
  assert.is.not(kept, once, 'compiled again on its second request...');
  cache.get('0 2 * * *', false);
  assert.is(cache.get('0 1 * * *', false), kept, '...and kept from then on');
  assert.is(cache.size, 2);
  cache.get('0 3 * * *', false);
  cache.get('0 3 * * *', false);
  cache.get('0 4 * * *', false);
  assert.is(cache.size, 2, 'never more than the capacity');
  assert.is.not(cache.get('0 0 1 * * *', true), kept, 'the same fields with seconds are another pattern');
  // 2,000 distinct schedules evaluate through a small cache.
  const cal = new Calendar({ defaultTimeZone: 'UTC', patternCacheSize: 16 });
  for (let i = 0; i < 2000; i++) assert.ok(cal.next(cal.compile(S({ minute: String(i % 60), hour: String(i % 24), dom: String((i % 28) + 1) })), 0)! > 0);
});

test.run();
