// Issue 20: user.query lists the host's users as TrueNAS lists its builtin users, so the web UI's
// cron form accepts the user a cron job runs as. First against this machine's /etc (its own
// parse of /etc/passwd is the reference), then against a written /etc whose hostile lines,
// changes and name clashes a real machine does not offer. Host users are read-only, never log
// in, never hold a role and change nothing about whom a cron job may run as.
import { mkdtemp, rm, writeFile, readFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClassicLevel } from 'classic-level';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { modules as builtIn } from '../methods/index.js';
import { userModule, userModuleReading } from '../methods/user.js';
import { Client, startDaemon, type Message, type StartOptions, type TestDaemon } from './helpers/daemon.js';

const BASE = 100_000_000;
const PW = 'host-users-admin-pw';
let base: string;
const daemons: TestDaemon[] = [];
const clients: Client[] = [];

interface Entry {
  id: number;
  uid?: number;
  username: string;
  builtin: boolean;
  local: boolean;
  locked: boolean;
  password_disabled: boolean;
  immutable: boolean;
  roles: string[];
  home?: string;
  shell?: string;
  full_name: string;
  unixhash?: unknown;
  smbhash?: unknown;
  password_history?: unknown;
  group?: { id: number; bsdgrp_gid: number; bsdgrp_group: string | null };
  groups?: number[];
}

test.before(async () => {
  base = await mkdtemp(join(tmpdir(), 'midship-user-host-'));
});

test.after(async () => {
  for (const c of clients) c.ws.terminate();
  for (const d of daemons) await d.stop().catch(() => undefined);
  await rm(base, { recursive: true, force: true });
});

/** A daemon on `dataDir` whose user module reads the host users of `etc` (default: the real /etc). */
async function start(dataDir: string, etc?: string, more: Partial<StartOptions> = {}): Promise<{ d: TestDaemon; root: Client }> {
  const modules = etc === undefined ? builtIn : builtIn.map((m) => (m === userModule ? userModuleReading(etc) : m));
  const d = await startDaemon({ modules, dataDir, adminPassword: PW, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 20, scramIterations: 4096 }, ...more });
  daemons.push(d);
  const root = await Client.connect(d.socketPath);
  clients.push(root);
  return { d, root };
}

async function stop(d: TestDaemon): Promise<void> {
  for (const c of clients.splice(0)) c.ws.terminate();
  await d.stop();
  daemons.splice(daemons.indexOf(d), 1);
}

async function loginAs(d: TestDaemon, username: string, password: string): Promise<Client> {
  const c = await Client.connect(d.url);
  clients.push(c);
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS', `login ${username}`);
  return c;
}

/** The errno a missing instance is reported with (ValidationErrors with one ENOENT entry). */
function missingErrno(e: { extra: unknown }): number {
  return Number((e.extra as unknown[][])[0]?.[2]);
}

/** The error of a call that must fail. */
async function refused(c: Client, method: string, ...params: unknown[]): Promise<{ errno: number; reason: string; extra: unknown }> {
  const r: Message = await c.request(method, params);
  assert.ok(r.error, `${method} ${JSON.stringify(params)} must be refused, got ${JSON.stringify(r.result)}`);
  return { errno: Number(r.error!.data?.error), reason: String(r.error!.data?.reason ?? ''), extra: r.error!.data?.extra };
}

/** This test's own reading of a passwd file: name, uid, gid, the first of each uid. */
function passwdOf(text: string): Array<{ name: string; uid: number; gid: number; home: string; shell: string }> {
  const seen = new Set<number>();
  const out = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length !== 7 || !/^\d+$/.test(f[2]!) || f[0]!.startsWith('+') || f[0]!.startsWith('-')) continue;
    const uid = Number(f[2]);
    if (seen.has(uid)) continue;
    seen.add(uid);
    out.push({ name: f[0]!, uid, gid: Number(f[3]), home: f[5]!, shell: f[6]! });
  }
  return out;
}

async function writeEtc(dir: string, passwd: string, group: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'passwd'), passwd);
  await writeFile(join(dir, 'group'), group);
}

// ---- this machine's /etc ----

