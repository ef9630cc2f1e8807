// A damaged data dir is never silently replaced or shrunk (issue 13 item 5): midshipd refuses to
// start with the problem and the way out, one accurate hint per case; `--repair-db` copies the
// damaged files aside, repairs, and reports what it recovered; a refused second daemon leaves the
// first one alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, startDaemon } from './helpers/daemon.js';
import { spawnDaemon } from './helpers/child.js';
import { modules } from './helpers/modules.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const JOBS = 300;

interface Exit { code: number | null; stdout: string; stderr: string }

function midshipd(args: string[], options: { uid?: number; gid?: number } = {}): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mainJs, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A data dir holding JOBS + 1 jobs; `restarts` more starts move the log into table files. */
async function dataDirWithHistory(restarts: number): Promise<{ dir: string; jobs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-datadir-'));
  const d = await startDaemon({ modules, dataDir: dir });
  const c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  await c.call('core.bulk', 'test.noop', Array.from({ length: JOBS }, () => []));
  const jobs = (await c.call('core.get_jobs', [], { count: true })) as number;
  await c.close();
  await d.stop();
  for (let i = 0; i < restarts; i++) await (await startDaemon({ modules, dataDir: dir })).stop();
  return { dir, jobs };
}

async function jobCount(dir: string): Promise<number> {
  const d = await startDaemon({ modules, dataDir: dir });
  try {
    const c = await Client.connect(d.socketPath);
    const n = (await c.call('core.get_jobs', [], { count: true })) as number;
    await c.close();
    return n;
  } finally {
    await d.stop();
  }
}

/** Names and sizes of the files in db/, to prove a refusal changed nothing. */
async function snapshot(dbDir: string): Promise<string> {
  const names = (await readdir(dbDir)).sort();
  return (await Promise.all(names.map(async (n) => `${n}:${(await stat(join(dbDir, n))).size}`))).join(' ');
}

async function newestLog(dbDir: string): Promise<string> {
  const logs = (await readdir(dbDir)).filter((n) => /^\d+\.log$/.test(n)).sort();
  const withData = [];
  for (const l of logs) if ((await stat(join(dbDir, l))).size > 1000) withData.push(l);
  assert.ok(withData.length > 0, `a log with records in ${logs.join(', ')}`);
  return join(dbDir, withData[withData.length - 1]!);
}

/** The refusal: exit 1, the problem, this case's hint, never the wrong "another midshipd" one. */
async function refused(dir: string, problem: RegExp, hint: RegExp): Promise<Exit> {
  const before = await snapshot(join(dir, 'db')).catch(() => '');
  const r = await midshipd(['--data-dir', dir]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, problem);
  assert.match(r.stderr, hint);
  assert.not.match(r.stderr, /another midshipd/);
  assert.is(await snapshot(join(dir, 'db')).catch(() => ''), before, 'a refusal changes nothing');
  assert.not.ok((await readdir(dir)).includes('midshipd.pid'), 'the lock is released');
  return r;
}

async function repaired(dir: string): Promise<string> {
  const r = await midshipd(['--data-dir', dir, '--repair-db']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /the files as they were: .*db\.damaged-/);
  assert.match(r.stdout, /after repair: \d+ jobs/);
  const aside = (await readdir(dir)).filter((n) => n.startsWith('db.damaged-'));
  assert.is(aside.length, 1);
  return r.stdout;
}

const REPAIR = /midshipd --repair-db --data-dir/;

