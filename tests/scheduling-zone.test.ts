// Time-zone rules: zone names, the host's zone, offsets and transitions against Intl, and how a
// wall-clock time resolves to instants in gaps and repeated hours.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { canonicalTimeZone, hostTimeZone, ZoneRules } from '../methods/scheduling/zone.js';

const Z = (iso: string) => Date.parse(iso);

test('zone names: IANA names and aliases are accepted in canonical form; offsets and unknown names are not', () => {
  assert.is(canonicalTimeZone('Europe/Berlin'), 'Europe/Berlin');
  assert.is(canonicalTimeZone('europe/berlin'), 'Europe/Berlin');
  assert.is(canonicalTimeZone('UTC'), 'UTC');
  assert.is(canonicalTimeZone('Etc/GMT-1'), 'Etc/GMT-1');
  assert.is(canonicalTimeZone('US/Eastern'), 'America/New_York');
  for (const bad of ['', '+01:00', '-05', '1', 'Mars/Olympus', 'Europe/Berlin ', 'local', 'x'.repeat(65)]) assert.is(canonicalTimeZone(bad), null, bad);
});

test("host zone: TZ decides; a TZ the runtime does not know falls back to UTC", () => {
  const zoneJs = fileURLToPath(new URL('../methods/scheduling/zone.js', import.meta.url));
  const run = (tz: string) =>
    execFileSync(process.execPath, ['--input-type=module', '-e', `import { hostTimeZone } from ${JSON.stringify(zoneJs)}; process.stdout.write(hostTimeZone())`], {
      env: { ...process.env, TZ: tz },
    }).toString();
  assert.is(run('America/New_York'), 'America/New_York');
  assert.is(run('Europe/Paris'), 'Europe/Paris');
  assert.is(run('Bogus/Zone'), 'UTC');
  assert.type(hostTimeZone(), 'string');
});

test('transitions of Berlin and New York in 2025 are found to the second', () => {
  const berlin = new ZoneRules('Europe/Berlin');
  const H = 3_600_000;
  assert.equal(berlin.transitionIn(Z('2025-01-01T00:00:00Z'), Z('2025-06-01T00:00:00Z')), { at: Z('2025-03-30T01:00:00Z'), before: H, after: 2 * H });
  assert.equal(berlin.transitionIn(Z('2025-06-01T00:00:00Z'), Z('2026-01-01T00:00:00Z')), { at: Z('2025-10-26T01:00:00Z'), before: 2 * H, after: H });
  assert.equal(berlin.lastTransitionIn(Z('2025-01-01T00:00:00Z'), Z('2025-12-31T00:00:00Z'))?.at, Z('2025-10-26T01:00:00Z'));
  assert.is(berlin.transitionIn(Z('2025-03-30T01:00:00Z'), Z('2025-10-26T00:59:59Z')), null, '(from, to]: the change at `from` is not in it');
  const ny = new ZoneRules('America/New_York');
  assert.equal(ny.transitionIn(Z('2025-01-01T00:00:00Z'), Z('2025-12-31T00:00:00Z')), { at: Z('2025-03-09T07:00:00Z'), before: -5 * H, after: -4 * H });
  assert.equal(ny.lastTransitionIn(Z('2025-01-01T00:00:00Z'), Z('2025-12-31T00:00:00Z')), { at: Z('2025-11-02T06:00:00Z'), before: -4 * H, after: -5 * H });
  // Across a year boundary, and none at all in a zone without DST.
  assert.equal(ny.transitionIn(Z('2025-12-01T00:00:00Z'), Z('2026-04-01T00:00:00Z'))?.at, Z('2026-03-08T07:00:00Z'));
  assert.is(new ZoneRules('Asia/Tokyo').transitionIn(Z('2024-01-01T00:00:00Z'), Z('2026-01-01T00:00:00Z')), null);
});

test('offsets agree with Intl at random instants in several zones', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'Asia/Kolkata', 'America/St_Johns']) {
    const rules = new ZoneRules(zone);
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    for (let i = 0; i < 300; i++) {
      const t = Math.floor(Z('2020-01-01T00:00:00Z') + rand() * 8 * 365 * 86_400_000);
      const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, Number(x.value)]));
      const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (t % 1000);
      assert.is(rules.wallAt(t), wall, `${zone} at ${new Date(t).toISOString()}`);
    }
  }
});

test('wall-clock times resolve to one instant, none (a gap: its end is given) or two (a repeated hour)', () => {
  const ny = new ZoneRules('America/New_York');
  assert.equal(ny.resolve(Z('2025-03-09T02:30:00Z')), { kind: 'gap', end: Z('2025-03-09T07:00:00Z') });
  assert.equal(ny.resolve(Z('2025-03-09T03:00:00Z')), { kind: 'one', at: Z('2025-03-09T07:00:00Z') });
  assert.equal(ny.resolve(Z('2025-03-09T01:59:59Z')), { kind: 'one', at: Z('2025-03-09T06:59:59Z') });
  assert.equal(ny.resolve(Z('2025-11-02T01:30:00Z')), { kind: 'two', first: Z('2025-11-02T05:30:00Z'), second: Z('2025-11-02T06:30:00Z') });
  assert.equal(ny.resolve(Z('2025-11-02T02:00:00Z')), { kind: 'one', at: Z('2025-11-02T07:00:00Z') });
  const berlin = new ZoneRules('Europe/Berlin');
  assert.equal(berlin.resolve(Z('2025-03-30T02:15:00Z')), { kind: 'gap', end: Z('2025-03-30T01:00:00Z') });
  assert.equal(berlin.resolve(Z('2025-10-26T02:59:00Z')), { kind: 'two', first: Z('2025-10-26T00:59:00Z'), second: Z('2025-10-26T01:59:00Z') });
  // Half-hour DST (Lord Howe) and a change at midnight (Santiago: 24:00 -> 01:00 in September).
  const lh = new ZoneRules('Australia/Lord_Howe');
  assert.equal(lh.resolve(Z('2025-04-06T01:45:00Z')), { kind: 'two', first: Z('2025-04-05T14:45:00Z'), second: Z('2025-04-05T15:15:00Z') });
  const scl = new ZoneRules('America/Santiago');
  assert.equal(scl.resolve(Z('2025-09-07T00:30:00Z')), { kind: 'gap', end: Z('2025-09-07T04:00:00Z') });
});

test.run();
