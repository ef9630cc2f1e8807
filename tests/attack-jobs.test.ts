// Attacks on the job engine (issue 14), each played as a real user over a real connection:
// ownership by name, core.bulk as a side door for secrets and privileges, jobs that outlive
// their user, and one user starving the others (active jobs, history).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';
import { modules } from './helpers/modules.js';

const ADMIN_PASSWORD = 'correct horse battery staple';
const MAX_ACTIVE = 3;
const KEEP = 300;
let d: TestDaemon;
let root: Client; // unix socket: the local administrator

type Job = { id: number; state: string; method: string; arguments: unknown[]; result: unknown; error: string | null; parent_id: number | null; time_started: { $date: number }; time_finished: { $date: number } | null };

async function start(dataDir?: string): Promise<void> {
  d = await startDaemon({
    ...(dataDir ? { dataDir } : {}),
    modules,
    adminPassword: ADMIN_PASSWORD,
    limits: { anonCallsPerMinute: 10_000 },
    auth: { ...DEFAULT_AUTH, failDelayMs: 50, failuresBeforeSlowdown: 100, scramIterations: 4096 },
    jobs: { maxActivePerOwner: MAX_ACTIVE, retentionMaxFinished: KEEP, purgeIntervalMs: 3_600_000 },
    // Not about durability: unsynced writes keep the 8,000-call bulk below quick.
    storage: { fsync: false, retryMs: 1000 },
  });
  root = await Client.connect(d.socketPath);
}

test.before(() => start());
test.after(async () => {
  await root.close();
  await d.cleanup();
});

async function login(username: string, password = `${username}-password-1`): Promise<Client> {
  const c = await Client.connect(d.url);
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS', `login ${username}`);
  return c;
}

async function createUser(username: string, roles: string[]): Promise<{ id: number }> {
  return (await root.call('user.create', { username, password: `${username}-password-1`, roles, full_name: username })) as { id: number };
}

const getJob = async (c: Client, id: number) => (await c.call('core.get_jobs', [['id', '=', id]], { get: true })) as Job;
const ended = (c: Client, id: number) => until(async () => {
  const j = await getJob(c, id);
  return ['SUCCESS', 'FAILED', 'ABORTED'].includes(j.state) ? j : null;
}, `job ${id} to end`);
const errname = (r: { error?: { data?: Record<string, unknown> } }) => r.error?.data?.errname;

/** Files under `dir`, with their bytes. */
async function files(dir: string): Promise<Array<[string, Buffer]>> {
  const out: Array<[string, Buffer]> = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (e.isFile()) out.push([p, await readFile(p)]);
  }
  return out;
}

test('a user named like the unix-socket root cannot see, download the logs of or abort its jobs', async () => {
  const created = await root.request('user.create', [{ username: 'root', password: 'root-password-1', roles: ['TEST_WRITE'], full_name: 'not root' }]);
  if (created.error) {
    // Reserved names are refused (issue 14.4): nobody can be called root at all.
    assert.match(JSON.stringify(created.error), /username/);
    return;
  }
  const socketJob = (await root.call('test.until_aborted')) as number;
  const fake = await login('root', 'root-password-1');
  await fake.call('core.subscribe', 'core.get_jobs');
  const listed = (await fake.call('core.get_jobs')) as Job[];
  assert.not.ok(listed.some((j) => j.id === socketJob), 'not listed');
  assert.is(errname(await fake.request('core.job_abort', [socketJob])), 'EPERM');
  assert.is(errname(await fake.request('core.job_download_logs', [socketJob, 'x.log'])), 'EPERM');
  await root.call('core.job_abort', socketJob);
  await ended(root, socketJob);
  assert.not.ok(fake.received.some((m) => (m.params as { id?: number } | undefined)?.id === socketJob), 'no events of it');
  await fake.close();
  await root.call('user.delete', created.result && (created.result as { id: number }).id);
});

