// Issue 14, the auth side, played as an attacker with a local account over real connections:
// escalation through user.*, api_key.*, cronjob.* and core.bulk; names that impersonate the
// system or carry control characters; token starvation; login lock-out. Each case checks the
// refusal and that nothing changed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { runToEnd } from './helpers/cronjob.js';
import { until } from './helpers/until.js';
import { Client, startDaemon, type StartOptions, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';

const ADMIN_PASSWORD = 'attack-admin-password';
const isRoot = process.getuid?.() === 0;
let base: string;
let d: TestDaemon;
let root: Client;
const clients: Client[] = [];

const opts = (dataDir: string, more: Partial<StartOptions> = {}): StartOptions => ({
  modules,
  dataDir,
  adminPassword: ADMIN_PASSWORD,
  limits: { anonCallsPerMinute: 10_000 },
  auth: { ...DEFAULT_AUTH, failDelayMs: 20, scramIterations: 4096 },
  ...more,
});

test.before(async () => {
  base = await mkdtemp(join(tmpdir(), 'midship-attack-auth-'));
  d = await startDaemon(opts(join(base, 'main')));
  root = await Client.connect(d.socketPath);
});

test.after(async () => {
  for (const c of clients) c.ws.terminate();
  await root?.close();
  await d?.stop();
  await rm(base, { recursive: true, force: true });
});

async function connect(t: TestDaemon, localAddress?: string): Promise<Client> {
  const c = await Client.connect(t.url, '/api/current', localAddress === undefined ? {} : { localAddress });
  clients.push(c);
  return c;
}

async function loginAs(t: TestDaemon, username: string, password: string, localAddress?: string): Promise<Client> {
  const c = await connect(t, localAddress);
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS', `login ${username}`);
  return c;
}

async function user(c: Client, username: string, roles: string[]): Promise<number> {
  return ((await c.call('user.create', { username, password: `${username}-password-1`, roles })) as { id: number }).id;
}

/** The error of a call that must fail: [attribute, message, errno] entries, or the reason. */
async function refusal(c: Client, method: string, ...params: unknown[]): Promise<{ attrs: string[]; reason: string; errname: string; code: number }> {
  const r = await c.request(method, params);
  assert.ok(r.error, `${method} must be refused, got ${JSON.stringify(r.result)}`);
  const extra = r.error!.data?.extra;
  return {
    attrs: Array.isArray(extra) ? extra.filter(Array.isArray).map((e) => String((e as unknown[])[0])) : [],
    reason: String(r.error!.data?.reason ?? ''),
    errname: String(r.error!.data?.errname ?? ''),
    code: Number(r.error!.code),
  };
}

const rolesOf = async (id: number) => ((await root.call('user.get_instance', id)) as { roles: string[] }).roles;

test('ACCOUNT_WRITE with API_KEY_WRITE cannot mint keys for admin, make a FULL_ADMIN, grant itself roles, or take over accounts', async () => {
  const mallory = await user(root, 'mallory', ['ACCOUNT_WRITE', 'API_KEY_WRITE']);
  const plain = await user(root, 'plain', []);
  const adminId = ((await root.call('user.query', [['username', '=', 'admin']], { get: true })) as { id: number }).id;
  const adminKey = (await root.call('api_key.create', { name: 'admin-key', username: 'admin' })) as { id: number; key: string };
  const m = await loginAs(d, 'mallory', 'mallory-password-1');
  const keysBefore = JSON.stringify(await root.call('api_key.query', [], { order_by: ['id'] }));

  let e = await refusal(m, 'api_key.create', { name: 'backdoor', username: 'admin' });
  assert.equal(e.attrs, ['api_key_create.username']);
  assert.match(e.reason, /full admin/);
  e = await refusal(m, 'api_key.update', adminKey.id, { reset: true });
  assert.is(e.errname, 'EPERM', 'resetting admin\'s key would hand its new secret to the caller');
  e = await refusal(m, 'api_key.update', adminKey.id, { expires_at: null });
  assert.is(e.errname, 'EPERM');
  e = await refusal(m, 'api_key.delete', adminKey.id);
  assert.is(e.errname, 'EPERM');
  assert.is(JSON.stringify(await root.call('api_key.query', [], { order_by: ['id'] })), keysBefore, 'no key made or changed');

  e = await refusal(m, 'user.create', { username: 'sidekick', password: 'sidekick-pass-1', roles: ['ACCOUNT_READ', 'FULL_ADMIN'] });
  assert.equal(e.attrs, ['user_create.roles.1']);
  assert.match(e.reason, /cannot grant FULL_ADMIN/);
  assert.equal(await root.call('user.query', [['username', '=', 'sidekick']]), [], 'not created');
  e = await refusal(m, 'user.create', { username: 'sidekick', password: 'sidekick-pass-1', roles: ['SYSTEM_CRON_WRITE'] });
  assert.equal(e.attrs, ['user_create.roles.0'], 'nor a role it does not hold');
  e = await refusal(m, 'user.update', mallory, { roles: ['ACCOUNT_WRITE', 'API_KEY_WRITE', 'FULL_ADMIN'] });
  assert.equal(e.attrs, ['user_update.roles']);
  e = await refusal(m, 'user.update', mallory, { roles: [] });
  assert.equal(e.attrs, ['user_update.roles'], 'own roles do not change either way');
  e = await refusal(m, 'user.update', plain, { roles: ['READONLY_ADMIN'] });
  assert.equal(e.attrs, ['user_update.roles.0']);
  e = await refusal(m, 'user.update', plain, { password: 'taken-over-1' });
  assert.equal(e.attrs, ['user_update.password'], "another user's password is a full admin's to set");
  e = await refusal(m, 'user.update', adminId, { password: 'taken-over-1' });
  assert.is(e.errname, 'EPERM');
  e = await refusal(m, 'user.update', adminId, { locked: true });
  assert.is(e.errname, 'EPERM', 'an account holding more than the caller is out of reach');
  e = await refusal(m, 'user.delete', adminId);
  assert.is(e.errname, 'EPERM');

  // The same through core.bulk: its inner calls run with the caller's credentials.
  await m.call('core.set_options', { legacy_jobs: false });
  const bulk = (await m.call('core.bulk', 'user.update', [[mallory, { roles: ['FULL_ADMIN'] }], [adminId, { password: 'taken-over-1' }]])) as Array<{ error: string | null }>;
  assert.ok(bulk.every((r) => r.error !== null), JSON.stringify(bulk));
  const bulkKey = (await m.call('core.bulk', 'api_key.create', [[{ name: 'bulk-backdoor', username: 'admin' }]])) as Array<{ error: string | null }>;
  assert.ok(bulkKey[0]!.error !== null);

  // What it may do: give what it holds, manage equals, its own keys.
  const helper = (await m.call('user.create', { username: 'helper', password: 'helper-pass-1', roles: ['ACCOUNT_READ'] })) as { id: number };
  assert.equal(await rolesOf(helper.id), ['ACCOUNT_READ']);
  const own = (await m.call('api_key.create', { name: 'mallory-key' })) as { key: string };
  const viaKey = await connect(d);
  assert.is(((await viaKey.call('auth.login_ex', { mechanism: 'API_KEY_PLAIN', username: 'mallory', api_key: own.key })) as { response_type: string }).response_type, 'SUCCESS');
  assert.equal(((await viaKey.call('auth.me')) as { privilege: { roles: { $set: string[] } } }).privilege.roles.$set, ['ACCOUNT_READ', 'ACCOUNT_WRITE', 'API_KEY_READ', 'API_KEY_WRITE'], 'the roles held and those they include');

  assert.equal(await rolesOf(mallory), ['ACCOUNT_WRITE', 'API_KEY_WRITE'], 'nothing grew');
  assert.equal(await rolesOf(adminId), ['FULL_ADMIN']);
  const admin = await loginAs(d, 'admin', ADMIN_PASSWORD);
  assert.is((await admin.call('user.update', plain, { roles: ['READONLY_ADMIN'], password: 'new-password-1' }) as { roles: string[] }).roles[0], 'READONLY_ADMIN', 'a full admin may');
  e = await refusal(admin, 'user.update', adminId, { roles: ['FULL_ADMIN', 'ACCOUNT_READ'] });
  assert.equal(e.attrs, ['user_update.roles'], 'not even a full admin changes its own roles');
  for (const c of [m, viaKey, admin]) await c.close();
});

test('reserved names and control characters are clean validation errors on their field', async () => {
  for (const name of ['root', 'daemon', 'nobody', 'www-data', 'systemd-network', 'token', 'api_key', 'unix_socket', 'internal']) {
    const e = await refusal(root, 'user.create', { username: name, password: 'some-password-1' });
    assert.equal(e.attrs, ['user_create.username'], name);
    assert.match(e.reason, /reserved/, name);
  }
  const cases: Array<[string, unknown[], string]> = [
    ['user.create', [{ username: 'ev\u0000il', password: 'some-password-1' }], 'user_create.username'],
    ['user.create', [{ username: 'fine', full_name: 'Evil\u001b[2J', password: 'some-password-1' }], 'user_create.full_name'],
    ['api_key.create', [{ name: 'k\u0000ey', username: 'admin' }], 'api_key_create.name'],
    ['api_key.create', [{ name: 'key', username: 'ad\u0000min' }], 'api_key_create.username'],
    ['cronjob.create', [{ command: 'true', user: 'ro\u0000ot' }], 'cron_job_create.user'],
    ['cronjob.create', [{ command: 'true', user: 'root', working_directory: '/tmp/\u0000x' }], 'cron_job_create.working_directory'],
  ];
  for (const [method, params, attr] of cases) {
    const e = await refusal(root, method, ...params);
    assert.is(e.code, -32602, `${method} ${attr}: ${e.reason}`);
    assert.equal(e.attrs, [attr], `${method}: ${e.reason}`);
    assert.not.match(e.reason, /TypeError/);
  }
  const c = await connect(d);
  assert.equal(await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'ad\u0000min', password: ADMIN_PASSWORD }), { response_type: 'AUTH_ERR' });
  assert.not.ok(d.logs.some((l) => l.msg === 'method raised an unexpected error'), 'nothing reached the unexpected-error path');
});

