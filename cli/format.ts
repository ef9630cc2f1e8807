// How things look on the terminal: results the way midclt prints them, errors, durations,
// times and tables.
import { ClientError, ValidationError, validationLine } from './errors.js';

/** JSON with Python's json.dumps separators (", " and ": "), which is what midclt prints. */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return JSON.stringify(v);
}

/** A call's result as midclt prints it: ints and strings bare, booleans True/False, the rest JSON. */
export function formatResult(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return pyJson(v);
}

/** The lines midclt prints on stderr for a failed call: reason, then trace, then extra. */
export function errorLines(err: unknown): string[] {
  if (err instanceof ValidationError) return err.errors.map(validationLine);
  if (!(err instanceof ClientError)) return [(err as Error)?.message ?? String(err)];
  const lines = [err.reason.trimEnd()];
  const formatted = err.trace?.formatted?.trimEnd();
  // Midship's traces repeat the reason as `Class: reason`; print only those that add something.
  if (formatted && formatted !== `${err.trace?.class}: ${err.reason.trimEnd()}` && !err.reason.includes(formatted)) lines.push(formatted);
  if (err.extra !== null && err.extra !== undefined && !(Array.isArray(err.extra) && err.extra.length === 0)) lines.push(pyJson(err.extra));
  return lines;
}

/** The machine-readable form of an error (--json). */
export function errorJson(err: unknown): Record<string, unknown> {
  if (!(err instanceof ClientError)) return { error: { reason: (err as Error)?.message ?? String(err) } };
  const e: Record<string, unknown> = { errno: err.errno, errname: err.errname, reason: err.reason.trimEnd(), extra: err.extra, trace: err.trace };
  if (err instanceof ValidationError) e.errors = err.errors;
  return { error: e };
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** Local time, `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number | null | undefined): string {
  if (typeof ms !== 'number') return '-';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
