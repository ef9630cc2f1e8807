// When a schedule fires: cron fields read as wall-clock time in the schedule's zone.
//
// croner matches the fields on floating wall-clock times (cron-pattern.ts); this file maps those
// to instants with the zone's rules and decides DST, with one rule for every zone:
//
// - A schedule whose hour field names hours (2, 1,13, 1-5, */2) runs each of its wall-clock times
//   once a day. A time skipped by spring-forward runs once, at the first instant after the gap
//   (02:30 on a New York spring-forward day runs at 03:00 EDT; several skipped times make one run).
//   A time repeated by fall-back runs at its first occurrence only.
// - A schedule over every hour (*, 0-23, */1) is a cadence in real time: times inside a gap do not
//   exist and are not run, and a repeated hour is run again, as it is another hour of real time
//   ("*/15 * * * *" keeps running every 15 minutes through the night of the change).
//
// croner 11's own zone mode differs in two ways (see the tests): with its default rule a list or
// range of hours ("0 1,13 * * *") runs twice on a fall-back night, and a named hour with a minute
// wildcard or step ("*/20 2 * * *") is not run at all on a spring-forward day and twice on a
// fall-back day.
import { coversEveryHour, cronPattern, nextWall, PatternCache } from './cron-pattern.js';
import type { ScheduleT } from './schemas.js';
import { canonicalTimeZone, DAY_MS, hostTimeZone, MAX_INSTANT, ZoneBook, type ZoneRules } from './zone.js';


/** No fireTimes() call returns more than this many times, whatever it is asked for. */
export const FIRE_TIMES_LIMIT = 10_000;

/** Wall-clock candidates one next() may look at before giving up (a whole DST gap of seconds is 3,600). */
const MAX_SCAN = 100_000;

export interface CompiledSchedule {
  readonly pattern: string;
  readonly withSeconds: boolean;
  /** Canonical IANA zone. */
  readonly zone: string;
  readonly jitterMs: number;
  /** The hour field covers every hour: DST gaps are skipped and repeated hours run again. */
  readonly cadence: boolean;
}

export interface FireTime {
  at: number;
  /** Which of the schedules given produced it (the first one when several meet). */
  schedule: number;
}

export function sameSchedules(a: readonly CompiledSchedule[], b: readonly CompiledSchedule[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i]!;
      return x.pattern === y.pattern && x.withSeconds === y.withSeconds && x.zone === y.zone && x.jitterMs === y.jitterMs;
    })
  );
}

export interface CalendarOptions {
  /** Zone of schedules without `timezone`; default: the host's. */
  defaultTimeZone?: string;
  /** Compiled croner patterns kept (about 80 KB each); default 128. */
  patternCacheSize?: number;
}

/**
 * Evaluates schedules. Holds the caches (zone transition tables, compiled patterns), so each
 * daemon, test or bench makes its own and nothing is shared between them.
 */
export class Calendar {
  readonly defaultTimeZone: string;
  private readonly zones = new ZoneBook();
  private readonly patterns: PatternCache;
  private readonly everyHour = new Map<string, boolean>();
  /** Zone names as given -> canonical: Intl.DateTimeFormat costs about 100 us to make. */
  private readonly zoneNames = new Map<string, string | null>();

  constructor(options: CalendarOptions = {}) {
    const zone = options.defaultTimeZone ?? hostTimeZone();
    const canonical = canonicalTimeZone(zone);
    if (canonical === null) throw new RangeError(`Unknown time zone "${zone}"`);
    this.defaultTimeZone = canonical;
    this.patterns = new PatternCache(options.patternCacheSize ?? 128);
  }

  rules(zone: string): ZoneRules {
    return this.zones.rules(zone);
  }

  /** The canonical name of `zone`, or null when unknown (memoised). */
  canonicalZone(zone: string): string | null {
    let c = this.zoneNames.get(zone);
    if (c === undefined) {
      c = canonicalTimeZone(zone);
      // Names come from users: keep the memo bounded.
      if (this.zoneNames.size >= 1024) this.zoneNames.clear();
      this.zoneNames.set(zone, c);
    }
    return c;
  }

