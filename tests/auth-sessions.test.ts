// Sessions as TrueNAS names them (issue 12): auth.sessions, auth.terminate_session,
// auth.terminate_other_sessions, the auth.sessions event, and tokens that stop working when the
// session that made or used them ends, across a restart too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { Client, startDaemon, type Message, type StartOptions, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';

const ADMIN_PASSWORD = 'sessions-admin-password';
let dataDir: string;
let d: TestDaemon;
let root: Client;
const open: Client[] = [];

const options = (): StartOptions => ({ modules, dataDir, adminPassword: ADMIN_PASSWORD, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 20, scramIterations: 4096 } });

interface Entry {
  id: string;
  current: boolean;
  internal: boolean;
  origin: string;
  credentials: string;
  credentials_data: { username?: string; login_id?: string; login_at?: { $date: number }; api_key?: { id: number; name: string }; parent?: { credentials: string; credentials_data: Record<string, unknown> } };
  created_at: { $date: number };
  secure_transport: boolean;
}

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'midship-sessions-'));
  d = await startDaemon(options());
  root = await Client.connect(d.socketPath);
  await root.call('user.create', { username: 'bob', password: 'bob-password-1', roles: [] });
  await root.call('user.create', { username: 'carl', password: 'carl-password-1', roles: ['READONLY_ADMIN'] });
});

test.after(async () => {
  for (const c of open) c.ws.terminate();
  await root?.close();
  await d?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function connect(): Promise<Client> {
  const c = await Client.connect(d.url);
  open.push(c);
  return c;
}

async function login(username: string, password: string): Promise<Client> {
  const c = await connect();
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS', `login ${username}`);
  return c;
}

async function tokenLogin(token: string): Promise<{ client: Client; response: string }> {
  const c = await connect();
  const r = (await c.call('auth.login_ex', { mechanism: 'TOKEN_PLAIN', token })) as { response_type: string };
  return { client: c, response: r.response_type };
}

const sessions = async (c: Client, filters: unknown[] = [], opts: Record<string, unknown> = {}) => (await c.call('auth.sessions', filters, opts)) as Entry[];
const currentId = async (c: Client) => (await sessions(c, [['current', '=', true]]))[0]!.id;

test('auth.sessions lists logged-in sessions in TrueNAS\'s shape: own for users, all for AUTH_SESSIONS_READ', async () => {
  const anon = await connect();
  const admin = await login('admin', ADMIN_PASSWORD);
  const bob1 = await login('bob', 'bob-password-1');
  const bob2 = await login('bob', 'bob-password-1');
  const token = (await bob1.call('auth.generate_token', 600)) as string;
  const { client: bob3, response } = await tokenLogin(token);
  assert.is(response, 'SUCCESS');

  const all = await sessions(admin);
  const mine = all.find((s) => s.current)!;
  assert.is(mine.credentials, 'LOGIN_PASSWORD');
  assert.is(mine.credentials_data.username, 'admin');
  assert.type(mine.credentials_data.login_id, 'string');
  assert.type(mine.credentials_data.login_at?.$date, 'number');
  assert.type(mine.created_at.$date, 'number');
  assert.match(mine.origin, /^127\.0\.0\.1:\d+$/);
  assert.is(mine.secure_transport, true, 'loopback counts as secure, as in TrueNAS');
  assert.is(mine.internal, false);
  assert.equal(Object.keys(mine).sort(), ['created_at', 'credentials', 'credentials_data', 'current', 'id', 'internal', 'origin', 'secure_transport']);
  assert.is(all.filter((s) => s.current).length, 1);
  assert.ok(all.some((s) => s.internal && s.credentials === 'UNIX_SOCKET' && s.origin === 'UNIX socket'), 'the unix-socket session is listed as internal');
  assert.is(all.filter((s) => s.credentials_data.username === 'bob' || s.credentials_data.parent?.credentials_data.username === 'bob').length, 3);
  const viaToken = all.find((s) => s.credentials === 'TOKEN')!;
  assert.is(viaToken.credentials_data.parent?.credentials, 'LOGIN_PASSWORD');
  assert.is(viaToken.credentials_data.parent?.credentials_data.username, 'bob');
  assert.ok(all.every((s, i) => i === 0 || all[i - 1]!.created_at.$date <= s.created_at.$date), 'oldest first');
  assert.is((await sessions(admin, [['internal', '=', false]])).length, 4, 'admin and bob\'s three: a connection that has not logged in is not a session');

  const bobs = await sessions(bob2);
  assert.is(bobs.length, 3, 'bob sees his own three sessions and nothing else');
  assert.ok(bobs.every((s) => s.credentials_data.username === 'bob'));
  assert.is(bobs.filter((s) => s.current).length, 1);
  assert.is(await bob2.call('auth.sessions', [['credentials', '=', 'TOKEN']], { count: true }), 1, 'the query language applies');
  const carl = await login('carl', 'carl-password-1');
  assert.ok((await sessions(carl)).some((s) => s.credentials_data.username === 'admin'), 'READONLY_ADMIN holds AUTH_SESSIONS_READ');
  for (const c of [admin, bob1, bob2, bob3, carl, anon]) await c.close();
});

test('terminate_session: the session closes at once, its tokens and the sessions riding on them end, others are untouched', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const carl = await login('carl', 'carl-password-1');
  const bob1 = await login('bob', 'bob-password-1');
  const bob2 = await login('bob', 'bob-password-1');
  const made = (await bob1.call('auth.generate_token', 600)) as string;
  const unrelated = (await bob2.call('auth.generate_token', 600)) as string;
  const { client: rider } = await tokenLogin(made);
  const b1 = await currentId(bob1);
  const adminId = await currentId(admin);

  assert.is(await bob2.call('auth.terminate_session', adminId), false, 'bob cannot end the admin\'s session');
  assert.is(await carl.call('auth.terminate_session', b1), false, 'READONLY_ADMIN reads sessions but cannot end others\'');
  assert.is(await bob2.call('auth.terminate_session', 'no-such-session'), false);
  assert.is(admin.closeCode, null);

  assert.is(await bob2.call('auth.terminate_session', b1), true, 'bob ends his own other session');
  assert.is(await bob1.closed, 1008);
  assert.is(bob1.closeReason, 'Session terminated');
  assert.is(await rider.closed, 1008, 'the session that logged in with its token ends too');
  assert.not.ok((await sessions(admin)).some((s) => s.id === b1), 'gone from the list at once');
  assert.is((await tokenLogin(made)).response, 'AUTH_ERR', 'the token it made stops working');
  assert.is((await tokenLogin(unrelated)).response, 'SUCCESS', 'a token of another session keeps working');
  assert.is(await bob2.call('core.ping'), 'pong');
  for (const c of [admin, carl, bob2]) await c.close();
});

test('terminate_other_sessions: a user ends its own others; a full admin ends everyone else but internal sessions', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const bob1 = await login('bob', 'bob-password-1');
  const bob2 = await login('bob', 'bob-password-1');
  const carl = await login('carl', 'carl-password-1');
  assert.is(await bob2.call('auth.terminate_other_sessions'), true);
  assert.is(await bob1.closed, 1008);
  assert.is(await bob2.call('core.ping'), 'pong', 'the caller stays');
  assert.is(carl.closeCode, null, 'another user\'s session stays');
  assert.is(await admin.call('auth.terminate_other_sessions'), true);
  assert.is(await bob2.closed, 1008);
  assert.is(await carl.closed, 1008);
  assert.is(await root.call('core.ping'), 'pong', 'the unix-socket session is internal and stays');
  const left = await sessions(admin, [['internal', '=', false]]);
  assert.equal(left.map((s) => s.current), [true]);
  await admin.close();
});