test('SYSTEM_CRON_WRITE cannot run commands as root or as users outside the allow-list', async () => {
  await user(root, 'cronie', ['SYSTEM_CRON_WRITE']);
  const c = await loginAs(d, 'cronie', 'cronie-password-1');
  let e = await refusal(c, 'cronjob.create', { command: 'cat /etc/shadow', user: 'root', stdout: false });
  assert.equal(e.attrs, ['cron_job_create.user']);
  assert.match(e.reason, /Only a full admin can make a cron job run as root: root is uid 0/);
  e = await refusal(c, 'cronjob.create', { command: 'id', user: 'nobody' });
  assert.equal(e.attrs, ['cron_job_create.user']);
  assert.match(e.reason, /not among the users the daemon allows \(--cron-users: none\)/);
  // A root cron job saved by the local administrator: cronie may run it, not rewrite it.
  const job = (await root.call('cronjob.create', { command: 'echo admin-job', user: 'root', stdout: false, enabled: false })) as { id: number };
  e = await refusal(c, 'cronjob.update', job.id, { command: 'cat /etc/shadow' });
  assert.equal(e.attrs, ['cron_job_update.user']);
  e = await refusal(c, 'cronjob.update', job.id, { enabled: true });
  assert.equal(e.attrs, ['cron_job_update.user']);
  const ran = await runToEnd(c, job.id);
  assert.is(ran.state, 'SUCCESS', ran.error ?? '');
  const listed = (await c.call('cronjob.get_instance', job.id)) as Record<string, unknown>;
  assert.not.ok('author' in listed, 'who saved it is not part of the TrueNAS shape');
  assert.is(listed.command, 'echo admin-job');
  await c.close();
});

