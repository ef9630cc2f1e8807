// Authentication, users, API keys, roles and job ownership (issue 5).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { scramClient } from '../daemon/auth/scram.js';
import { DEFAULT_AUTH } from '../daemon/config.js';

const ADMIN_PASSWORD = 'correct horse battery staple';
const FAIL_DELAY = 200;
let d: TestDaemon;
let root: Client; // unix socket: local administrator

test.before(async () => {
  d = await startDaemon({ modules, adminPassword: ADMIN_PASSWORD, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: FAIL_DELAY, failuresBeforeSlowdown: 5, scramIterations: 4096 } });
  root = await Client.connect(d.socketPath);
});
test.after(async () => {
  await root.close();
  await d.cleanup();
});

async function login(username: string, password: string): Promise<Client> {
  const c = await Client.connect(d.url);
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS', `login ${username}`);
  return c;
}

async function createUser(username: string, roles: string[], password = `${username}-password-1`): Promise<number> {
  const u = (await root.call('user.create', { username, password, roles, full_name: username.toUpperCase() })) as { id: number };
  return u.id;
}

test('every method that needs a login refuses an unauthenticated TCP connection with ENOTAUTHENTICATED', async () => {
  const methods = (await root.call('core.get_methods')) as Record<string, { no_auth_required: boolean }>;
  const anon = await Client.connect(d.url);
  let checked = 0;
  for (const [name, meta] of Object.entries(methods)) {
    if (meta.no_auth_required) continue;
    const r = await anon.request(name, []);
    assert.is(r.error?.code, -32001, name);
    assert.is(r.error?.data?.error, 207, name);
    assert.is(r.error?.data?.reason, '[ENOTAUTHENTICATED] Not authenticated', name);
    checked++;
  }
  assert.ok(checked > 20, `${checked} methods checked`);
  assert.equal(await anon.call('auth.mechanism_choices'), ['API_KEY_PLAIN', 'TOKEN_PLAIN', 'PASSWORD_PLAIN', 'SCRAM']);
  await anon.close();
});

test('first start creates admin; without MIDSHIP_ADMIN_PASSWORD a random one goes to a 0600 file', async () => {
  const c = await login('admin', ADMIN_PASSWORD);
  const me = (await c.call('auth.me')) as { pw_name: string; privilege: { roles: { $set: string[] } } };
  assert.is(me.pw_name, 'admin');
  assert.equal(me.privilege.roles.$set, ['FULL_ADMIN']);
  await c.close();
  const other = await startDaemon({ modules, auth: { ...DEFAULT_AUTH, failDelayMs: 10, failuresBeforeSlowdown: 5, scramIterations: 4096 } });
  const file = join(other.dataDir, 'admin-password');
  assert.is((await stat(file)).mode & 0o777, 0o600);
  const password = (await readFile(file, 'utf8')).trim();
  assert.ok(other.logs.some((l) => l.file === file), 'the path is logged');
  assert.not.ok(JSON.stringify(other.logs).includes(password), 'the password is not');
  const c2 = await Client.connect(other.url);
  assert.is(((await c2.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password })) as { response_type: string }).response_type, 'SUCCESS');
  await c2.close();
  await other.cleanup();
});

test('password logins: SUCCESS, AUTH_ERR after the same delay whether user or password was wrong, auth.login, logout', async () => {
  await createUser('alice', ['READONLY_ADMIN'], 'alice-secret-pw');
  const c = await Client.connect(d.url);
  for (const [username, password] of [['nobody', 'x'], ['alice', 'wrong-password']] as const) {
    const started = Date.now();
    const r = await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password });
    assert.equal(r, { response_type: 'AUTH_ERR' });
    assert.ok(Date.now() - started >= FAIL_DELAY - 5, 'answered after the constant delay');
  }
  assert.is(await c.call('auth.login', 'alice', 'nope', null), false);
  assert.is(await c.call('auth.login', 'alice', 'alice-secret-pw', null), true);
  const me = (await c.call('auth.me')) as { pw_name: string; credentials_type: string };
  assert.is(me.pw_name, 'alice');
  assert.is(me.credentials_type, 'LOGIN_PASSWORD');
  const partial = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'alice', password: 'alice-secret-pw', login_options: { user_info: false } })) as Record<string, unknown>;
  assert.is(partial.response_type, 'SUCCESS');
  assert.is(partial.user_info, null, 'login_options.user_info false is honoured, reconnect_token may be left out');
  const bad = await c.request('auth.login_ex', [{ mechanism: 'PASSWORD_PLAIN', username: 'alice', password: 'x', extra: 1 }]);
  assert.is(bad.error?.code, -32602);
  assert.is(await c.call('auth.logout'), true);
  assert.is((await c.request('core.get_jobs', [])).error?.data?.error, 207);
  await c.close();
});