test('user.query lists every user of /etc/passwd as a builtin, locked, password-less, role-less entry with id 100000000 + uid', async () => {
  const { d, root } = await start(join(base, 'real'));
  const expected = passwdOf(await readFile('/etc/passwd', 'utf8')).filter((p) => p.name !== 'admin');
  const hosts = (await root.call('user.query', [['builtin', '=', true]])) as Entry[];
  assert.equal(hosts.map((h) => [h.username, h.uid, h.id]), expected.map((p) => [p.name, p.uid, BASE + p.uid]), 'the same users, in file order');
  for (const h of hosts) {
    const p = expected.find((e) => e.name === h.username)!;
    assert.equal([h.local, h.locked, h.password_disabled, h.immutable, h.roles], [true, true, true, true, []], h.username);
    assert.equal([h.unixhash, h.smbhash, h.password_history], [null, null, null], `${h.username}: no password material`);
    assert.equal([h.home, h.shell, h.group?.bsdgrp_gid, h.group?.id], [p.home || '/', p.shell || '/bin/sh', p.gid, BASE + p.gid], h.username);
  }
  const rootEntry = hosts.find((h) => h.uid === 0)!;
  assert.is(rootEntry.id, BASE);
  assert.is(rootEntry.group!.bsdgrp_group, (await readFile('/etc/group', 'utf8')).split('\n').find((l) => l.split(':')[2] === '0')!.split(':')[0], 'the primary group named from /etc/group');
  // Midship's accounts stay what they were, with TrueNAS's fields for a local, non-builtin user.
  const accounts = (await root.call('user.query', [['builtin', '=', false]])) as Array<Entry & { password_set: boolean }>;
  assert.equal(accounts.map((a) => [a.username, a.local, a.locked, a.password_set, a.password_disabled]), [['admin', true, false, true, false]]);
  assert.ok(accounts[0]!.id < BASE);
  assert.is(await root.call('user.query', [['local', '=', true]], { count: true }), hosts.length + 1);
  assert.equal(await root.call('user.get_instance', BASE), rootEntry, 'user.get_instance answers host ids');
  await stop(d);
});

test('the web UI\'s look-ups: the exact name with get (MatchNotFound when there is none) and the case-blind search, accounts first', async () => {
  const { d, root } = await start(join(base, 'ui'));
  // The cron form's "Run As User" check (UserService.getUserByNameCached).
  const found = (await root.call('user.query', [['username', '=', 'root']], { get: true })) as Entry;
  assert.equal([found.id, found.uid, found.builtin], [BASE, 0, true]);
  const missing = await root.request('user.query', [[['username', '=', 'no-such-user-anywhere']], { get: true }]);
  assert.match(JSON.stringify(missing.error), /MatchNotFound/);
  // Its autocompletion (userQueryDsCache): a case-insensitive regex, 50 a page, builtin last.
  await root.call('user.create', { username: 'rootbeer', password: 'rootbeer-password', roles: [] });
  const page = (await root.call('user.query', [['username', '~', '(?i).*ROO']], { limit: 50, offset: 0, order_by: ['builtin'] })) as Entry[];
  assert.equal(page.map((e) => [e.username, e.builtin]), [['rootbeer', false], ['root', true]]);
  const select = (await root.call('user.query', [['uid', '=', 0]], { select: ['username', 'uid', 'local'] })) as unknown[];
  assert.equal(select, [{ username: 'root', uid: 0, local: true }]);
  await stop(d);
});

test('host users are read-only: user.update and user.delete refuse them with EPERM, naming the user, and nothing changes', async () => {
  const { d, root } = await start(join(base, 'readonly'));
  const before = await root.call('user.get_instance', BASE);
  for (const change of [{ roles: ['FULL_ADMIN'] }, { password: 'now-i-can-log-in' }, { locked: false }, { full_name: 'Mallory' }]) {
    const e = await refused(root, 'user.update', BASE, change);
    assert.is(e.errno, 1, JSON.stringify(change));
    assert.match(e.reason, /User 'root' \(uid 0\) is a user of the host, read from \/etc\/passwd: Midship cannot change it/);
  }
  const del = await refused(root, 'user.delete', BASE);
  assert.is(del.errno, 1);
  assert.match(del.reason, /Midship cannot delete it/);
  assert.equal(await root.call('user.get_instance', BASE), before, 'root\'s entry is unchanged');
  // An id in the host range that no host user has is simply not there.
  const uids = new Set(passwdOf(await readFile('/etc/passwd', 'utf8')).map((p) => p.uid));
  const free = [...Array(100_000).keys()].find((u) => !uids.has(u))!;
  for (const m of ['user.update', 'user.delete', 'user.get_instance']) {
    const e = await refused(root, m, BASE + free, ...(m === 'user.update' ? [{ full_name: 'x' }] : []));
    assert.is(missingErrno(e), 2, m);
    assert.match(e.reason, new RegExp(`User ${BASE + free} does not exist`));
  }
  // An account manager below full admin is refused the same way.
  await root.call('user.create', { username: 'manager', password: 'manager-password', roles: ['ACCOUNT_WRITE'] });
  const manager = await loginAs(d, 'manager', 'manager-password');
  assert.is((await refused(manager, 'user.update', BASE, { roles: ['ACCOUNT_WRITE'] })).errno, 1);
  assert.is((await refused(manager, 'user.delete', BASE)).errno, 1);
  await stop(d);
});

