// Timestamps in queries: entries hold epoch-ms numbers (in memory), `{"$date": ms}` (the wire
// form) or Dates; filter values are ISO-8601 strings as Python's datetime.fromisoformat takes them.
import { isObj } from './values.js';

/** An entry-side timestamp in epoch ms, or undefined when the value is not one. */
export function toEpochMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (isObj(v) && typeof v.$date === 'number' && Number.isFinite(v.$date)) return v.$date;
  return undefined;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?)?$/;

/**
 * Parse the ISO-8601 forms Python's datetime.fromisoformat accepts for a filter value
 * (date, optional time to any precision, optional Z/±hh[:mm[:ss]] offset) to epoch ms.
 * Naive times are taken as UTC, the daemon's clock for every stored timestamp.
 */
export function parseIsoTimestamp(s: string): number | undefined {
  const m = ISO_RE.exec(s);
  if (!m) return undefined;
  const num = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  const year = num(1);
  const month = num(2);
  const day = num(3);
  const hour = num(4);
  const minute = num(5);
  const second = num(6);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const monthDays = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (day < 1 || day > monthDays[month - 1]!) return undefined;
  let offsetMs = 0;
  if (m[9] !== undefined) {
    const oh = num(10);
    const om = num(11);
    const os = num(12);
    if (oh > 23 || om > 59 || os > 59) return undefined;
    offsetMs = (m[9] === '-' ? -1 : 1) * ((oh * 60 + om) * 60 + os) * 1000;
  }
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMs;
}