test('users: CRUD through user.*, password never returned, query language works', async () => {
  const id = await createUser('bob', ['ACCOUNT_READ']);
  const u = (await root.call('user.get_instance', id)) as Record<string, unknown>;
  assert.is(u.username, 'bob');
  assert.is(u.password_set, true);
  assert.not.ok('password' in u || 'password_hash' in u);
  const dup = await root.request('user.create', [{ username: 'bob', password: 'whatever-123' }]);
  assert.equal(dup.error?.data?.extra, [['user_create.username', "A user named 'bob' already exists", 17]]);
  const badRole = await root.request('user.create', [{ username: 'eve', roles: ['ROOT'] }]);
  assert.is((badRole.error?.data?.extra as unknown[][])[0]![0], 'user_create.roles.0');
  const found = (await root.call('user.query', [['roles', 'rin', 'ACCOUNT_READ']], { select: ['username'] })) as unknown[];
  assert.equal(found, [{ username: 'bob' }]);
  const updated = (await root.call('user.update', id, { full_name: 'Bob B' })) as { full_name: string };
  assert.is(updated.full_name, 'Bob B');
  const missing = await root.request('user.get_instance', [9999]);
  assert.equal(missing.error?.data?.extra, [[null, 'User 9999 does not exist', 2]]);
});

test('roles: a READONLY_ADMIN cannot call a single write method (enumerated from core.get_methods)', async () => {
  const c = await login('alice', 'alice-secret-pw');
  const methods = (await root.call('core.get_methods')) as Record<string, { roles: string[]; no_auth_required: boolean; no_authz_required: boolean }>;
  let writes = 0;
  for (const [name, meta] of Object.entries(methods)) {
    if (meta.no_auth_required || meta.no_authz_required) continue;
    if (meta.roles.some((r) => r.endsWith('_READ') || r === 'READONLY_ADMIN')) continue;
    writes++;
    const r = await c.request(name, []);
    assert.is(r.error?.data?.reason, '[EACCES] Not authorized', name);
  }
  assert.ok(writes >= 8, `${writes} write methods`);
  assert.ok(Array.isArray(await c.call('user.query')), 'reads are allowed');
  const sub = await c.request('core.subscribe', ['user.query']);
  assert.type(sub.result, 'string');
  await c.close();
});

test('results are redacted for callers without the namespace WRITE role', async () => {
  await createUser('reader', ['TEST_READ']);
  await createUser('writer', ['TEST_WRITE']);
  const r = await login('reader', 'reader-password-1');
  const w = await login('writer', 'writer-password-1');
  assert.equal(await r.call('test.query'), { name: 'visible', secret: '********' });
  assert.equal(await w.call('test.query'), { name: 'visible', secret: 's3cr3t-value' });
  const denied = await r.request('core.subscribe', ['test.tick']);
  assert.type(denied.result, 'string', 'TEST_READ may subscribe to a TEST_READ event');
  await r.close();
  await w.close();
});

test('job ownership: user A cannot see, wait on or abort user B\'s job', async () => {
  await createUser('usera', ['TEST_WRITE']);
  await createUser('userb', ['TEST_WRITE']);
  const a = await login('usera', 'usera-password-1');
  const b = await login('userb', 'userb-password-1');
  await a.call('core.subscribe', 'core.get_jobs');
  const jobB = (await b.call('test.job', { steps: 20, delay: 20 })) as number;
  const jobA = (await a.call('test.job', { steps: 0 })) as number;
  const seen = (await a.call('core.get_jobs')) as Array<{ id: number }>;
  assert.ok(seen.some((j) => j.id === jobA));
  assert.not.ok(seen.some((j) => j.id === jobB), 'B\'s job is not listed for A');
  const abort = await a.request('core.job_abort', [jobB]);
  assert.is(abort.error?.data?.reason, '[EPERM] Job is not owned by current session');
  const logs = await a.request('core.job_download_logs', [jobB, 'x.log']);
  assert.is(logs.error?.data?.errname, 'EPERM');
  await a.call('core.set_options', { legacy_jobs: false });
  const wait = await a.request('core.job_wait', [jobB]);
  assert.is(wait.error?.data?.errname, 'EPERM');
  assert.is(await b.call('core.job_abort', jobB), null, 'the owner may abort');
  assert.not.ok(a.received.some((m) => (m.params as { id?: number } | undefined)?.id === jobB && (m.params as { collection: string }).collection === 'core.get_jobs'), 'no events of B\'s job reach A');
  const internal = await a.request('core.get_jobs', [[['credentials', '=', null]]]);
  assert.equal(internal.result, []);
  await a.close();
  await b.close();
});