test('the run-as rule is checked again at every run: an admin who lost FULL_ADMIN no longer runs jobs as root', async () => {
  const boss = await user(root, 'boss', ['FULL_ADMIN']);
  const b = await loginAs(d, 'boss', 'boss-password-1');
  const job = (await b.call('cronjob.create', { command: 'echo boss-job', user: 'root', stdout: false, enabled: false })) as { id: number };
  assert.is((await runToEnd(root, job.id)).state, 'SUCCESS');
  await root.call('user.update', boss, { roles: ['SYSTEM_CRON_WRITE'] });
  const refused = await runToEnd(root, job.id);
  assert.is(refused.state, 'FAILED');
  assert.match(refused.error!, /runs as root, which takes a full admin, but boss, who last saved it, is no longer a full admin/);
  assert.is(refused.exc_info?.errno, 1);
  const last = ((await root.call('cronjob.get_instance', job.id)) as { last_run: { job_id: number; state: string } }).last_run;
  assert.equal([last.job_id, last.state], [refused.id, 'FAILED'], 'the refused run is the last run');
  await root.call('cronjob.update', job.id, { description: 'saved again by a full admin' });
  assert.is((await runToEnd(root, job.id)).state, 'SUCCESS', 'a full admin saving it again restores it');
  await b.close();
});

