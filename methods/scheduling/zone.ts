// Time-zone rules from the runtime's ICU data (Intl): which zone names are valid, the host's zone,
// the UTC offset at an instant, and the instants a wall-clock time maps to (none in a DST gap,
// two in a repeated hour). Offsets are looked up in a per-year table of transitions built once per
// zone and year, so evaluating schedules does not call Intl in the hot path.

export const DAY_MS = 86_400_000;
const SECOND_MS = 1000;

/** The last instant the scheduling layer works with: the end of year 9999 (croner's range). */
export const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The canonical IANA name of `name` ("europe/berlin" -> "Europe/Berlin"), or null when the
 * runtime does not know it. Offset strings ("+01:00") are refused: a fixed offset cannot follow
 * the zone's DST rules, which is the point of giving a zone (Etc/GMT-1 is the IANA fixed one).
 */
export function canonicalTimeZone(name: string): string | null {
  if (name.length === 0 || name.length > 64 || /^[+-]|^\d/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone ?? null;
  } catch {
    return null;
  }
}

/** The host's zone (TZ, /etc/localtime), or UTC where the runtime cannot tell (e.g. TZ=Bogus). */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A UTC offset change: before `at` the offset was `before`, from `at` on it is `after` (ms). */
export interface Transition {
  at: number;
  before: number;
  after: number;
}

/** Where a wall-clock time (given as ms since the epoch read as UTC) falls in a zone. */
export type WallResolution =
  | { kind: 'one'; at: number }
  /** A repeated time (fall back): the first pass, then the second. */
  | { kind: 'two'; first: number; second: number }
  /** A time that does not exist (spring forward); `end` is the first instant after the gap. */
  | { kind: 'gap'; end: number };

interface YearTable {
  start: number;
  end: number;
  startOffset: number;
  transitions: Transition[];
}

/** One zone's offsets and transitions, memoised by UTC year. */
export class ZoneRules {
  private readonly format: Intl.DateTimeFormat;
  private readonly years = new Map<number, YearTable>();
  /** The table used last: nearly every lookup of one evaluation falls in the same year. */
  private last: YearTable | null = null;

  constructor(readonly zone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** UTC offset (ms) at instant `t`, straight from Intl (whole seconds). */
  private intlOffset(t: number): number {
    const whole = Math.floor(t / SECOND_MS) * SECOND_MS;
    const f: Record<string, number> = {};
    for (const p of this.format.formatToParts(whole)) if (p.type !== 'literal') f[p.type] = Number(p.value);
    const wall = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
    return wall - whole;
  }

  /**
   * The transitions in UTC year `year`, found by sampling the offset once a day and bisecting to
   * the second where it changed. Assumes at most one change per day, which holds for every zone
   * in the tz database since 1970.
   */
  private table(year: number): YearTable {
    let t = this.years.get(year);
    if (t !== undefined) return t;
    const start = Date.UTC(year, 0, 1);
    const end = Date.UTC(year + 1, 0, 1);
    const transitions: Transition[] = [];
    const startOffset = this.intlOffset(start);
    let prevAt = start;
    let prev = startOffset;
    for (let day = start + DAY_MS; day <= end; day += DAY_MS) {
      const off = this.intlOffset(day);
      if (off !== prev) {
        // The change is in (prevAt, day]: bisect on whole seconds.
        let lo = prevAt;
        let hi = day;
        while (hi - lo > SECOND_MS) {
          const mid = lo + Math.floor((hi - lo) / 2 / SECOND_MS) * SECOND_MS;
          if (this.intlOffset(mid) === prev) lo = mid;
          else hi = mid;
        }
        // A change exactly at the year's end belongs to next year's start offset.
        if (hi < end) transitions.push({ at: hi, before: prev, after: off });
        prev = off;
      }
      prevAt = day;
    }
    t = { start, end, startOffset, transitions };
    this.years.set(year, t);
    return t;
  }

  private tableAt(t: number): YearTable {
    const last = this.last;
    if (last !== null && t >= last.start && t < last.end) return last;
    return (this.last = this.table(ZoneRules.yearOf(t)));
  }

  private static yearOf(t: number): number {
    return new Date(t).getUTCFullYear();
  }

  /** UTC offset (ms) in effect at instant `t`. */
  offsetAt(t: number): number {
    const { startOffset, transitions } = this.tableAt(t);
    let off = startOffset;
    for (const tr of transitions) {
      if (tr.at > t) break;
      off = tr.after;
    }
    return off;
  }

  /** The wall-clock time at instant `t`, as ms since the epoch read as UTC. */
  wallAt(t: number): number {
    return t + this.offsetAt(t);
  }

  /** The first transition in (from, to], or null. */
  transitionIn(from: number, to: number): Transition | null {
    for (let y = ZoneRules.yearOf(from); y <= ZoneRules.yearOf(to); y++) {
      for (const tr of this.table(y).transitions) if (tr.at > from && tr.at <= to) return tr;
    }
    return null;
  }

  /** The last transition in (from, to], or null. */
  lastTransitionIn(from: number, to: number): Transition | null {
    for (let y = ZoneRules.yearOf(to); y >= ZoneRules.yearOf(from); y--) {
      const list = this.table(y).transitions;
      for (let i = list.length - 1; i >= 0; i--) {
        const tr = list[i]!;
        if (tr.at > from && tr.at <= to) return tr;
        if (tr.at <= from) return null;
      }
    }
    return null;
  }

  /**
   * The instants whose wall-clock time is `wall`. Looks at the offsets a day either side, which
   * covers every offset (|offset| < 1 day) as long as no two changes are less than a day apart.
   */
  resolve(wall: number): WallResolution {
    const early = this.offsetAt(wall - DAY_MS);
    const late = this.offsetAt(wall + DAY_MS);
    const found: number[] = [];
    for (const off of early === late ? [early] : [early, late]) {
      const at = wall - off;
      if (this.offsetAt(at) === off && !found.includes(at)) found.push(at);
    }
    found.sort((a, b) => a - b);
    if (found.length === 1) return { kind: 'one', at: found[0]! };
    if (found.length === 2) return { kind: 'two', first: found[0]!, second: found[1]! };
    // In a gap: the clock jumped from before `wall` to after it at the transition between.
    const tr = this.transitionIn(wall - late - 1, wall - early);
    return { kind: 'gap', end: tr === null ? wall - early : tr.at };
  }
}

/** ZoneRules by canonical zone name; one per Calendar, so no state is shared between daemons. */
export class ZoneBook {
  private readonly zones = new Map<string, ZoneRules>();

  rules(zone: string): ZoneRules {
    let r = this.zones.get(zone);
    if (r === undefined) {
      r = new ZoneRules(zone);
      this.zones.set(zone, r);
    }
    return r;
  }
}
