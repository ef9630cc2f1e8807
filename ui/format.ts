// Pure formatting: times, durations, job states, and cron schedules in words. No DOM here, so the
// same module can be loaded by Node in tests.

/** A `{"$date": ms}` value (PROTOCOL.md 1.4), an ISO string, a number of ms, or null. */
export function toMs(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  if (typeof v === 'object' && '$date' in v && typeof (v as { $date: unknown }).$date === 'number') return (v as { $date: number }).$date;
  return null;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** "14:03:07" today, "Mar 4 14:03" this year, "2023-03-04 14:03" before. */
export function formatTime(ms: number | null, now = Date.now()): string {
  if (ms === null) return '';
  const d = new Date(ms);
  const n = new Date(now);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (d.toDateString() === n.toDateString()) return `${hm}:${pad2(d.getSeconds())}`;
  if (d.getFullYear() === n.getFullYear()) return `${MONTHS[d.getMonth()]} ${d.getDate()} ${hm}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hm}`;
}

/** Full local date and time, for titles. */
export function formatFullTime(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "0.4 s", "12 s", "3 min 04 s", "2 h 05 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${pad2(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${pad2(m % 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "in 5 min", "3 h ago". */
export function relative(ms: number | null, now = Date.now()): string {
  if (ms === null) return '';
  const diff = ms - now;
  const text = formatDuration(Math.abs(diff)).replace(/^(\d+)\.\d s$/, '$1 s');
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

export const STATES = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'] as const;
export type JobState = (typeof STATES)[number];

/** Icon and word of a job state; colour comes from CSS (.state-<name>), the icon keeps it readable without colour. */
export const STATE_LOOK: Record<JobState, { icon: string; label: string }> = {
  WAITING: { icon: '\u23F3', label: 'Waiting' },
  RUNNING: { icon: '\u25B6', label: 'Running' },
  SUCCESS: { icon: '\u2714', label: 'Success' },
  FAILED: { icon: '\u2716', label: 'Failed' },
  ABORTED: { icon: '\u25A0', label: 'Aborted' },
};

export function isTerminal(state: string): boolean {
  return state === 'SUCCESS' || state === 'FAILED' || state === 'ABORTED';
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

// ---- cron schedules in words ----

export interface CronSchedule {
  minute: string;
  hour: string;
  dom: string;
  month: string;
  dow: string;
  second?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_ABBR = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_ABBR = MONTHS.map((m) => m.toLowerCase());

const isNum = (s: string) => /^\d+$/.test(s);
const isStar = (s: string) => s === '*' || s === '?';
/** "*\/N" (or "0/N"): every N units starting at 0. */
const stepOf = (s: string): number | null => {
  const m = /^(?:\*|0)\/(\d+)$/.exec(s);
  return m ? Number(m[1]) : null;
};

function dayName(v: string): string {
  const n = isNum(v) ? Number(v) % 7 : DAY_ABBR.indexOf(v.toLowerCase());
  return n >= 0 && n < 7 ? DAY_NAMES[n]! : v;
}

function monthName(v: string): string {
  const n = isNum(v) ? Number(v) - 1 : MONTH_ABBR.indexOf(v.toLowerCase());
  return n >= 0 && n < 12 ? MONTH_NAMES[n]! : v;
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

/** A list/range field in words with `name` for single values, or null when it is not simple. */
function simpleList(field: string, name: (v: string) => string): string | null {
  const parts = field.split(',');
  const out: string[] = [];
  for (const p of parts) {
    const range = /^([a-z0-9]+)-([a-z0-9]+)$/i.exec(p);
    if (range) out.push(`${name(range[1]!)} to ${name(range[2]!)}`);
    else if (/^[a-z0-9]+$/i.test(p)) out.push(name(p));
    else return null;
  }
  return list(out);
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

/** The time-of-day part, or null when it is not expressible simply. */
function timeOfDay(s: CronSchedule): string | null {
  // Out-of-range numbers are the daemon's to reject; here they just are not put into words.
  const inRange = (v: string, max: number) => v.split(/[,/-]/).every((p) => !isNum(p) || Number(p) <= max);
  if (!inRange(s.minute, 59) || !inRange(s.hour, 23) || (s.second !== undefined && !inRange(s.second, 59))) return null;
  const sec = s.second ?? '0';
  const secondText = isNum(sec) && Number(sec) !== 0 ? `:${pad2(Number(sec))}` : '';
  if (isNum(s.minute)) {
    if (!isNum(sec)) return null;
    if (isNum(s.hour)) return `at ${pad2(Number(s.hour))}:${pad2(Number(s.minute))}${secondText}`;
    const hours = s.hour.split(',');
    if (hours.every(isNum)) return `at ${list(hours.map((h) => `${pad2(Number(h))}:${pad2(Number(s.minute))}${secondText}`))}`;
    const hourStep = stepOf(s.hour);
    if (hourStep !== null) return `every ${hourStep === 1 ? 'hour' : `${hourStep} hours`} at minute ${pad2(Number(s.minute))}`;
    if (isStar(s.hour)) return `every hour at minute ${pad2(Number(s.minute))}`;
    const hr = /^(\d+)-(\d+)$/.exec(s.hour);
    if (hr) return `every hour from ${pad2(Number(hr[1]))}:${pad2(Number(s.minute))} to ${pad2(Number(hr[2]))}:${pad2(Number(s.minute))}`;
    return null;
  }
  if (!isStar(s.hour) && stepOf(s.hour) === null && !isNum(s.hour)) return null;
  const within = isStar(s.hour) ? '' : isNum(s.hour) ? ` during the ${pad2(Number(s.hour))}:00 hour` : ` every ${stepOf(s.hour)} hours`;
  const minStep = stepOf(s.minute);
  if (isStar(s.minute)) {
    if (s.second !== undefined && isStar(s.second)) return `every second${within}`;
    const secStep = s.second === undefined ? null : stepOf(s.second);
    if (secStep !== null) return `every ${secStep} seconds${within}`;
    return `every minute${within}`;
  }
  if (minStep !== null && (s.second === undefined || sec === '0')) return `every ${minStep} minutes${within}`;
  return null;
}

/** "every day at 03:00", "every Monday at 08:30", "every 5 minutes", or the raw fields when not simple. */
export function scheduleInWords(s: CronSchedule): string {
  const raw = `cron: ${s.second !== undefined ? `${s.second} ` : ''}${s.minute} ${s.hour} ${s.dom} ${s.month} ${s.dow}`;
  const time = timeOfDay(s);
  if (time === null) return raw;
  const frequent = !time.startsWith('at ');
  const days: string[] = [];
  if (!isStar(s.dow)) {
    if (s.dow === '1-5' || s.dow.toLowerCase() === 'mon-fri') days.push('on weekdays');
    else if (s.dow === '0,6' || s.dow === '6,0' || s.dow.toLowerCase() === 'sat,sun' || s.dow.toLowerCase() === 'sun,sat') days.push('on weekends');
    else {
      const d = simpleList(s.dow, dayName);
      if (d === null) return raw;
      days.push(`on ${d}`);
    }
  }
  if (!isStar(s.dom)) {
    const nums = s.dom.split(',');
    if (nums.every(isNum)) days.push(`on the ${list(nums.map((n) => ordinal(Number(n))))}`);
    else return raw;
  }
  if (!isStar(s.month)) {
    const m = simpleList(s.month, monthName);
    if (m === null) return raw;
    days.push(`in ${m}`);
  }
  if (days.length === 0) return frequent ? time : `every day ${time}`;
  // "every Monday at 08:30" reads better than "at 08:30 on Monday".
  if (!frequent && days.length === 1 && isStar(s.dom) && isStar(s.month) && days[0]!.startsWith('on ') && days[0] !== 'on weekdays' && days[0] !== 'on weekends') {
    return `every ${days[0]!.slice(3)} ${time}`;
  }
  if (!frequent && days.length === 1 && !isStar(s.dom) && isStar(s.month)) return `${days[0]!} of every month ${time}`;
  return `${time} ${days.join(', ')}`;
}