test('tokens: a user holds at most tokensPerUser, each with bounded attrs; logging out frees them', async () => {
  await user(root, 'nora', []);
  const n = await loginAs(d, 'nora', 'nora-password-1');
  const e = await refusal(n, 'auth.generate_token', 600, { blob: 'x'.repeat(60_000) });
  assert.equal(e.attrs, ['attrs']);
  assert.type(await n.call('auth.generate_token', 600, { note: 'y'.repeat(DEFAULT_AUTH.tokenAttrsBytes - 20) }), 'string', 'attrs up to the limit are fine');
  for (let i = 1; i < DEFAULT_AUTH.tokensPerUser; i++) await n.call('auth.generate_token', 600);
  const over = await refusal(n, 'auth.generate_token', 600);
  assert.is(over.errname, 'EBUSY');
  assert.match(over.reason, /already holds 100 live tokens/);
  const parallel = await Promise.all(Array.from({ length: 10 }, () => n.request('auth.generate_token', [600])));
  assert.ok(parallel.every((r) => r.error?.data?.errname === 'EBUSY'), 'concurrent calls cannot slip past the cap');
  const admin = await loginAs(d, 'admin', ADMIN_PASSWORD);
  assert.type(await admin.call('auth.generate_token', 600), 'string', 'another user is not starved');
  assert.ok(d.daemon.auth.tokens.size <= DEFAULT_AUTH.tokensPerUser + 10);
  await n.call('auth.logout');
  await n.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'nora', password: 'nora-password-1' });
  assert.type(await n.call('auth.generate_token', 600), 'string', 'the logout revoked the tokens it made');
  for (const c of [n, admin]) await c.close();
});

// ---- run-as users from the allow-list; the working directory as the job's user (needs root) ----

if (isRoot) {
  test('with --cron-users nobody: SYSTEM_CRON_WRITE runs as nobody; the working directory is checked as nobody; a shrunk list stops it', async () => {
    const dir = join(base, 'allow');
    let t = await startDaemon(opts(dir, { cronRunAsUsers: ['nobody'] }));
    let local = await Client.connect(t.socketPath);
    await user(local, 'cronie', ['SYSTEM_CRON_WRITE']);
    const c = await loginAs(t, 'cronie', 'cronie-password-1');
    const job = (await c.call('cronjob.create', { command: 'id -u; pwd', user: 'nobody', stdout: false, enabled: false, working_directory: '/' })) as { id: number };
    const ok = await runToEnd(local, job.id);
    assert.is(ok.state, 'SUCCESS', ok.error ?? '');
    assert.match(ok.logs_excerpt ?? '', /\[stdout\] 65534\n/);

    const closed = await mkdtemp(join(tmpdir(), 'midship-private-'));
    await chmod(closed, 0o700);
    const errors: string[] = [];
    for (const wd of [closed, join(closed, 'missing'), '/nonexistent-midship-dir']) {
      await c.call('cronjob.update', job.id, { working_directory: wd });
      const r = await runToEnd(local, job.id);
      assert.is(r.state, 'FAILED', wd);
      errors.push(r.error!.replace(wd, '<dir>'));
    }
    assert.equal(new Set(errors).size, 1, `one answer whether the directory exists or not: ${errors.join(' | ')}`);
    assert.match(errors[0]!, /Working directory <dir> does not exist or nobody cannot enter it/);
    await chmod(closed, 0o755);
    await c.call('cronjob.update', job.id, { working_directory: closed });
    assert.is((await runToEnd(local, job.id)).state, 'SUCCESS', 'an open directory works');
    await rm(closed, { recursive: true, force: true });

    await c.close();
    await local.close();
    await t.stop();
    t = await startDaemon(opts(dir, { cronRunAsUsers: [] }));
    local = await Client.connect(t.socketPath);
    const refused = await runToEnd(local, job.id);
    assert.is(refused.state, 'FAILED');
    assert.match(refused.error!, /runs as nobody, which takes a full admin, but it was last saved by cronie, who was not a full admin/);
    await local.close();
    await t.stop();
  });
}

