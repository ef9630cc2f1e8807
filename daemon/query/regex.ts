// Regular expressions of the `~` filter operator (PROTOCOL.md 7.1): Python `re` syntax, anchored
// at the start like re.match, run by RE2 (re2js, a pure-JS port) so that matching takes time
// linear in the text whatever the pattern. Any logged-in user can send a pattern; with V8's
// backtracking engine `(.|.)*X` over one job description froze the whole daemon for seconds, each
// extra character doubling it. RE2 has no lookaround and no backreferences: such patterns are
// refused with a message saying so, never run.
import { RE2JS } from 're2js';
import { RegexError } from '../errors.js';

/** Longer patterns are refused: matching costs pattern size times text size. */
const MAX_PATTERN_CHARS = 1000;

export interface LinearRegex {
  /** Whether the pattern matches at the start of `text` (Python's re.match). */
  test(text: string): boolean;
}

const UNSUPPORTED = 'not supported: filters use a linear-time regex engine (RE2), without lookaround or backreferences';

/** Python-only syntax to RE2: \Z, comments, `]` first in a class; refuses backreferences. */
function translate(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      const next = src[i + 1] ?? '';
      i++;
      if (!inClass && /[1-9]/.test(next)) throw new RegexError(`backreference \\${next} is ${UNSUPPORTED}`);
      out += !inClass && next === 'Z' ? '\\z' : ch + next;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (src[i + 1] === '^') out += src[++i];
      // Python takes a `]` right after `[` or `[^` literally.
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (src.startsWith('(?P=', i)) throw new RegexError(`backreference ${src.slice(i, src.indexOf(')', i) + 1 || undefined)} is ${UNSUPPORTED}`);
    if (/^\(\?<?[=!]/.test(src.slice(i, i + 4))) throw new RegexError(`lookaround ${src.slice(i, i + 4)}... is ${UNSUPPORTED}`);
    if (src.startsWith('(?#', i)) {
      const end = src.indexOf(')', i);
      if (end < 0) throw new RegexError('missing ), unterminated comment');
      i = end;
      continue;
    }
    out += ch;
  }
  return out;
}

/** Compile a Python-style pattern; leading global flags such as `(?i)` become RE2 flags. */
export function compilePythonRegex(pattern: string): LinearRegex {
  if (pattern.length > MAX_PATTERN_CHARS) throw new RegexError(`pattern longer than ${MAX_PATTERN_CHARS} characters`);
  let flags = 0;
  let rest = pattern;
  for (let m = /^\(\?([a-zA-Z]+)\)/.exec(rest); m; m = /^\(\?([a-zA-Z]+)\)/.exec(rest)) {
    for (const f of m[1]!) {
      if (f === 'i') flags |= RE2JS.CASE_INSENSITIVE;
      else if (f === 'm') flags |= RE2JS.MULTILINE;
      else if (f === 's') flags |= RE2JS.DOTALL;
      else if (f !== 'u' && f !== 'a') throw new RegexError(`unsupported inline flag '${f}'`);
    }
    rest = rest.slice(m[0].length);
  }
  let re: RE2JS;
  try {
    // \A anchors at the start of the text even with MULTILINE, as re.match does.
    re = RE2JS.compile(`\\A(?:${translate(rest)})`, flags);
  } catch (err) {
    if (err instanceof RegexError) throw err;
    const message = (err as Error).message.replace(/^error parsing regexp: /, '');
    throw new RegexError(/unsupported Perl syntax|invalid named capture: `\(\?</.test(message) ? `${message} (${UNSUPPORTED})` : message);
  }
  return { test: (text) => re.test(text) };
}
