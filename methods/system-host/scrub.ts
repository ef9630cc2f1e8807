// What system.debug leaves out of its bundle. Values under names that carry secrets are replaced
// in JSON (objects) and in text (log lines, job logs): the bundle goes to support, by mail or a
// ticket, and must never carry a password, key or token, even one a caller put where the schemas
// did not expect it.
import { REDACTED } from '#midship/module-api';

/** Names whose string values are secrets (case-insensitive, anywhere in the name). */
const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|api_?key|private_?key|^key$|credential_?data|authorization|cookie/i;

/**
 * A deep copy with every value under a secret name replaced (numbers are counts and sizes, not
 * secrets), and every other string scrubbed as text (a command line in a log excerpt).
 */
export function scrubObject(value: unknown, depth = 0): unknown {
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1));
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_NAME.test(k) && (typeof v === 'string' || (typeof v === 'object' && v !== null)) ? REDACTED : scrubObject(v, depth + 1);
  }
  return out;
}

const JSON_PAIR = /"([^"\\]{0,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
const QUERY_SECRET = /([?&](?:auth_token|token|api_key|password)=)[^&\s"']+/gi;
const SHELL_SECRET = /(--?(?:password|passwd|pass|secret|token|api[-_]?key)[= ])(\S+)/gi;

/** Text with the values of secret-named JSON pairs, query parameters and command-line options replaced. */
export function scrubText(text: string): string {
  return text
    .replace(JSON_PAIR, (whole, name: string, colon: string) => (SECRET_NAME.test(name) ? `"${name}"${colon}"${REDACTED}"` : whole))
    .replace(QUERY_SECRET, `$1${REDACTED}`)
    .replace(SHELL_SECRET, `$1${REDACTED}`);
}