test('host users never log in and never get API keys; listing them changes nothing about whom a cron job may run as', async () => {
  const { d, root } = await start(join(base, 'powerless'));
  const hosts = (await root.call('user.query', [['builtin', '=', true]])) as Entry[];
  for (const h of hosts.slice(0, 5)) {
    const c = await Client.connect(d.url);
    clients.push(c);
    for (const password of ['', 'x', h.username, 'password']) {
      const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: h.username, password })) as { response_type: string };
      assert.is(r.response_type, 'AUTH_ERR', `${h.username} cannot log in`);
    }
  }
  const key = await refused(root, 'api_key.create', { name: 'as-root', username: 'root' });
  assert.equal(key.extra, [['api_key_create.username', "User 'root' does not exist", 2]]);
  // The cron allow-list is empty: a cron writer who is not a full admin still cannot pick a host user.
  await root.call('user.create', { username: 'cronner', password: 'cronner-password', roles: ['SYSTEM_CRON_WRITE', 'ACCOUNT_READ'] });
  const cronner = await loginAs(d, 'cronner', 'cronner-password');
  for (const h of hosts.slice(0, 3)) {
    assert.ok(((await cronner.call('user.query', [['username', '=', h.username]])) as unknown[]).length === 1, `${h.username} is listed`);
    const e = await refused(cronner, 'cronjob.create', { command: 'id', user: h.username, schedule: { minute: '0', hour: '0', dom: '1', month: '1', dow: '*' } });
    assert.match(JSON.stringify(e), /Only a full admin can make a cron job run as/, h.username);
  }
  assert.is(await root.call('cronjob.query', [], { count: true }), 0);
  await stop(d);
});

test('ids are the same after a restart and on another data dir', async () => {
  const dir = join(base, 'restart');
  let { d, root } = await start(dir);
  const ids = async () => ((await root.call('user.query', [['builtin', '=', true]], { select: ['id', 'username'] })) as unknown[]);
  const first = await ids();
  await stop(d);
  ({ d, root } = await start(dir));
  assert.equal(await ids(), first, 'after a restart');
  await stop(d);
  ({ d, root } = await start(join(base, 'restart-other')));
  assert.equal(await ids(), first, 'on a fresh data dir');
  await stop(d);
});

test('Midship\'s own user ids stay below the host range: when they run out, creating a user is refused (ENOSPC), nothing else breaks', async () => {
  const dir = join(base, 'ceiling');
  let { d, root } = await start(dir);
  await stop(d);
  const db = new ClassicLevel<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
  await db.open();
  await db.sublevel<string, unknown>(['users', 'meta'], { valueEncoding: 'json' }).put('next_id', BASE - 1);
  await db.close();
  ({ d, root } = await start(dir));
  const last = (await root.call('user.create', { username: 'last', password: 'last-password-1' })) as Entry;
  assert.is(last.id, BASE - 1);
  const e = await refused(root, 'user.create', { username: 'onemore', password: 'onemore-password' });
  assert.equal([e.errno, e.reason], [28, '[ENOSPC] User ids are used up: they stay below 100000000']);
  assert.equal(((await root.call('user.query', [['id', 'in', [BASE - 1, BASE]]])) as Entry[]).map((u) => u.username), ['last', 'root']);
  await stop(d);
});

// ---- a written /etc ----

test('hostile and odd lines are left out or cleaned, never passed on; groups come from /etc/group as TrueNAS lists them', async () => {
  const etc = join(base, 'etc-odd');
  await writeEtc(etc, [
    'root:x:0:0:root:/root:/bin/bash',
    'toor:x:0:0:second root:/root:/bin/sh', // a second name for uid 0: would share root's id
    'root:x:5:5:root again:/:/bin/sh', // a second line for a name: getpwnam takes the first
    'svc:x:120:130:Service account,room 1,,:/var/lib/svc:', // empty shell: /bin/sh
    'nohome:x:121:121:::/usr/sbin/nologin', // empty home: /
    'bad\u001bname:x:122:122::/:/bin/sh',
    '+nisuser::::::',
    '-excluded:x:123:123::/:/bin/sh',
    'nouid:x::1::/:/bin/sh',
    'neg:x:-1:1::/:/bin/sh',
    'huge:x:4294967295:1::/:/bin/sh',
    'short:x:124:124:/:/bin/sh',
    'ctrl:x:125:125:Full\u0007Name:/home/ctrl:/bin/sh',
    'alice:x:1001:1001:Alice:/home/alice:/bin/bash',
    '',
  ].join('\n'), [
    'root:x:0:',
    'svcgroup:x:130:alice,svc',
    'staff:x:50:alice,alice,bad\u001bmember',
    'alice:x:1001:alice',
    'dup:x:50:alice',
  ].join('\n'));
  const { d, root } = await start(join(base, 'odd'), etc);
  const hosts = (await root.call('user.query', [['builtin', '=', true]])) as Entry[];
  assert.equal(hosts.map((h) => [h.username, h.uid]), [['root', 0], ['svc', 120], ['nohome', 121], ['ctrl', 125], ['alice', 1001]]);
  const by = (n: string) => hosts.find((h) => h.username === n)!;
  assert.equal([by('svc').full_name, by('svc').shell, by('svc').home], ['Service account', '/bin/sh', '/var/lib/svc']);
  assert.is(by('nohome').home, '/');
  assert.is(by('ctrl').full_name, 'FullName', 'control characters dropped from the text');
  assert.equal(by('svc').group, { id: BASE + 130, bsdgrp_gid: 130, bsdgrp_group: 'svcgroup', bsdgrp_builtin: true, bsdgrp_smb: false, bsdgrp_sudo_commands: [], bsdgrp_sudo_commands_nopasswd: [] });
  assert.equal(by('svc').groups, [], 'the primary group is not among the other groups');
  assert.equal(by('alice').groups, [BASE + 130, BASE + 50], 'entry ids of the other groups, each once, the first group of a gid');
  assert.is(by('nohome').group!.bsdgrp_group, null, 'a gid /etc/group does not name');
  await stop(d);
});

