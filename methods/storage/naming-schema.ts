// Snapshot naming schemas as zettarepl has them: strftime-style names ("auto-%Y-%m-%d_%H-%M")
// that must hold the year, month, day, hour and minute, so a snapshot's time can be read back
// from its name (retention and replication go by it). Times are wall-clock times of the host's
// zone, as zettarepl's (naive local datetimes): format() takes one, parse() gives one back.
import { checkComponent } from '../zfs/names.js';
import { ZfsInputError } from '../zfs/errors.js';

const DIRECTIVES: Record<string, { re: string; width: number }> = {
  Y: { re: '(\\d{4})', width: 4 },
  m: { re: '(\\d{2})', width: 2 },
  d: { re: '(\\d{2})', width: 2 },
  H: { re: '(\\d{2})', width: 2 },
  M: { re: '(\\d{2})', width: 2 },
  S: { re: '(\\d{2})', width: 2 },
};
const REQUIRED = ['Y', 'm', 'd', 'H', 'M'];

type Piece = { text: string } | { directive: string };

function pieces(schema: string): Piece[] {
  const out: Piece[] = [];
  let text = '';
  for (let i = 0; i < schema.length; i++) {
    const c = schema[i]!;
    if (c !== '%') {
      text += c;
      continue;
    }
    const d = schema[++i];
    if (d === '%') {
      text += '%';
      continue;
    }
    if (d === undefined || DIRECTIVES[d] === undefined) throw new Error(`%${d ?? ''} is not a supported directive (use %Y %m %d %H %M %S)`);
    if (text) out.push({ text });
    text = '';
    out.push({ directive: d });
  }
  if (text) out.push({ text });
  return out;
}

/** Why `schema` cannot name snapshots, or null when it can. */
export function namingSchemaProblem(schema: string): string | null {
  let ps: Piece[];
  try {
    ps = pieces(schema);
  } catch (e) {
    return (e as Error).message;
  }
  const used = ps.flatMap((p) => ('directive' in p ? [p.directive] : []));
  const missing = REQUIRED.filter((d) => !used.includes(d));
  if (missing.length > 0) return `${missing.map((d) => `%${d}`).join(', ')} must be present in naming schema`;
  const dup = used.find((d, i) => used.indexOf(d) !== i);
  if (dup !== undefined) return `%${dup} is present more than once`;
  try {
    checkComponent('naming_schema', format(schema, Date.UTC(2000, 0, 1)), 'snapshot name');
  } catch (e) {
    if (e instanceof ZfsInputError) return `Naming schema gives invalid snapshot names: ${e.message.slice(e.field.length + 2)}`;
    throw e;
  }
  return null;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The name for wall-clock time `wall` (ms, read with UTC getters). */
export function format(schema: string, wall: number): string {
  const t = new Date(wall);
  const v: Record<string, number> = { Y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), H: t.getUTCHours(), M: t.getUTCMinutes(), S: t.getUTCSeconds() };
  return pieces(schema).map((p) => ('text' in p ? p.text : pad(v[p.directive]!, DIRECTIVES[p.directive]!.width))).join('');
}

/** A parser of names made with `schema`: the wall-clock time (ms) of a name, or null when the name does not match. */
export function parser(schema: string): (name: string) => number | null {
  const ps = pieces(schema);
  const order: string[] = [];
  const re = new RegExp(`^${ps.map((p) => {
    if ('text' in p) return p.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    order.push(p.directive);
    return DIRECTIVES[p.directive]!.re;
  }).join('')}$`);
  return (name) => {
    const m = re.exec(name);
    if (!m) return null;
    const v: Record<string, number> = { Y: 0, m: 1, d: 1, H: 0, M: 0, S: 0 };
    order.forEach((d, i) => (v[d] = Number(m[i + 1])));
    const ms = Date.UTC(v.Y!, v.m! - 1, v.d!, v.H!, v.M!, v.S!);
    // 2024-02-31 is not a time a snapshot was taken at.
    const back = new Date(ms);
    if (back.getUTCMonth() !== v.m! - 1 || back.getUTCDate() !== v.d! || v.H! > 23 || v.M! > 59 || v.S! > 59) return null;
    return ms;
  };
}

export type LifetimeUnit = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';

/** Wall-clock time `wall` minus a lifetime (months and years on the calendar, as dateutil's relativedelta). */
export function minusLifetime(wall: number, value: number, unit: LifetimeUnit): number {
  switch (unit) {
    case 'HOUR': return wall - value * 3_600_000;
    case 'DAY': return wall - value * 86_400_000;
    case 'WEEK': return wall - value * 7 * 86_400_000;
    case 'MONTH':
    case 'YEAR': {
      const t = new Date(wall);
      const months = unit === 'MONTH' ? value : value * 12;
      const y = t.getUTCFullYear();
      const m = t.getUTCMonth() - months;
      const target = new Date(Date.UTC(y, m, 1));
      const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
      return Date.UTC(target.getUTCFullYear(), target.getUTCMonth(), Math.min(t.getUTCDate(), lastDay), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), t.getUTCMilliseconds());
    }
  }
}