// ---- lock-out ----

const FAIL_DELAY = 10_000;
const FREE = 3;

async function untilFailures(t: TestDaemon, username: string, n: number): Promise<void> {
  await until(() => t.logs.filter((l) => l.msg === 'login failed' && l.user === username).length >= n, `${n} failed logins for ${username}`);
}

/** FREE failures at `target`, then a burst: attempts past a minute of queue are refused with EBUSY. */
async function guess(t: TestDaemon, c: Client, target: string): Promise<void> {
  const before = t.logs.filter((l) => l.msg === 'login failed' && l.user === target).length;
  // Sent without waiting for answers: failures are answered FAIL_DELAY late, queued attempts later still.
  const attempt = (i: number) => c.send({ jsonrpc: '2.0', id: `guess-${target}-${i}`, method: 'auth.login_ex', params: [{ mechanism: 'PASSWORD_PLAIN', username: target, password: `guess-${i}` }] });
  for (let i = 0; i < FREE; i++) attempt(i);
  await untilFailures(t, target, before + FREE);
  for (let i = 0; i < 8; i++) attempt(100 + i);
  // The first attempts queue (spaced FAIL_DELAY apart); past a minute of queue they are refused at once.
  const refused = await c.waitFor((m) => m.error !== undefined, 30_000);
  assert.is(refused.error?.data?.errname, 'EBUSY');
  assert.match(String(refused.error?.data?.reason), /Too many failed logins for this account from this address/);
}

test('lock-out: successes are not counted; guesses at other accounts or from other addresses never delay the right password', async () => {
  const t = await startDaemon(opts(join(base, 'lockout'), { limits: {}, auth: { ...DEFAULT_AUTH, failDelayMs: FAIL_DELAY, failuresBeforeSlowdown: FREE, scramIterations: 4096 } }));
  const local = await Client.connect(t.socketPath);
  try {
    await user(local, 'bob', []);
    await user(local, 'victim', []);
    // 25 right logins a minute from one address (the anonymous call limit is 20): all succeed.
    for (let batch = 0; batch < 5; batch++) {
      await Promise.all(Array.from({ length: 5 }, async () => (await loginAs(t, 'bob', 'bob-password-1')).close()));
    }
    assert.not.ok(t.logs.some((l) => l.msg === 'login attempt throttled'), 'successes are not counted');

    // An anonymous attacker on the admin's address guessing another account.
    await guess(t, await connect(t), 'victim');
    // An attacker on another address guessing admin's password.
    await guess(t, await connect(t, '127.0.0.2'), 'admin');
    // A logged-in attacker is throttled like an anonymous one.
    await guess(t, await loginAs(t, 'bob', 'bob-password-1', '127.0.0.3'), 'admin');

    const admin = await loginAs(t, 'admin', ADMIN_PASSWORD);
    assert.is(await admin.call('core.ping'), 'pong');
    const throttled = t.logs.filter((l) => l.msg === 'login attempt throttled');
    assert.ok(throttled.some((l) => l.account === 'user:victim' && l.remote === '127.0.0.1'));
    assert.ok(throttled.some((l) => l.account === 'user:admin' && l.remote === '127.0.0.2'));
    assert.ok(throttled.some((l) => l.account === 'user:admin' && l.remote === '127.0.0.3'));
    assert.not.ok(throttled.some((l) => l.account === 'user:admin' && l.remote === '127.0.0.1'), "admin's own login was never held back");
  } finally {
    for (const c of clients.splice(0)) c.ws.terminate();
    await local.close();
    await t.stop();
  }
});

test.run();