  /**
   * A validated schedule (validate.ts) made ready to evaluate; throws on an unknown zone. The
   * cron pattern itself is compiled when first evaluated (the cache may not keep it till then).
   */
  compile(s: ScheduleT): CompiledSchedule {
    const zone = s.timezone === undefined ? this.defaultTimeZone : this.canonicalZone(s.timezone);
    if (zone === null) throw new RangeError(`Unknown time zone "${s.timezone}"`);
    let cadence = this.everyHour.get(s.hour);
    if (cadence === undefined) {
      cadence = coversEveryHour(this.patterns, s.hour);
      if (this.everyHour.size >= 1024) this.everyHour.clear();
      this.everyHour.set(s.hour, cadence);
    }
    return { pattern: cronPattern(s), withSeconds: s.second !== undefined, zone, jitterMs: (s.jitter ?? 0) * 1000, cadence };
  }

  /** The instants wall-clock time `wall` stands for under the DST rule above. */
  private instants(c: CompiledSchedule, rules: ZoneRules, wall: number): number[] {
    const r = rules.resolve(wall);
    if (r.kind === 'one') return [r.at];
    if (r.kind === 'two') return c.cadence ? [r.first, r.second] : [r.first];
    return c.cadence ? [] : [r.end];
  }

  /** The first instant strictly after `after` (epoch ms) at which `c` fires, or null if never. */
  next(c: CompiledSchedule, after: number): number | null {
    if (after >= MAX_INSTANT) return null;
    const rules = this.zones.rules(c.zone);
    const cron = this.patterns.get(c.pattern, c.withSeconds);
    const wallAfter = rules.wallAt(after);
    // In the first pass of a repeated hour, earlier wall-clock times still come again after the
    // change: a cadence must start looking from the start of the second pass.
    let from = wallAfter;
    if (c.cadence) {
      const ahead = rules.transitionIn(after, after + DAY_MS);
      if (ahead !== null && ahead.before > ahead.after) from = Math.min(from, ahead.at + ahead.after);
    }
    let best: number | null = null;
    let stopAt = Infinity;
    let wall = nextWall(cron, from - 1);
    for (let scanned = 0; wall !== null && wall < stopAt && scanned < MAX_SCAN; scanned++) {
      for (const at of this.instants(c, rules, wall)) {
        if (at > after && (best === null || at < best)) {
          best = at;
          stopAt = this.lastUsefulWall(rules, after, best);
        }
      }
      wall = nextWall(cron, wall);
    }
    return best !== null && best <= MAX_INSTANT ? best : null;
  }

  /**
   * Wall-clock times from this one on cannot give an instant before `best`: they come after
   * best's own wall time, unless best lies in the second pass of a repeated hour entered after
   * `after`, whose first pass reaches up to the wall time just before the change.
   */
  private lastUsefulWall(rules: ZoneRules, after: number, best: number): number {
    let limit = rules.wallAt(best);
    const change = rules.lastTransitionIn(after, best);
    if (change !== null && change.before > change.after) limit = Math.max(limit, change.at + change.before);
    return limit;
  }

  /** The first fire time of any of `cs` strictly after `after`. */
  nextOf(cs: readonly CompiledSchedule[], after: number): FireTime | null {
    let best: FireTime | null = null;
    for (let index = 0; index < cs.length; index++) {
      const at = this.next(cs[index]!, after);
      if (at !== null && (best === null || at < best.at)) best = { at, schedule: index };
    }
    return best;
  }

  /** The next `count` fire times after `after` (at most FIRE_TIMES_LIMIT), e.g. to show upcoming runs. */
  upcoming(cs: readonly CompiledSchedule[], after: number, count: number): FireTime[] {
    return this.fireTimes(cs, after, MAX_INSTANT, count).times;
  }

  /**
   * Fire times in (after, until], oldest first, at most `cap` (and never more than
   * FIRE_TIMES_LIMIT); `capped` says more were left out.
   */
  fireTimes(cs: readonly CompiledSchedule[], after: number, until: number, cap = FIRE_TIMES_LIMIT): { times: FireTime[]; capped: boolean } {
    const limit = Math.max(0, Math.min(cap, FIRE_TIMES_LIMIT));
    const times: FireTime[] = [];
    let t = after;
    for (;;) {
      const n = this.nextOf(cs, t);
      if (n === null || n.at > until) return { times, capped: false };
      if (times.length === limit) return { times, capped: true };
      times.push(n);
      t = n.at;
    }
  }
}
