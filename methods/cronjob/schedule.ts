// Cron schedules: TrueNAS's {minute, hour, dom, month, dow} fields (plus Midship's optional
// `second`), validated and run by croner in the daemon's local time zone. croner re-arms its
// timer after every run and computes the next time from the wall clock then, so a clock change
// moves the following run the way croner defines (see its DST rules for repeated/missing times).
import { Cron } from 'croner';
import { ERRNO, type ValidationErrors } from '#midship/module-api';
import type { CronScheduleT } from '../../schemas/cronjob.js';

/** A schedule as stored; `second` (6-field cron) is Midship's: absent, it runs at second 0, as cron does. */
export type Schedule = CronScheduleT;
export { DEFAULT_SCHEDULE } from '../../schemas/cronjob.js';

const FIELDS = ['minute', 'hour', 'dom', 'month', 'dow'] as const;

/** The croner pattern of a schedule: 5 fields, or 6 with `second` first. */
export function cronPattern(s: Schedule): string {
  const five = `${s.minute} ${s.hour} ${s.dom} ${s.month} ${s.dow}`;
  return s.second === undefined ? five : `${s.second} ${five}`;
}

function compile(s: Schedule): Cron {
  return new Cron(cronPattern(s), { mode: s.second === undefined ? '5-part' : '6-part', paused: true });
}

function problem(s: Schedule): string | null {
  try {
    compile(s).stop();
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
}

/** Adds one error per bad field (`<attr>.minute`, ...); a valid pattern that never fires is an error on `<attr>`. */
export function validateSchedule(s: Schedule, attr: string, errors: ValidationErrors): void {
  if (problem(s) === null) {
    const c = compile(s);
    const next = c.nextRun();
    c.stop();
    if (next === null) errors.add(attr, `Schedule "${cronPattern(s)}" never fires`, ERRNO.EINVAL);
    return;
  }
  // Test each field alone (the others wildcards) to name the one at fault.
  let named = false;
  const wild: Schedule = { minute: '*', hour: '*', dom: '*', month: '*', dow: '*', ...(s.second === undefined ? {} : { second: '*' }) };
  for (const f of [...(s.second === undefined ? [] : (['second'] as const)), ...FIELDS]) {
    const msg = problem({ ...wild, [f]: s[f] });
    if (msg !== null) {
      errors.add(`${attr}.${f}`, `Invalid cron expression "${s[f]!}": ${msg}`, ERRNO.EINVAL);
      named = true;
    }
  }
  if (!named) errors.add(attr, `Invalid schedule "${cronPattern(s)}": ${problem(s)!}`, ERRNO.EINVAL);
}

function samePattern(a: Schedule, b: Schedule): boolean {
  return cronPattern(a) === cronPattern(b) && (a.second === undefined) === (b.second === undefined);
}

interface Entry {
  schedule: Schedule;
  cron: Cron;
  enabled: boolean;
}

/** One croner timer per cron job; disabled jobs keep a paused timer. */
export class Scheduler {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly fire: (id: number) => void) {}

  set(id: number, schedule: Schedule, enabled: boolean): void {
    const old = this.entries.get(id);
    if (old && samePattern(old.schedule, schedule)) {
      if (enabled && !old.enabled) old.cron.resume();
      if (!enabled && old.enabled) old.cron.pause();
      old.enabled = enabled;
      return;
    }
    old?.cron.stop();
    const cron = new Cron(
      cronPattern(schedule),
      // unref: a timer alone must not keep a process alive (tests, embedders); catch: a throwing
      // callback must not kill the schedule.
      { mode: schedule.second === undefined ? '5-part' : '6-part', paused: !enabled, unref: true, catch: true },
      () => this.fire(id),
    );
    this.entries.set(id, { schedule: { ...schedule }, cron, enabled });
  }

  remove(id: number): void {
    this.entries.get(id)?.cron.stop();
    this.entries.delete(id);
  }

  /** The next time the job runs; null when disabled or when the schedule never fires again. */
  next(id: number): Date | null {
    const e = this.entries.get(id);
    if (!e || !e.enabled) return null;
    return e.cron.nextRun();
  }

  stopAll(): void {
    for (const e of this.entries.values()) e.cron.stop();
    this.entries.clear();
  }
}