test('database files but no CURRENT: refused (LevelDB would start empty and delete them); --repair-db recovers every job', async () => {
  const { dir, jobs } = await dataDirWithHistory(2);
  try {
    await unlink(join(dir, 'db', 'CURRENT'));
    await refused(dir, /holds database files .* but no CURRENT file/, REPAIR);
    const report = await repaired(dir);
    assert.match(report, /before repair: a plain open fails/);
    assert.match(report, new RegExp(`after repair: ${jobs} jobs`));
    assert.is(await jobCount(dir), jobs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a truncated write-ahead log: refused; --repair-db keeps what is intact and says what it dropped', async () => {
  const { dir, jobs } = await dataDirWithHistory(0);
  try {
    const log = await newestLog(join(dir, 'db'));
    await truncate(log, (await stat(log)).size - 100);
    await refused(dir, /\.log is truncated at byte \d+/, REPAIR);
    const report = await repaired(dir);
    assert.match(report, /before repair \(a plain open\): \d+ jobs/);
    const after = Number(/after repair: (\d+) jobs/.exec(report)![1]);
    assert.ok(after > 0 && after <= jobs, report);
    assert.is(await jobCount(dir), after);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a garbled write-ahead log: refused with the offset of the bad record', async () => {
  const { dir } = await dataDirWithHistory(0);
  try {
    const log = await newestLog(join(dir, 'db'));
    const buf = await readFile(log);
    buf[Math.floor(buf.length / 2)]! ^= 0xff;
    await writeFile(log, buf);
    await refused(dir, /\.log is garbled at byte \d+ \(checksum mismatch\)/, REPAIR);
    await repaired(dir);
    assert.ok((await jobCount(dir)) > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing MANIFEST: refused; --repair-db rebuilds it with every job', async () => {
  const { dir, jobs } = await dataDirWithHistory(1);
  try {
    const manifest = (await readdir(join(dir, 'db'))).find((n) => n.startsWith('MANIFEST-'))!;
    await unlink(join(dir, 'db', manifest));
    await refused(dir, new RegExp(`CURRENT names ${manifest}, which is missing`), REPAIR);
    await repaired(dir);
    assert.is(await jobCount(dir), jobs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a garbage CURRENT: refused; --repair-db recovers every job', async () => {
  const { dir, jobs } = await dataDirWithHistory(1);
  try {
    await writeFile(join(dir, 'db', 'CURRENT'), 'garbage\u0000\u0001');
    await refused(dir, /CURRENT is damaged: it does not name a MANIFEST file/, REPAIR);
    await repaired(dir);
    assert.is(await jobCount(dir), jobs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file where db/ should be: refused, and --repair-db says it cannot help', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-datadir-'));
  try {
    await writeFile(join(dir, 'db'), 'not a database');
    const r = await midshipd(['--data-dir', dir]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /db is not a directory \(a file is where the database should be\)/);
    assert.match(r.stderr, /move it away/);
    assert.not.match(r.stderr, /another midshipd|--repair-db/);
    const rep = await midshipd(['--data-dir', dir, '--repair-db']);
    assert.is(rep.code, 1);
    assert.match(rep.stderr, /repair cannot help: move it away/);
    assert.is(await readFile(join(dir, 'db'), 'utf8'), 'not a database');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no permission on the data dir: refused, naming who runs and who owns it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-datadir-'));
  try {
    await mkdir(join(dir, 'data'), { mode: 0o700 });
    let r: Exit;
    if (process.getuid?.() === 0) {
      // root reads anything: run the daemon as nobody against root's private dir instead.
      await chmod(dir, 0o755);
      r = await midshipd(['--data-dir', join(dir, 'data')], { uid: 65534, gid: 65534 });
    } else {
      await chmod(join(dir, 'data'), 0o000);
      r = await midshipd(['--data-dir', join(dir, 'data')]);
    }
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /no permission to use .*data \(EACCES; midshipd runs as uid \d+, .*data belongs to uid \d+\)/);
    assert.match(r.stderr, /run midshipd as the user that owns the data dir/);
    assert.not.match(r.stderr, /another midshipd|--repair-db/);
  } finally {
    await chmod(join(dir, 'data'), 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second daemon on the same data dir and socket is refused and leaves the first alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-datadir-'));
  try {
    const first = await spawnDaemon(dir);
    const before = await snapshot(join(dir, 'db'));
    const pidFile = await readFile(join(dir, 'midshipd.pid'), 'utf8');
    const r = await midshipd(['--data-dir', dir]);
    assert.is(r.code, 1);
    assert.match(r.stderr, new RegExp(`another midshipd \\(pid ${first.child.pid}\\) is using the data dir`));
    assert.match(r.stderr, /stop it first, or start this one with another --data-dir/);
    // Its socket, its lock and its files are untouched: it still answers on the socket.
    const c = await Client.connect(first.socketPath);
    assert.is(await c.call('core.ping'), 'pong');
    await c.close();
    assert.is(await readFile(join(dir, 'midshipd.pid'), 'utf8'), pidFile);
    assert.is(await snapshot(join(dir, 'db')), before);
    // Another data dir but the same socket path: refused too, the socket is not taken over.
    const other = await mkdtemp(join(tmpdir(), 'midship-datadir-'));
    const r2 = await midshipd(['--data-dir', other, '--socket', first.socketPath]);
    assert.is(r2.code, 1);
    assert.match(r2.stderr, /unix socket .* is in use by another running process/);
    const c2 = await Client.connect(first.socketPath);
    assert.is(await c2.call('core.ping'), 'pong');
    await c2.close();
    await rm(other, { recursive: true, force: true });
    first.child.kill('SIGTERM');
    assert.is(await first.exited, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stale pid file (the daemon was killed) does not stop the next start', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-datadir-'));
  try {
    const first = await spawnDaemon(dir);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await spawnDaemon(dir);
    const c = await Client.connect(second.socketPath);
    assert.is(await c.call('core.ping'), 'pong');
    await c.close();
    second.child.kill('SIGTERM');
    assert.is(await second.exited, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
