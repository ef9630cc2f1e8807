// Logins (PROTOCOL.md 8, 9.5), the way midclt does them: password with auth.login_ex
// PASSWORD_PLAIN (falling back to auth.login on servers without login_ex), API keys with
// SCRAM-SHA-512 by default or API_KEY_PLAIN with --plain.
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { scramClient, splitApiKey } from '../daemon/auth/scram.js';
import type { Client } from './client.js';
import { ClientError, LoginError } from './errors.js';
import { ERRNO, RPC } from '../daemon/errors.js';

export interface LoginOptions {
  username?: string;
  password?: string;
  /** An API key `<id>-<secret>`, or an absolute path to a file holding one (raw, JSON or INI). */
  apiKey?: string;
  /** Send the API key in the clear (API_KEY_PLAIN) instead of SCRAM. */
  plain?: boolean;
  /** Asked for the one-time password when the server answers OTP_REQUIRED. */
  otp?: () => Promise<string>;
}

function isMissingMethod(err: unknown): boolean {
  return err instanceof ClientError && (err.code === RPC.METHOD_NOT_FOUND || /Method does not exist|ENOMETHOD/.test(err.reason) || err.errno === ERRNO.ENOMETHOD);
}

function refused(type: string): LoginError {
  switch (type) {
    case 'AUTH_ERR':
      return new LoginError('Invalid username or credential (AUTH_ERR)');
    case 'EXPIRED':
      return new LoginError('The credential or account has expired (EXPIRED)');
    case 'DENIED':
      return new LoginError('The account is not allowed to use the API (DENIED)');
    case 'REDIRECT':
      return new LoginError('The server asks to log in on another node (REDIRECT)');
    default:
      return new LoginError(`Unexpected login answer ${type}`);
  }
}

interface LoginResponse {
  response_type?: string;
  scram_type?: string;
  rfc_str?: string;
}

async function finishLoginEx(c: Client, r: LoginResponse, o: LoginOptions): Promise<void> {
  let resp = r;
  if (resp.response_type === 'OTP_REQUIRED') {
    if (!o.otp) throw new LoginError('The account needs a one-time password (OTP_REQUIRED) and none can be asked for');
    resp = await c.call<LoginResponse>('auth.login_ex_continue', [{ mechanism: 'OTP_TOKEN', otp_token: await o.otp() }]);
  }
  if (resp.response_type !== 'SUCCESS') throw refused(String(resp.response_type));
}

export async function loginPassword(c: Client, username: string, password: string, o: LoginOptions = {}): Promise<void> {
  if (!c.legacy) {
    try {
      const r = await c.call<LoginResponse>('auth.login_ex', [{ mechanism: 'PASSWORD_PLAIN', username, password }]);
      return await finishLoginEx(c, r, o);
    } catch (err) {
      if (!isMissingMethod(err)) throw err;
    }
  }
  const ok = await c.call('auth.login', [username, password, null]);
  if (ok !== true) throw new LoginError('Invalid username or password');
}

/** The key material: the argument itself, or read from the absolute path it names. */
export async function readApiKey(keyOrPath: string): Promise<{ key: string; username: string | null }> {
  if (!isAbsolute(keyOrPath)) return { key: keyOrPath.trim(), username: null };
  const text = (await readFile(keyOrPath, 'utf8')).trim();
  if (text.startsWith('{')) {
    const j = JSON.parse(text) as Record<string, unknown>;
    const key = j.api_key ?? j.key ?? j.raw_key;
    const user = j.username ?? j.user;
    if (typeof key !== 'string') throw new LoginError(`${keyOrPath}: no "api_key" in the JSON key file`);
    return { key: key.trim(), username: typeof user === 'string' ? user : null };
  }
  if (/^\s*[[;#]|^\s*\w+\s*=/m.test(text)) {
    const values = new Map<string, string>();
    for (const line of text.split('\n')) {
      const m = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (m) values.set(m[1]!.toLowerCase(), m[2]!);
    }
    const key = values.get('api_key') ?? values.get('key');
    if (key === undefined) throw new LoginError(`${keyOrPath}: no api_key = ... in the key file`);
    return { key, username: values.get('username') ?? values.get('user') ?? null };
  }
  return { key: text, username: null };
}

async function mechanismChoices(c: Client): Promise<string[] | null> {
  try {
    const r = await c.call('auth.mechanism_choices');
    return Array.isArray(r) ? r.map(String) : [];
  } catch (err) {
    if (isMissingMethod(err)) return null;
    throw err;
  }
}

export async function loginApiKey(c: Client, username: string | null, keyOrPath: string, o: LoginOptions = {}): Promise<void> {
  const material = await readApiKey(keyOrPath);
  const user = username ?? material.username;
  const parts = splitApiKey(material.key);
  if (!parts) throw new LoginError('The API key is not shaped like <id>-<secret>');
  const choices = await mechanismChoices(c);
  if (c.legacy || (o.plain && user === null)) {
    const ok = await c.call('auth.login_with_api_key', [material.key]);
    if (ok !== true) throw new LoginError('Invalid API key');
    return;
  }
  if (user === null) throw new LoginError('A username is needed for an API key login: pass -U USER');
  if (o.plain) {
    const r = await c.call<LoginResponse>('auth.login_ex', [{ mechanism: 'API_KEY_PLAIN', username: user, api_key: material.key }]);
    return finishLoginEx(c, r, o);
  }
  if (choices !== null && !choices.includes('SCRAM')) {
    throw new LoginError('The server does not offer SCRAM; pass --plain to send the API key with API_KEY_PLAIN');
  }
  const sc = scramClient(user, parts.keyId, parts.secret);
  const first = await c.call<LoginResponse>('auth.login_ex', [{ mechanism: 'SCRAM', scram_type: 'CLIENT_FIRST_MESSAGE', rfc_str: sc.clientFirst }]);
  if (first.response_type !== 'SCRAM_RESPONSE' || typeof first.rfc_str !== 'string') throw refused(String(first.response_type));
  const final = await c.call<LoginResponse>('auth.login_ex', [{ mechanism: 'SCRAM', scram_type: 'CLIENT_FINAL_MESSAGE', rfc_str: await sc.clientFinal(first.rfc_str) }]);
  if (final.response_type !== 'SCRAM_RESPONSE' || typeof final.rfc_str !== 'string') throw refused(String(final.response_type));
  if (!sc.verifyServerFinal(final.rfc_str)) {
    await c.call('auth.logout').catch(() => undefined);
    throw new LoginError('The server could not prove it knows this API key (SCRAM server signature mismatch); logged out');
  }
}

/** Log in with whatever `o` carries; does nothing without credentials. */
export async function login(c: Client, o: LoginOptions): Promise<void> {
  if (o.apiKey !== undefined) return loginApiKey(c, o.username ?? null, o.apiKey, o);
  if (o.username !== undefined) {
    if (o.password === undefined) throw new LoginError('No password given (-P)');
    return loginPassword(c, o.username, o.password, o);
  }
}

export function hasCredentials(o: LoginOptions): boolean {
  return o.apiKey !== undefined || o.username !== undefined;
}