test('a user re-created under the same name (or given a deleted user\'s id after a restart) inherits none of the old one\'s jobs', async () => {
  const first = await createUser('bob', ['TEST_WRITE']);
  let bob = await login('bob');
  const done = (await bob.call('test.job', { steps: 1, delay: 0 })) as number;
  await ended(root, done);
  await bob.close();
  await root.call('user.delete', first.id);
  await createUser('bob', ['TEST_WRITE']);
  bob = await login('bob');
  assert.equal(((await bob.call('core.get_jobs')) as Job[]).map((j) => j.id), [], 'the new bob sees nothing');
  assert.is(errname(await bob.request('core.job_download_logs', [done, 'x.log'])), 'EPERM');
  await bob.close();

  // The newest user deleted, a restart, a new user: the user store may hand out the same id.
  const carol = await createUser('carol', ['TEST_WRITE']);
  const c1 = await login('carol');
  const carolJob = (await c1.call('test.job', { steps: 0 })) as number;
  await ended(root, carolJob);
  await c1.close();
  await root.call('user.delete', carol.id);
  const dataDir = d.dataDir;
  await root.close();
  await d.stop();
  await start(dataDir);
  await createUser('dave', ['TEST_WRITE']);
  const dave = await login('dave');
  const seen = (await dave.call('core.get_jobs')) as Job[];
  assert.not.ok(seen.some((j) => j.id === carolJob), 'dave does not get carol\'s jobs');
  assert.is(errname(await dave.request('core.job_abort', [carolJob])), 'EPERM');
  await dave.close();
});

test('core.bulk keeps inner secrets redacted (stored, in core.get_jobs, in events, in the db files) and audits each inner call', async () => {
  const target = await createUser('erin', []);
  const admin = await login('admin', ADMIN_PASSWORD);
  const watcher = await login('admin', ADMIN_PASSWORD);
  await watcher.call('core.subscribe', 'core.get_jobs');
  await admin.call('core.set_options', { legacy_jobs: false });
  const dbPassword = 'db-pass-SECRET-81d3a9';
  const newPassword = 'user-pass-SECRET-5c02ee';
  const marker = 'echo bulk-marker-7f1c';
  await admin.call('core.bulk', 'cronjob.create', [[{ command: marker, user: 'root', enabled: false, environment: { DB_PASSWORD: dbPassword } }]]);
  await admin.call('core.bulk', 'user.update', [[target.id, { password: newPassword }]]);
  const keyOut = (await admin.call('core.bulk', 'api_key.create', [[{ name: 'erin-key', username: 'erin' }]])) as Array<{ result: { key: string } }>;
  const apiKey = keyOut[0]!.result.key;
  assert.match(apiKey, /^\d+-[A-Za-z0-9]{64}$/, 'the caller gets the key it asked for, once');
  const secrets = [dbPassword, newPassword, apiKey.split('-')[1]!];

  const bulks = (await admin.call('core.get_jobs', [['method', '=', 'core.bulk']], { extra: { raw_result: true } })) as Job[];
  assert.is(bulks.length, 3);
  const shown = JSON.stringify(bulks);
  for (const s of secrets) assert.not.ok(shown.includes(s), `core.get_jobs does not show ${s}`);
  assert.ok(shown.includes(marker) && shown.includes('********'), 'arguments are there, secrets masked');
  await until(async () => watcher.received.filter((m) => (m.params as { fields?: Job } | undefined)?.fields?.method === 'core.bulk' && ['SUCCESS', 'FAILED'].includes((m.params as { fields: Job }).fields.state)).length >= 3, 'the end events');
  const events = JSON.stringify(watcher.received);
  for (const s of secrets) assert.not.ok(events.includes(s), `no event shows ${s}`);

  // Each inner call is in the audit trail, as the caller made it.
  const audits = d.logs.filter((l) => l.audit === true && l.user === 'admin');
  for (const m of ['cronjob.create', 'user.update', 'api_key.create']) assert.ok(audits.some((l) => l.method === m), `${m} audited`);
  assert.not.ok(JSON.stringify(audits).includes(newPassword), 'audit lines are redacted too');

  // The files: the job records hold none of it (the cron job itself keeps its environment).
  await admin.close();
  await watcher.close();
  const dataDir = d.dataDir;
  await root.close();
  await d.stop();
  const all = await files(dataDir);
  assert.ok(all.some(([, b]) => b.includes(marker)), 'the job records are in the files (the check below can fail)');
  for (const s of [newPassword, secrets[2]!]) assert.not.ok(all.some(([, b]) => b.includes(s)), `no file holds ${s}`);
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel<string, unknown>(join(dataDir, 'db'), { valueEncoding: 'json' });
  await db.open();
  const records = JSON.stringify(await db.sublevel<string, unknown>(['jobs', 'rec'], { valueEncoding: 'json' }).values().all());
  await db.close();
  for (const s of secrets) assert.not.ok(records.includes(s), `no stored job record holds ${s}`);
  await start(dataDir);
});

