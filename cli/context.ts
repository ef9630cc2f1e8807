// What every subcommand shares: the global options, opening a (logged-in) session, printing,
// and the exit code.
import { hasCredentials, type LoginOptions } from './auth.js';
import { DEFAULT_TIMEOUT_MS } from './client.js';
import { ClientError, ConnectionError, LoginError } from './errors.js';
import { ERRNO } from '../daemon/errors.js';
import { errorJson, errorLines } from './format.js';
import { Session } from './session.js';
import { defaultUri, UriError } from './uri.js';

export interface GlobalOptions {
  uri?: string;
  username?: string;
  password?: string;
  apiKey?: string;
  timeout?: string;
  insecure?: boolean;
  /** commander turns --no-channel-binding into channelBinding: false (SCRAM never binds here). */
  channelBinding?: boolean;
  plain?: boolean;
  json?: boolean;
  reconnectTimeout?: string;
}

/** Thrown to end the program with `code` after printing `lines` on stderr. */
export class Exit extends Error {
  constructor(readonly code: number, readonly lines: string[] = []) {
    super(lines.join('\n') || `exit ${code}`);
  }
}

export function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(`${text}\n`);
}

function seconds(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Exit(2, [`${name}: expected a positive number of seconds, got '${v}'`]);
  return n * 1000;
}

/** The per-call timeout: -t, else env CALL_TIMEOUT, else 60 s. */
export function callTimeoutMs(g: GlobalOptions): number {
  return seconds(g.timeout ?? process.env.CALL_TIMEOUT, '-t/--timeout', DEFAULT_TIMEOUT_MS);
}

/** Read a password from the terminal without echo. */
async function promptPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new Exit(1, ['Failed to login: no password given (-P) and stdin is not a terminal to ask for one']);
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            return resolve();
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            return reject(new Exit(130));
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
  return value;
}

async function loginOptions(g: GlobalOptions): Promise<LoginOptions> {
  const o: LoginOptions = { plain: g.plain === true };
  if (g.username !== undefined) o.username = g.username;
  if (g.apiKey !== undefined) o.apiKey = g.apiKey;
  if (g.password !== undefined) o.password = g.password;
  if (o.username !== undefined && o.password === undefined && o.apiKey === undefined) o.password = await promptPassword('Password: ');
  if (hasCredentials(o) && process.stdin.isTTY) o.otp = () => promptPassword('One-time password: ');
  return o;
}

/** Connect (and log in when credentials were given); connection and login failures become Exit 1. */
export async function openSession(g: GlobalOptions, hooks: { onReconnecting?: (attempt: number, delayMs: number, e: Error) => void } = {}): Promise<Session> {
  const uri = g.uri ?? defaultUri();
  const login = await loginOptions(g);
  try {
    return await Session.open({
      uri,
      connect: { timeoutMs: callTimeoutMs(g), insecure: g.insecure === true },
      login,
      giveUpMs: seconds(g.reconnectTimeout ?? process.env.MIDCLT_RECONNECT_TIMEOUT, '--reconnect-timeout', DEFAULT_TIMEOUT_MS),
      onReconnecting: hooks.onReconnecting,
    });
  } catch (e) {
    if (e instanceof UriError) throw new Exit(1, [e.message]);
    if (e instanceof ConnectionError) throw new Exit(1, e.message.split('\n'));
    if (e instanceof LoginError || e instanceof ClientError) throw new Exit(1, [`Failed to login: ${e.message}`]);
    throw e;
  }
}

/** Print a failed call the way midclt does (or as JSON with --json) and give exit code 1. */
export function failure(e: unknown, o: { quiet?: boolean; json?: boolean } = {}): Exit {
  if (o.quiet) return new Exit(1);
  if (o.json) return new Exit(1, [JSON.stringify(errorJson(e))]);
  const lines = errorLines(e);
  if (e instanceof ClientError && e.errno === ERRNO.ENOTAUTHENTICATED) lines.push('(log in with -U USER and -P PASSWORD, or -U USER -K API_KEY)');
  return new Exit(1, lines);
}