test('logout revokes the session\'s tokens; closing the socket keeps them (midclt hands tokens on)', async () => {
  const bob = await login('bob', 'bob-password-1');
  const kept = (await bob.call('auth.generate_token', 600)) as string;
  await bob.close();
  const { client: t, response } = await tokenLogin(kept);
  assert.is(response, 'SUCCESS', 'a closed socket is not a logout');
  const made = (await t.call('auth.generate_token', 600)) as string;
  assert.is(await t.call('auth.logout'), true);
  assert.is((await tokenLogin(kept)).response, 'AUTH_ERR', 'the token the session logged in with is revoked');
  assert.is((await tokenLogin(made)).response, 'AUTH_ERR', 'the token it made is revoked');
  assert.is(t.closeCode, null, 'logout keeps the socket');
  await t.close();
});

test('auth.sessions events: admins see every login and logout, users only their own', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const bob = await login('bob', 'bob-password-1');
  await admin.call('core.subscribe', 'auth.sessions');
  await bob.call('core.subscribe', 'auth.sessions');
  const isEvent = (msg: string, id: string) => (m: Message) => m.method === 'collection_update' && (m.params as { collection: string; msg: string; id: string }).collection === 'auth.sessions' && (m.params as { msg: string }).msg === msg && (m.params as { id: string }).id === id;
  const carl = await login('carl', 'carl-password-1');
  const carlId = await currentId(carl);
  const added = await admin.waitFor(isEvent('added', carlId));
  const fields = (added.params as { fields: Record<string, unknown> }).fields;
  assert.is((fields.credentials_data as { username: string }).username, 'carl');
  assert.is(fields.credentials, 'LOGIN_PASSWORD');
  assert.not.ok('current' in fields);
  const bob2 = await login('bob', 'bob-password-1');
  const bob2Id = await currentId(bob2);
  await bob.waitFor(isEvent('added', bob2Id));
  await carl.close();
  await admin.waitFor(isEvent('removed', carlId));
  await bob2.call('auth.logout');
  await bob.waitFor(isEvent('removed', bob2Id));
  assert.not.ok(bob.received.some(isEvent('added', carlId)), 'bob does not hear of carl\'s session');
  for (const c of [admin, bob, bob2]) await c.close();
});

test('a revoked token stays revoked after a restart; tokens of a deleted user die with it', async () => {
  const bob = await login('bob', 'bob-password-1');
  const made = (await bob.call('auth.generate_token', 600)) as string;
  const ridden = (await bob.call('auth.generate_token', 600)) as string;
  const { client: rider } = await tokenLogin(ridden);
  await root.call('auth.terminate_session', await currentId(bob));
  assert.is(await rider.closed, 1008);
  const dave = (await root.call('user.create', { username: 'dave', password: 'dave-password-1' })) as { id: number };
  const daveClient = await login('dave', 'dave-password-1');
  const daveToken = (await daveClient.call('auth.generate_token', 600)) as string;
  await daveClient.close();
  await root.call('user.delete', dave.id);
  await root.close();
  await d.stop();
  d = await startDaemon(options());
  root = await Client.connect(d.socketPath);
  assert.is((await tokenLogin(made)).response, 'AUTH_ERR', 'the tokens the terminated session made');
  assert.is((await tokenLogin(ridden)).response, 'AUTH_ERR');
  // A new user may get the deleted user's id after a restart; the old token must not log it in.
  const erin = (await root.call('user.create', { username: 'erin', password: 'erin-password-1' })) as { id: number };
  assert.ok(erin.id > dave.id, 'a deleted user\'s id is not handed out again');
  assert.is((await tokenLogin(daveToken)).response, 'AUTH_ERR');
});

test.run();