test('core.bulk re-checks its caller before each call: roles taken away stop the calls, a deleted user\'s bulk is aborted', async () => {
  const u = await createUser('frank', ['TEST_WRITE']);
  const frank = await login('frank');
  const calls = Array.from({ length: 40 }, (_, i) => [{ steps: 1, delay: 50, result: i }]);
  const bulk = (await frank.call('core.bulk', 'test.job', calls)) as number;
  await until(async () => ((await getJob(root, bulk)) as { progress?: { percent: number } } & Job).progress!.percent >= 10, 'a few calls');
  await root.call('user.update', u.id, { roles: [] });
  const j = await ended(root, bulk);
  assert.is(j.state, 'SUCCESS');
  const out = j.result as Array<{ error: string | null }>;
  const refused = out.filter((e) => e.error !== null);
  assert.ok(refused.length > 0 && refused.length < out.length, `the calls after the change are refused (${refused.length} of ${out.length})`);
  assert.match(String(refused[0]!.error), /Not authorized/);
  assert.ok(out.slice(out.indexOf(refused[0]!)).every((e) => e.error !== null), 'none runs after the first refusal');
  await frank.close();

  const g = await createUser('grace', ['TEST_WRITE']);
  const grace = await login('grace');
  const gBulk = (await grace.call('core.bulk', 'test.job', calls)) as number;
  await until(async () => ((await getJob(root, gBulk)) as { progress?: { percent: number } } & Job).progress!.percent >= 10, 'a few calls');
  await root.call('user.delete', g.id);
  const gEnd = await ended(root, gBulk);
  assert.is(gEnd.state, 'ABORTED', 'the bulk of a deleted user is aborted');
  // The bulk's handler awaits each inner call, so by its end every inner job it started has ended,
  // and none started after it.
  const inner = (await root.call('core.get_jobs', [['parent_id', '=', gBulk]])) as Job[];
  for (const j of inner) {
    assert.ok(['SUCCESS', 'FAILED', 'ABORTED'].includes(j.state), `inner job ${j.id} is ${j.state}`);
    assert.ok(j.time_started.$date <= gEnd.time_finished!.$date, `inner job ${j.id} started after the bulk ended`);
  }
  await grace.close();
});

test('deleting or locking a user aborts its running and waiting jobs', async () => {
  const blocker = (await root.call('test.locked', 'blocker', 15_000)) as number; // holds lock L a while
  for (const how of ['lock', 'delete'] as const) {
    const u = await createUser(`henry${how}`, ['TEST_WRITE']);
    const c = await login(`henry${how}`);
    const running = (await c.call('test.until_aborted')) as number;
    const waiting = (await c.call('test.locked', 'mine', 10)) as number;
    assert.is((await getJob(root, waiting)).state, 'WAITING');
    if (how === 'lock') await root.call('user.update', u.id, { locked: true });
    else await root.call('user.delete', u.id);
    assert.is((await ended(root, running)).state, 'ABORTED', `${how}: the running job`);
    assert.is((await ended(root, waiting)).state, 'ABORTED', `${how}: the waiting job`);
    assert.is((await getJob(root, blocker)).state, 'RUNNING', 'other users\' jobs go on');
    await c.close().catch(() => undefined);
  }
});