test('a change to /etc/passwd shows at the next query; an oversized or missing one lists Midship\'s accounts alone', async () => {
  const etc = join(base, 'etc-change');
  await writeEtc(etc, 'root:x:0:0:root:/root:/bin/bash\n', 'root:x:0:\n');
  const { d, root } = await start(join(base, 'change'), etc);
  const names = async () => ((await root.call('user.query', [], { select: ['username'] })) as Array<{ username: string }>).map((u) => u.username);
  assert.equal(await names(), ['admin', 'root']);
  await writeFile(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nbackupper:x:1500:1500::/home/b:/bin/sh\n');
  assert.equal(await names(), ['admin', 'root', 'backupper']);
  // A passwd file beyond 16 MiB is not read: a warning, and no host users rather than a stall.
  const line = 'u:x:1:1::/:/bin/sh\n';
  await writeFile(join(etc, 'passwd'), `root:x:0:0:root:/root:/bin/bash\n${line.repeat(Math.ceil((16 * 1024 * 1024) / line.length) + 1)}`);
  assert.equal(await names(), ['admin']);
  assert.ok(d.logs.some((l) => String(l.msg).includes('is larger than 16777216 bytes, not read')), 'the warning is logged');
  await rm(etc, { recursive: true });
  assert.equal(await names(), ['admin']);
  await stop(d);
});

test('Midship accounts come first: one named like a host user hides it; a host system user\'s name cannot be taken, except the administrator names', async () => {
  const etc = join(base, 'etc-clash');
  await writeEtc(etc, [
    'root:x:0:0:root:/root:/bin/bash',
    'pgsql:x:105:105:PostgreSQL:/var/lib/pgsql:/bin/bash',
    'truenas_admin:x:950:950:Administrator:/home/truenas_admin:/usr/bin/zsh',
    'alice:x:1001:1001:Alice:/home/alice:/bin/bash',
  ].join('\n'), '');
  const { d, root } = await start(join(base, 'clash'), etc);
  const e = await refused(root, 'user.create', { username: 'pgsql', password: 'pgsql-password' });
  assert.equal(e.extra, [['user_create.username', "'pgsql' is reserved for the host's system user of that name (uid 105) and cannot be used", 17]]);
  const reserved = await refused(root, 'user.create', { username: 'root', password: 'root-password-1' });
  assert.match(reserved.reason, /reserved/, 'root stays reserved');
  await root.call('user.create', { username: 'truenas_admin', password: 'truenas-admin-pw', roles: ['FULL_ADMIN'] });
  // alice (uid 1001) is a person, not a system user: a Midship alice may exist, and is the one listed.
  const alice = (await root.call('user.create', { username: 'alice', password: 'alice-password' })) as Entry;
  const listed = (await root.call('user.query', [['username', 'in', ['alice', 'truenas_admin']]])) as Entry[];
  assert.equal(listed.map((u) => [u.username, u.builtin]), [['truenas_admin', false], ['alice', false]]);
  assert.is(missingErrno(await refused(root, 'user.get_instance', BASE + 1001)), 2, 'the hidden host user is not there');
  await root.call('user.delete', alice.id);
  assert.equal(((await root.call('user.query', [['username', '=', 'alice']])) as Entry[]).map((u) => [u.id, u.builtin]), [[BASE + 1001, true]], 'and back once the account is gone');
  await stop(d);
});

test.run();
