// The wire rule of PROTOCOL.md 1.4, in one place. The real client decodes every object of every
// message whose keys are exactly those of an ejson wrapper ({"$date"}, {"$time"}, {"$set"},
// {"$ipv4_interface"}, {"$ipv6_interface"}, {"$type", "$value"}) into a value; when that fails
// it drops the whole message and the call times out. So such an object may only ever be a real,
// well-formed value. Arguments are checked here before a method sees them (nothing malformed gets
// stored and echoed later), and the test helpers check every frame a test daemon sends.
import { isIPv4, isIPv6 } from 'node:net';

/** Keys that make a one-key object a wrapper. */
const SINGLE_KEYS = new Set(['$date', '$time', '$set', '$ipv4_interface', '$ipv6_interface']);

/** datetime's range (years 1-9999) in epoch milliseconds. */
const MIN_DATE_MS = -62_135_596_800_000;
const MAX_DATE_MS = 253_402_300_799_999;

const TIME = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?([+-]([01]\d|2[0-3]):[0-5]\d)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The wrapper an object would be decoded as, or null for a plain object. */
function wrapperKind(obj: Record<string, unknown>): string | null {
  const keys = Object.keys(obj);
  if (keys.length === 1 && SINGLE_KEYS.has(keys[0]!)) return keys[0]!;
  if (keys.length === 2 && '$type' in obj && '$value' in obj) return '$type';
  return null;
}

function validDate(text: unknown): boolean {
  const m = typeof text === 'string' ? DATE.exec(text) : null;
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(2000, mo, 0)).getUTCDate() && (mo !== 2 || d < 29 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)));
}

function validInterface(text: unknown, isIp: (s: string) => boolean, bits: number): boolean {
  if (typeof text !== 'string') return false;
  const [addr, prefix, extra] = text.split('/');
  if (extra !== undefined || !isIp(addr!)) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
}

/** Why a wrapper-shaped object would not decode, or null when it is a well-formed value. */
function wrapperProblem(kind: string, obj: Record<string, unknown>): string | null {
  const v = obj[kind];
  switch (kind) {
    case '$date':
      return Number.isSafeInteger(v) && (v as number) >= MIN_DATE_MS && (v as number) <= MAX_DATE_MS ? null : '"$date" must be integer milliseconds since the epoch';
    case '$time':
      return typeof v === 'string' && TIME.test(v) ? null : '"$time" must be an ISO time of day (HH:MM[:SS[.ffffff]])';
    case '$set':
      if (!Array.isArray(v)) return '"$set" must be a list';
      // Set members must be hashable once decoded: scalars or the scalar wrappers.
      return v.every((x) => !(Array.isArray(x) || (isRecord(x) && (wrapperKind(x) === null || wrapperKind(x) === '$set'))))
        ? null
        : '"$set" members must be scalars';
    case '$ipv4_interface':
      return validInterface(v, isIPv4, 32) ? null : '"$ipv4_interface" must be an IPv4 address with an optional /prefix';
    case '$ipv6_interface':
      return validInterface(v, isIPv6, 128) ? null : '"$ipv6_interface" must be an IPv6 address with an optional /prefix';
    default:
      return obj.$type === 'date' && validDate(obj.$value) ? null : '{"$type", "$value"} must be a date: {"$type": "date", "$value": "YYYY-MM-DD"}';
  }
}

export interface EjsonProblem {
  /** Keys from the value down to the offending object (empty: the value itself). */
  keys: Array<string | number>;
  message: string;
}

/**
 * The first object in `value` that the client would take for an ejson value but that is not a
 * well-formed one, or null. Iterative, so a deep value cannot overflow the stack; the path is
 * rebuilt only for the offending object.
 */
export function findEjsonProblem(value: unknown): EjsonProblem | null {
  interface Node { value: unknown; parent: Node | null; key: string | number }
  const stack: Node[] = [{ value, parent: null, key: '' }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) if (v[i] !== null && typeof v[i] === 'object') stack.push({ value: v[i], parent: node, key: i });
      continue;
    }
    const obj = v as Record<string, unknown>;
    const kind = wrapperKind(obj);
    if (kind !== null) {
      const message = wrapperProblem(kind, obj);
      if (message !== null) {
        const keys: Array<string | number> = [];
        for (let n: Node | null = node; n !== null && n.parent !== null; n = n.parent) keys.unshift(n.key);
        return { keys, message };
      }
    }
    for (const k of Object.keys(obj)) {
      const child = obj[k];
      if (child !== null && typeof child === 'object') stack.push({ value: child, parent: node, key: k });
    }
  }
  return null;
}
