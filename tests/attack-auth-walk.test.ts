// The role walker (issue 14): every method core.get_methods lists, from every module the daemon
// loads (a new module is walked without touching this file), called by a logged-in user with no
// roles and by a READONLY_ADMIN. Each must be refused every method its roles do not grant, with
// EACCES, and nothing either may call may return a secret or change an account, key or cron job.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { runToEnd } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';

const ADMIN_PASSWORD = 'walker-admin-password';
const VICTIM_PASSWORD = 'walker-victim-password';
const CRON_SECRET = 'walker-cron-environment-secret';
let d: TestDaemon;
let root: Client;
const secrets: string[] = [ADMIN_PASSWORD, VICTIM_PASSWORD, CRON_SECRET, 's3cr3t-value'];
// What stored credentials look like: none of it may ever be returned.
const MATERIAL = /scrypt\$|stored_key|server_key|password_hash/;

interface MethodMeta {
  roles: string[];
  no_auth_required: boolean;
  no_authz_required: boolean;
  accepts: { prefixItems?: JsonSchema[] };
}
type JsonSchema = Record<string, unknown>;

test.before(async () => {
  d = await startDaemon({ modules, adminPassword: ADMIN_PASSWORD, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 20, scramIterations: 4096 } });
  root = await Client.connect(d.socketPath);
  // Secrets of other accounts for the walkers to go after.
  await root.call('user.create', { username: 'victim', password: VICTIM_PASSWORD, roles: ['ACCOUNT_WRITE'] });
  await root.call('user.create', { username: 'norole', password: 'norole-password-1', roles: [] });
  await root.call('user.create', { username: 'reader', password: 'reader-password-1', roles: ['READONLY_ADMIN'] });
  const key = (await root.call('api_key.create', { name: 'admin-key', username: 'admin' })) as { key: string };
  secrets.push(key.key, key.key.split('-')[1]!);
  const cron = (await root.call('cronjob.create', { command: 'true', user: 'root', environment: { DB_PASSWORD: CRON_SECRET }, enabled: false })) as { id: number };
  await runToEnd(root, cron.id);
  const admin = await login('admin', ADMIN_PASSWORD);
  secrets.push((await admin.call('auth.generate_token', 600)) as string);
});

test.after(async () => {
  await root?.close();
  await d?.cleanup();
});

async function login(username: string, password: string): Promise<Client> {
  const c = await Client.connect(d.url);
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS', username);
  return c;
}

/** A value of the schema's shape, for calls that refuse no arguments. */
function sample(s: JsonSchema): unknown {
  if ('default' in s) return s.default;
  if ('const' in s) return s.const;
  const branches = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (branches?.length) return sample(branches[0]!);
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (Array.isArray(s.type) ? s.type[0] : s.type) {
    case 'integer':
    case 'number':
      return 1;
    case 'string':
      return 'x';
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'null':
      return null;
    default: {
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      const required = (s.required ?? []) as string[];
      return Object.fromEntries(required.map((k) => [k, sample(props[k] ?? {})]));
    }
  }
}

/** Everything a later snapshot must equal: who holds what, which keys exist, what cron runs as whom. */
async function snapshot(): Promise<string> {
  const users = (await root.call('user.query', [], { order_by: ['id'], select: ['id', 'username', 'roles', 'locked', 'password_set'] })) as unknown[];
  const keys = (await root.call('api_key.query', [], { order_by: ['id'], select: ['id', 'name', 'username', 'revoked', 'expires_at'] })) as unknown[];
  const crons = (await root.call('cronjob.query', [], { order_by: ['id'], select: ['id', 'user', 'command', 'enabled', 'environment'] })) as unknown[];
  return JSON.stringify({ users, keys, crons });
}

/** Walk every method as `username`; returns how many were refused and how many answered. */
async function walk(username: string, password: string, readRoles: boolean): Promise<{ refused: number; answered: number }> {
  const methods = (await root.call('core.get_methods')) as Record<string, MethodMeta>;
  let c = await login(username, password);
  let refused = 0;
  let answered = 0;
  for (const [name, meta] of Object.entries(methods).sort(([a], [b]) => a.localeCompare(b))) {
    if (meta.no_auth_required) continue; // anonymous calls are walked by auth.test.ts
    // A method some earlier one ended the session of (auth.logout, auth.terminate_*): log in again.
    if (c.closeCode !== null || (await c.request('auth.me')).error) c = await login(username, password);
    const granted = meta.no_authz_required || (readRoles && meta.roles.some((r) => r.endsWith('_READ') || r === 'READONLY_ADMIN'));
    if (!granted) {
      const r = await c.request(name, []);
      assert.is(r.error?.data?.reason, '[EACCES] Not authorized', `${username} must not call ${name} (roles ${meta.roles.join(', ') || 'full admin'})`);
      refused++;
      continue;
    }
    let r = await c.request(name, []);
    if (r.error?.code === -32602) r = await c.request(name, (meta.accepts.prefixItems ?? []).map(sample));
    const text = JSON.stringify(r);
    for (const s of secrets) assert.not.ok(text.includes(s), `${name} returned a secret to ${username}`);
    assert.not.match(text, MATERIAL, `${name} returned credential material to ${username}`);
    answered++;
  }
  c.ws.terminate();
  return { refused, answered };
}

test('a user with no roles is refused every method that needs one, and what it may call leaks nothing', async () => {
  const before = await snapshot();
  const { refused, answered } = await walk('norole', 'norole-password-1', false);
  assert.ok(refused > 20, `${refused} refused`);
  assert.ok(answered >= 5, `${answered} called (the login-only methods)`);
  assert.is(await snapshot(), before, 'no account, key or cron job changed');
});

test('a READONLY_ADMIN is refused every write method, and nothing it reads leaks a secret', async () => {
  const before = await snapshot();
  const { refused, answered } = await walk('reader', 'reader-password-1', true);
  assert.ok(refused > 10, `${refused} refused`);
  assert.ok(answered > 10, `${answered} read`);
  assert.is(await snapshot(), before, 'no account, key or cron job changed');
});

test.run();