test('API keys: shown once; plain, legacy and SCRAM logins; revocation ends sessions at once', async () => {
  await createUser('carol', ['TEST_WRITE']);
  const created = (await root.call('api_key.create', { name: 'ci', username: 'carol' })) as { id: number; key: string };
  assert.match(created.key, new RegExp(`^${created.id}-[A-Za-z0-9]{64}$`));
  const secret = created.key.split('-')[1]!;
  assert.not.ok(JSON.stringify(await root.call('api_key.query')).includes(secret), 'never returned again');
  const plain = await Client.connect(d.url);
  const r = (await plain.call('auth.login_ex', { mechanism: 'API_KEY_PLAIN', username: 'carol', api_key: created.key })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS');
  assert.is(((await plain.call('auth.me')) as { credentials_type: string }).credentials_type, 'API_KEY');
  const wrongUser = await Client.connect(d.url);
  assert.equal(await wrongUser.call('auth.login_ex', { mechanism: 'API_KEY_PLAIN', username: 'alice', api_key: created.key }), { response_type: 'AUTH_ERR' });
  assert.is(await wrongUser.call('auth.login_with_api_key', created.key), true);
  const scram = await Client.connect(d.url);
  const client = scramClient('carol', created.id, secret);
  const first = (await scram.call('auth.login_ex', { mechanism: 'SCRAM', scram_type: 'CLIENT_FIRST_MESSAGE', rfc_str: client.clientFirst })) as { response_type: string; scram_type: string; rfc_str: string };
  assert.is(first.scram_type, 'SERVER_FIRST_RESPONSE');
  const final = (await scram.call('auth.login_ex', { mechanism: 'SCRAM', scram_type: 'CLIENT_FINAL_MESSAGE', rfc_str: await client.clientFinal(first.rfc_str) })) as { response_type: string; scram_type: string; rfc_str: string };
  assert.is(final.scram_type, 'SERVER_FINAL_RESPONSE');
  assert.ok(client.verifyServerFinal(final.rfc_str), 'server proved it knows the key');
  assert.is(await scram.call('core.ping'), 'pong');
  assert.type(await scram.call('core.get_jobs', [], { count: true }), 'number');
  // Revoking the key ends all three sessions at once.
  await root.call('api_key.delete', created.id);
  for (const c of [plain, wrongUser, scram]) assert.is(await c.closed, 1008);
  const again = await Client.connect(d.url);
  assert.equal(await again.call('auth.login_ex', { mechanism: 'API_KEY_PLAIN', username: 'carol', api_key: created.key }), { response_type: 'AUTH_ERR' });
  await again.close();
  // The database holds no trace of the secret.
  const dbDir = join(d.dataDir, 'db');
  for (const f of await readdir(dbDir)) {
    const bytes = await readFile(join(dbDir, f)).catch(() => Buffer.alloc(0));
    assert.not.ok(bytes.includes(secret), `secret found in ${f}`);
  }
});

test('an expired API key refuses logins with EXPIRED and ends its open sessions; a deleted user loses its sessions', async () => {
  await createUser('dave', ['TEST_WRITE']);
  const k = (await root.call('api_key.create', { name: 'short', username: 'dave', expires_at: { $date: Date.now() + 1500 } })) as { id: number; key: string };
  const c = await Client.connect(d.url);
  assert.is(((await c.call('auth.login_ex', { mechanism: 'API_KEY_PLAIN', username: 'dave', api_key: k.key })) as { response_type: string }).response_type, 'SUCCESS');
  assert.is(await c.closed, 1008, 'session ended when the key expired');
  const late = await Client.connect(d.url);
  assert.equal(await late.call('auth.login_ex', { mechanism: 'API_KEY_PLAIN', username: 'dave', api_key: k.key }), { response_type: 'EXPIRED' });
  await late.close();
  const id = await createUser('erin', ['TEST_WRITE']);
  const e = await login('erin', 'erin-password-1');
  await root.call('user.delete', id);
  assert.is(await e.closed, 1008);
});

test('tokens: generate_token, login_with_token, single use, TOKEN_PLAIN', async () => {
  const c = await login('alice', 'alice-secret-pw');
  const token = (await c.call('auth.generate_token', 60, {}, true, true)) as string;
  assert.ok(token.length >= 32);
  const t = await Client.connect(d.url);
  assert.is(await t.call('auth.login_with_token', token), true);
  assert.is(((await t.call('auth.me')) as { pw_name: string; credentials_type: string }).credentials_type, 'TOKEN');
  const t2 = await Client.connect(d.url);
  assert.is(await t2.call('auth.login_with_token', token), false, 'single use');
  const multi = (await c.call('auth.generate_token', 60)) as string;
  assert.is(((await t2.call('auth.login_ex', { mechanism: 'TOKEN_PLAIN', token: multi })) as { response_type: string }).response_type, 'SUCCESS');
  for (const x of [c, t, t2]) await x.close();
});

test('tokens survive a daemon restart and pick up the account\'s current roles', async () => {
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp(join(d.dataDir, '..', 'midship-tok-')));
  const opts = { modules, dataDir: dir, adminPassword: ADMIN_PASSWORD, auth: { ...DEFAULT_AUTH, failDelayMs: 10, failuresBeforeSlowdown: 5, scramIterations: 4096 } };
  let one = await startDaemon(opts);
  let c = await Client.connect(one.url);
  await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: ADMIN_PASSWORD });
  const token = (await c.call('auth.generate_token', 600)) as string;
  await c.close();
  await one.stop();
  one = await startDaemon(opts);
  c = await Client.connect(one.url);
  assert.equal(((await c.call('auth.login_ex', { mechanism: 'TOKEN_PLAIN', token })) as { response_type: string }).response_type, 'SUCCESS');
  assert.is(((await c.call('auth.me')) as { pw_name: string }).pw_name, 'admin');
  const stored = JSON.stringify(await import('node:fs/promises').then(async (fs) => Promise.all((await fs.readdir(join(dir, 'db'))).map((f) => fs.readFile(join(dir, 'db', f)).then((b) => b.toString('latin1'), () => '')))));
  assert.not.ok(stored.includes(token), 'the token itself is not stored');
  await c.close();
  await one.cleanup();
});

