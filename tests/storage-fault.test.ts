// Storage faults never make the daemon lie (issue 13): a full disk on a small tmpfs mounted by the
// test. The first failed write puts the store into a failed state: every write is refused with
// ENOSPC, nothing failed is left in memory or on disk, a job whose end cannot be stored is not
// announced; once space is back the daemon reopens the database, and after a restart every
// acknowledged write is there. Needs root (mount); skipped with a hint otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { GuardedLevel } from '../daemon/storage.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';
import { modules } from './helpers/modules.js';

const isRoot = process.getuid?.() === 0;
const t = isRoot ? test : test.skip;
if (!isRoot) console.log('storage-fault: skipped (mounting the small tmpfs these tests fill needs root)');

const ENOSPC = 28;
type RpcError = { data?: { error?: number; reason?: string } };

async function withTmpfs(sizeMiB: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  try {
    await fn(dir);
  } finally {
    execFileSync('umount', ['-l', dir]);
    await rmdir(dir);
  }
}

/** Fill the file system holding `path` with one file until it refuses (ENOSPC). */
async function fill(path: string): Promise<void> {
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(256 * 1024, 7);
  try {
    for (let i = 0; i < 100_000; i++) await fh.write(chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function errnoOf(p: Promise<unknown>): Promise<number | null> {
  try {
    await p;
    return null;
  } catch (err) {
    const errno = (err as { rpc?: RpcError }).rpc?.data?.error ?? (err as { errno?: number }).errno;
    if (errno === undefined) throw err;
    return errno;
  }
}

t('the store refuses every write after the first failure, so no acknowledged write lands behind a torn log record', async () => {
  await withTmpfs(16, async (dir) => {
    const log = pino({ level: 'silent' });
    const location = join(dir, 'db');
    let db = new GuardedLevel(location, { fsync: false, log, retryMs: 100 });
    await db.open();
    let sub = db.sublevel<string, unknown>('x', { valueEncoding: 'json' });
    await fill(join(dir, 'filler'));
    const acked: string[] = [];
    const refused: Array<number | undefined> = [];
    const pad = 'y'.repeat(300);
    // Write until the first failure, free the space at once, and keep writing a little: without
    // the guard these later writes land after the torn record and vanish at the next open.
    for (let i = 0; i < 20_000 && refused.length < 50; i++) {
      const key = `k${String(i).padStart(6, '0')}`;
      try {
        await sub.put(key, { i, pad });
        acked.push(key);
      } catch (err) {
        if (refused.length === 0) await rm(join(dir, 'filler'));
        refused.push((err as { errno?: number }).errno);
      }
    }
    assert.ok(refused.length === 50, 'the disk filled up');
    assert.ok(refused.every((e) => e === ENOSPC), `every write after the fault refused with ENOSPC: ${JSON.stringify(refused.slice(0, 5))}`);
    // Recovery: the db is reopened once there is room, and writes are taken again.
    await until(() => db.failed === null, 'the store to recover');
    for (let i = 0; i < 20; i++) {
      await sub.put(`z${i}`, { i, pad });
      acked.push(`z${i}`);
    }
    await db.close();
    db = new GuardedLevel(location, { fsync: false, log });
    await db.open();
    sub = db.sublevel<string, unknown>('x', { valueEncoding: 'json' });
    const found = await sub.getMany(acked);
    const lost = acked.filter((_, i) => found[i] === undefined);
    assert.equal(lost, [], 'every acknowledged write is there after a restart');
    await db.close();
  });
});

t('a full disk: writes refused with ENOSPC, no ghost records, unrecorded ends not announced; after space is back and a restart every acknowledged write is there', async () => {
  await withTmpfs(48, async (dir) => {
    const dataDir = join(dir, 'data');
    await mkdir(dataDir);
    const running: TestDaemon[] = [];
    const start = async () => {
      const d = await startDaemon({ dataDir, modules, storage: { fsync: false, retryMs: 100 } });
      running.push(d);
      return d;
    };
    try {
      await fullDisk(dir, start);
    } finally {
      for (const d of running) await d.stop();
    }
  });
});

async function fullDisk(dir: string, start: () => Promise<TestDaemon>): Promise<void> {
  let d = await start();
  let c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  const users: string[] = [];
  const crons: number[] = [];
  const jobResults = new Map<string, unknown>();
  const user = async (name: string) => {
    await c.call('user.create', { username: name, full_name: name, password: 'correct horse battery', roles: [] });
    users.push(name);
  };
  const cron = async (tag: string) => {
    crons.push(((await c.call('cronjob.create', { command: `echo ${tag}`, user: 'root', enabled: false })) as { id: number }).id);
  };
  const job = async (tag: string) => {
    jobResults.set(tag, await c.call('test.job', { steps: 0, result: tag }));
  };
  await user('before');
  await cron('before');
  await job('before');
  // A job that ends while the disk is full: its end must wait until it can be stored.
  const legacy = await Client.connect(d.socketPath); // legacy jobs: the call answers the id
  const longId = (await legacy.call('test.fixed', 1500)) as number;
  await legacy.close();

  await fill(join(dir, 'filler'));
  // Write until the first refusal; everything answered before it is acknowledged. (Cron jobs:
  // a job whose end cannot be stored would not answer until the store recovers.)
  let first: number | null = null;
  for (let i = 0; i < 2000 && first === null; i++) first = await errnoOf(cron(`fill-${i}`));
  assert.is(first, ENOSPC, 'the first failed write reports ENOSPC');
  const jobsBefore = await c.call('core.get_jobs', [], { count: true });
  // While failed: every kind of write is refused with ENOSPC, and leaves nothing behind.
  assert.is(await errnoOf(user('ghost')), ENOSPC);
  assert.is(await errnoOf(user('ghost')), ENOSPC, 'a retry is refused the same way (the user does not half-exist)');
  assert.is(await errnoOf(cron('ghost')), ENOSPC);
  assert.is(await errnoOf(job('ghost')), ENOSPC);
  const names = ((await c.call('user.query')) as Array<{ username: string }>).map((u) => u.username);
  assert.not.ok(names.includes('ghost'), 'no ghost user in memory');
  assert.is(((await c.call('cronjob.query')) as unknown[]).length, crons.length, 'no ghost cron job');
  assert.is(await c.call('core.get_jobs', [], { count: true }), jobsBefore, 'no ghost job');
  const refusal = (await c.request('test.job', [{ steps: 0 }])).error as RpcError;
  assert.match(String(refusal.data?.reason), /No space left on device.*refused until it has been reopened/s);
  // The long job ended meanwhile; its end could not be stored, so nobody is told it ended.
  await until(() => d.logs.some((l) => l.job === longId && String(l.msg).includes('could not be stored')), 'the long job to end');
  const unrecorded = (await c.call('core.get_jobs', [['id', '=', longId]], { get: true })) as { state: string };
  assert.is(unrecorded.state, 'RUNNING');

  // Space comes back: the store reopens, the held end is stored and announced, writes work.
  await rm(join(dir, 'filler'));
  await until(() => d.logs.some((l) => l.msg === 'database reopened and writable again'), 'the store to recover');
  await until(async () => ((await c.call('core.get_jobs', [['id', '=', longId]], { get: true })) as { state: string }).state === 'SUCCESS', 'the long job to be announced');
  await user('ghost'); // the name was never taken
  await user('after');
  await cron('after');
  await job('after');
  await c.close();
  await d.stop();

  d = await start();
  c = await Client.connect(d.socketPath);
  const storedUsers = ((await c.call('user.query')) as Array<{ username: string }>).map((u) => u.username);
  for (const name of users) assert.ok(storedUsers.includes(name), `user ${name} kept`);
  assert.is(storedUsers.filter((n) => n === 'ghost').length, 1);
  assert.equal(((await c.call('cronjob.query')) as Array<{ id: number }>).map((x) => x.id), crons);
  const stored = (await c.call('core.get_jobs', [['method', '=', 'test.job']], { select: ['state', 'result'] })) as Array<{ state: string; result: unknown }>;
  const results = new Set(stored.filter((j) => j.state === 'SUCCESS').map((j) => JSON.stringify(j.result)));
  const missing = [...jobResults.values()].filter((r) => !results.has(JSON.stringify(r)));
  assert.equal(missing, [], 'every acknowledged job is there');
  assert.is(stored.length, jobResults.size, 'and no job that was refused');
  assert.is(((await c.call('core.get_jobs', [['id', '=', longId]], { get: true })) as { state: string }).state, 'SUCCESS');
  await c.close();
}

test.run();
