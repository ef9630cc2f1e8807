// midclt against a daemon that goes away: the default URI (./data/middlewared.sock), and `wait`,
// `call -j` and `logs -f` surviving a daemon restart in the middle (issue 6 point 5).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { midclt, spawnMidclt, type Running } from './helpers/midclt.js';
import { testModule } from './helpers/test-module.js';

const modules = [coreModule, jobsModule, testModule];
type Job = { id: number; state: string; error: string | null };

let base: string;
test.before(async () => {
  base = await mkdtemp(join(tmpdir(), 'midclt-restart-'));
});
test.after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function jobIn(d: TestDaemon, id: number): Promise<Job> {
  const c = await Client.connect(d.socketPath);
  try {
    return ((await c.call('core.get_jobs', [['id', '=', id]])) as Job[])[0]!;
  } finally {
    await c.close();
  }
}

async function startLongJob(d: TestDaemon): Promise<number> {
  const c = await Client.connect(d.socketPath);
  try {
    return (await c.call('test.job', { steps: 100000, delay: 20 })) as number;
  } finally {
    await c.close();
  }
}

/** Stop the daemon under a following midclt, check it noticed, start a new one on the same data dir and socket. */
async function restartUnder(p: Running, d1: TestDaemon, dataDir: string): Promise<TestDaemon> {
  await d1.stop();
  await p.until(({ stderr }) => stderr.includes('Connection lost'), 'midclt noticed the drop');
  return startDaemon({ dataDir, socketPath: d1.socketPath, modules });
}

const WAIT_EXIT: Record<string, number> = { SUCCESS: 0, FAILED: 1, ABORTED: 2 };

test('without -u or MIDCLT_URI midclt uses ./data/middlewared.sock of the current directory', async () => {
  const dir = join(base, 'default');
  const d = await startDaemon({ dataDir: join(dir, 'data'), modules });
  try {
    const r = await midclt(['ping'], { cwd: dir });
    assert.is(r.stdout, 'pong\n', r.stderr);
    assert.is(r.code, 0);
    const elsewhere = await midclt(['ping'], { cwd: base });
    assert.is(elsewhere.code, 1);
    assert.match(elsewhere.stderr, new RegExp(`${join(base, 'data', 'middlewared.sock')}`));
  } finally {
    await d.cleanup();
  }
});

test('wait survives a daemon restart: it reconnects and reports the final state of the same job', async () => {
  const dataDir = join(base, 'wait');
  const d1 = await startDaemon({ dataDir, modules });
  const id = await startLongJob(d1);
  const p = spawnMidclt(['wait', String(id)], { uri: `ws+unix://${d1.socketPath}` });
  await p.until(({ stderr }) => /^Step \d+$/m.test(stderr), 'progress of the awaited job');
  const d2 = await restartUnder(p, d1, dataDir);
  try {
    const r = await p.done;
    // Stopping the daemon ended the job (test.job honours the abort a stop sends; one that did
    // not would be FAILED "Interrupted"): whichever it is, midclt reports what the new daemon has.
    const job = await jobIn(d2, id);
    assert.ok(job.state === 'ABORTED' || job.state === 'FAILED', job.state);
    assert.is(r.code, WAIT_EXIT[job.state], r.stderr);
    assert.match(r.stderr, /Reconnecting/);
    assert.not.match(r.stderr, /Gave up/);
    assert.match(r.stderr, job.state === 'ABORTED' ? new RegExp(`Job ${id} was aborted`) : new RegExp(`Job ${id} FAILED`));
  } finally {
    await d2.cleanup();
  }
});

test('call -j survives a daemon restart and exits with the outcome of its job', async () => {
  const dataDir = join(base, 'call');
  const d1 = await startDaemon({ dataDir, modules });
  const p = spawnMidclt(['call', '-j', 'test.job', '{"steps": 100000, "delay": 20}'], { uri: `ws+unix://${d1.socketPath}` });
  await p.until(({ stderr }) => /^Step \d+$/m.test(stderr), 'progress');
  const id = Number(/^Job (\d+) started/m.exec(p.stderr())![1]);
  const d2 = await restartUnder(p, d1, dataDir);
  try {
    const r = await p.done;
    const job = await jobIn(d2, id);
    assert.ok(job.state === 'ABORTED' || job.state === 'FAILED', job.state);
    assert.is(r.code, 1, r.stderr);
    assert.is(r.stdout, '');
    assert.match(r.stderr, /Reconnecting/);
  } finally {
    await d2.cleanup();
  }
});

test('logs -f survives a daemon restart without repeating or losing lines', async () => {
  const dataDir = join(base, 'logs');
  const d1 = await startDaemon({ dataDir, modules });
  const id = await startLongJob(d1);
  const p = spawnMidclt(['logs', '-f', String(id)], { uri: `ws+unix://${d1.socketPath}` });
  await p.until(({ stdout }) => stdout.includes('step 3 of'), 'some log lines');
  const d2 = await restartUnder(p, d1, dataDir);
  try {
    const r = await p.done;
    assert.is(r.code, 0, r.stderr);
    const full = await midclt(['logs', String(id)], { uri: `ws+unix://${d2.socketPath}` });
    assert.is(full.code, 0, full.stderr);
    assert.ok(full.stdout.length > 0);
    assert.is(r.stdout, full.stdout);
  } finally {
    await d2.cleanup();
  }
});

test('reconnecting gives up after --reconnect-timeout with a clear message', async () => {
  const dataDir = join(base, 'giveup');
  const d1 = await startDaemon({ dataDir, modules });
  const id = await startLongJob(d1);
  const p = spawnMidclt(['--reconnect-timeout', '1', 'wait', String(id)], { uri: `ws+unix://${d1.socketPath}` });
  await p.until(({ stderr }) => /^Step \d+$/m.test(stderr), 'progress');
  await d1.stop();
  const r = await p.done;
  assert.is(r.code, 1);
  assert.match(r.stderr, /Gave up reconnecting after 1 s/);
  assert.match(r.stderr, new RegExp(`midclt wait ${id}`));
  await rm(dataDir, { recursive: true, force: true });
});

test.run();
