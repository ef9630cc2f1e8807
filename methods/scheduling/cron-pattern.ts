// Cron patterns through croner, evaluated in "floating" wall-clock time: croner runs with a UTC
// offset of 0, so it only does calendar arithmetic on wall-clock times and never sees a DST change.
// Mapping wall-clock times to instants in a zone is zone.ts's job (and where DST is decided).
//
// Each croner instance holds a 10,000-entry array for its year field (about 80 KB), so compiled
// patterns are shared and kept in a small LRU cache instead of one instance per job.
import { Cron } from 'croner';

/** The cron fields of a schedule: TrueNAS's five plus Midship's optional `second`. */
export interface CronFields {
  minute: string;
  hour: string;
  dom: string;
  month: string;
  dow: string;
  second?: string | undefined;
}

export const CRON_FIELDS = ['second', 'minute', 'hour', 'dom', 'month', 'dow'] as const;
export type CronFieldName = (typeof CRON_FIELDS)[number];

const FIELD_RANGES: Record<CronFieldName, string> = {
  second: 'second (0-59)',
  minute: 'minute (0-59)',
  hour: 'hour (0-23)',
  dom: 'day of month (1-31, L, W)',
  month: 'month (1-12 or jan-dec)',
  dow: 'day of week (0-7 or sun-sat, 0 and 7 are Sunday)',
};

export function cronPattern(f: CronFields): string {
  const five = `${f.minute} ${f.hour} ${f.dom} ${f.month} ${f.dow}`;
  return f.second === undefined ? five : `${f.second} ${five}`;
}

function compile(pattern: string, withSeconds: boolean): Cron {
  return new Cron(pattern, { mode: withSeconds ? '6-part' : '5-part', utcOffset: 0, paused: true });
}

/** Why croner refuses `pattern`, or null when it compiles. */
function refusal(pattern: string, withSeconds: boolean): string | null {
  try {
    compile(pattern, withSeconds);
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
}

export interface FieldProblem {
  /** The bad field, or null when only the combination is wrong. */
  field: CronFieldName | null;
  message: string;
}

/**
 * What is wrong with a schedule's cron fields: one problem per bad field (each tried alone, the
 * others wildcards, to name the one at fault), or one for the whole pattern.
 */
export function cronProblems(f: CronFields): FieldProblem[] {
  const withSeconds = f.second !== undefined;
  const problems: FieldProblem[] = [];
  for (const name of CRON_FIELDS) {
    const value = f[name];
    if (value === undefined) continue;
    // Nicknames (@daily) and spaces would shift the five fields into each other.
    let why: string | null = /\s/.test(value) || value.length === 0 ? 'must be one cron field without spaces' : value.includes('@') ? 'nicknames such as @daily are not cron fields' : null;
    if (why === null) {
      const alone: CronFields = { minute: '*', hour: '*', dom: '*', month: '*', dow: '*', ...(withSeconds ? { second: '*' } : {}), [name]: value };
      why = refusal(cronPattern(alone), withSeconds);
      // croner reports day and month values shifted by one ("day: -1" for 0); name the range instead.
      if (why !== null && /^Invalid value for /.test(why)) why = 'value out of range';
    }
    if (why !== null) problems.push({ field: name, message: `Invalid ${FIELD_RANGES[name]} expression "${value}": ${why}` });
  }
  if (problems.length > 0) return problems;
  const whole = refusal(cronPattern(f), withSeconds);
  return whole === null ? [] : [{ field: null, message: `Invalid schedule "${cronPattern(f)}": ${whole}` }];
}

/**
 * Compiled patterns, shared by every schedule that uses them. A pattern is kept (least recently
 * used ones dropped) only once it has been asked for a second time: arming ten thousand jobs with
 * distinct schedules then compiles each once and lets it die young, instead of pushing 80 KB
 * instances through a cache into the old generation, where collecting them cost more than
 * compiling (measured: 1.7 s of GC for 10,000 jobs). The last pattern used is kept aside, so the
 * repeated calls of one evaluation never compile twice.
 */
export class PatternCache {
  private readonly crons = new Map<string, Cron>();
  private readonly seen = new Set<string>();
  private hotKey = '';
  private hot: Cron | null = null;

  constructor(private readonly capacity = 128) {}

  /** The compiled pattern; throws croner's error for an invalid one (validate first). */
  get(pattern: string, withSeconds: boolean): Cron {
    const key = `${withSeconds ? 6 : 5}|${pattern}`;
    if (key === this.hotKey && this.hot !== null) return this.hot;
    let c = this.crons.get(key);
    if (c !== undefined) {
      this.crons.delete(key);
      this.crons.set(key, c);
    } else {
      c = compile(pattern, withSeconds);
      if (this.seen.has(key)) {
        this.crons.set(key, c);
        if (this.crons.size > this.capacity) this.crons.delete(this.crons.keys().next().value!);
      } else {
        // Keys are short strings; a bounded set is enough to tell a pattern that comes back.
        if (this.seen.size >= 8 * this.capacity) this.seen.clear();
        this.seen.add(key);
      }
    }
    this.hotKey = key;
    this.hot = c;
    return c;
  }

  /** Patterns kept (not counting the last one used). */
  get size(): number {
    return this.crons.size;
  }
}

/** The first wall-clock time (floating ms) strictly after `wall` that the pattern matches, or null. */
export function nextWall(cron: Cron, wall: number): number | null {
  const d = cron.nextRun(new Date(wall));
  return d === null ? null : d.getTime();
}

/** Whether an hour field covers all 24 hours ("*", "*\/1", "0-23", ...): such a schedule is a cadence. */
export function coversEveryHour(cache: PatternCache, hour: string): boolean {
  const day = Date.UTC(2000, 0, 1);
  const runs = cache.get(`0 ${hour} * * *`, false).nextRuns(24, new Date(day - 1));
  return runs.length === 24 && runs[23]!.getTime() < day + 86_400_000;
}