test('brute force at one account from one address is slowed down', async () => {
  const c = await Client.connect(d.url);
  for (let i = 0; i < 6; i++) await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'alice', password: `guess-${i}` });
  const started = Date.now();
  await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'alice', password: 'guess-x' });
  assert.ok(Date.now() - started >= 2 * FAIL_DELAY, 'a further attempt waits longer than the constant delay');
  await c.close();
});

test('unauthenticated no-auth calls are rate limited per address (EBUSY after a delay)', async () => {
  const small = await startDaemon({ modules, limits: { anonCallsPerMinute: 3 }, auth: { ...DEFAULT_AUTH, failDelayMs: 10, failuresBeforeSlowdown: 5, scramIterations: 4096 } });
  const c = await Client.connect(small.url);
  for (let i = 0; i < 3; i++) assert.is(await c.call('core.ping'), 'pong');
  const started = Date.now();
  const r = await c.request('core.ping', []);
  assert.is(r.error?.data?.reason, '[EBUSY] Rate Limit Exceeded');
  assert.ok(Date.now() - started >= 1000, 'after a delay');
  assert.equal(await c.call('core.set_options', {}), { legacy_jobs: true, private_methods: false, py_exceptions: false }, 'set_options is never limited');
  const local = await Client.connect(small.socketPath);
  for (let i = 0; i < 5; i++) assert.is(await local.call('core.ping'), 'pong', 'unix-socket peers are exempt');
  await c.close();
  await local.close();
  await small.cleanup();
});

test('passwords and keys never appear in the logs or the audit trail', async () => {
  const text = JSON.stringify(d.logs);
  for (const secret of [ADMIN_PASSWORD, 'alice-secret-pw', 'carol-password-1', 'guess-3']) assert.not.ok(text.includes(secret), secret);
  assert.ok(d.logs.some((l) => l.audit === true && l.method === 'user.create'), 'writes are audited');
  assert.ok(d.logs.some((l) => l.msg === 'login failed'), 'failures are logged');
});

test.run();