test('active jobs per user are capped with a clear EBUSY; other users are not affected', async () => {
  await createUser('ivan', ['TEST_WRITE']);
  await createUser('judy', ['TEST_WRITE']);
  const ivan = await login('ivan');
  const judy = await login('judy');
  const mine: number[] = [];
  for (let i = 0; i < MAX_ACTIVE; i++) mine.push((await ivan.call('test.until_aborted')) as number);
  const refused = await ivan.request('test.until_aborted', []);
  assert.is(errname(refused), 'EBUSY');
  assert.match(String(refused.error?.data?.reason), new RegExp(`ivan already has ${MAX_ACTIVE} waiting or running jobs \\(the limit is ${MAX_ACTIVE} per user`));
  const theirs = (await judy.call('test.until_aborted')) as number;
  assert.is((await getJob(root, theirs)).state, 'RUNNING');
  // One more fits once one ended.
  await ivan.call('core.job_abort', mine[0]);
  await ended(root, mine[0]!);
  mine.push((await ivan.call('test.until_aborted')) as number);
  for (const id of [...mine.slice(1), theirs]) await root.call('core.job_abort', id);
  await ivan.close();
  await judy.close();
});

test('core.bulk("core.job_wait", 8000 x [[9999]]) cannot flood: its jobs push out only its owner\'s history', async () => {
  await createUser('kim', ['TEST_WRITE']);
  await createUser('mallory', []);
  const kim = await login('kim');
  await kim.call('core.set_options', { legacy_jobs: false });
  const kept: number[] = [];
  for (let i = 0; i < 20; i++) {
    await kim.call('test.job', { steps: 0, result: i });
  }
  for (const j of (await kim.call('core.get_jobs')) as Job[]) kept.push(j.id);
  const mallory = await login('mallory');
  const bulk = (await mallory.call('core.bulk', 'core.job_wait', Array.from({ length: 8000 }, () => [9999]))) as number;
  const end = await until(async () => {
    const j = await getJob(root, bulk);
    return j.state === 'SUCCESS' ? j : null;
  }, 'the bulk to end', 120_000);
  assert.is((end.result as unknown[]).length, 8000);
  await d.daemon.jobs.purge();
  const left = ((await kim.call('core.get_jobs')) as Job[]).map((j) => j.id);
  assert.equal(left.filter((id) => kept.includes(id)), kept, 'kim keeps every job');
  const total = (await root.call('core.get_jobs', [], { count: true })) as number;
  assert.ok(total <= KEEP + 20, `retention still holds the history to its size (${total})`);
  const mallorys = (await mallory.call('core.get_jobs', [], { count: true })) as number;
  assert.ok(mallorys < 8000 && mallorys > 0, `mallory lost only her own (${mallorys} left)`);
  await kim.close();
  await mallory.close();
});

test('no job can be made to wait for itself or for the job it runs in (it would never end)', async () => {
  await createUser('nina', ['TEST_WRITE']);
  const nina = await login('nina');
  await nina.call('core.set_options', { legacy_jobs: false });
  // Ids are handed out in order: the next job gets last + 1, its first inner call last + 2.
  const last = () => nina.call('core.get_jobs', [], { order_by: ['-id'], get: true }).then((j) => (j as Job).id);
  await nina.call('test.job', { steps: 0 });
  let n = await last();
  const onParent = (await nina.call('core.bulk', 'core.job_wait', [[n + 1]])) as Array<{ error: string | null }>;
  assert.match(String(onParent[0]!.error), /cannot wait for job \d+: it runs inside it/);
  n = await last();
  const onItself = (await nina.call('core.bulk', 'core.job_wait', [[n + 2]])) as Array<{ error: string | null }>;
  assert.match(String(onItself[0]!.error), /cannot wait for job \d+: it runs inside it/);
  // A bulk whose call needs the lock the bulk itself holds.
  const nested = (await nina.call('core.bulk', 'core.bulk', [['core.bulk', [['test.noop', []]]]])) as Array<{ error: string | null }>;
  assert.match(String(nested[0]!.error), /holds the lock bulk:core.bulk and waits for this call/);
  await nina.close();
});

test.run();
