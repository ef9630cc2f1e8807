// kill -9 of a real midshipd process in the middle of a cron job run: the command's process
// group outlives the daemon (reparented to init); the restart must kill it before it listens,
// and the run's job must read FAILED as interrupted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from './helpers/daemon.js';
import { alive, getJob, pidsIn, run, type CronEntry } from './helpers/cronjob.js';
import { until } from './helpers/until.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startMidshipd(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, [mainJs, '--port', '0', '--data-dir', dataDir, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await until(() => {
    if (child.exitCode !== null) throw new Error(`midshipd exited: ${err}`);
    return /"port":\d+/.test(err);
  }, 'midshipd to listen');
  return { child, stderr: () => err, exited };
}

test('kill -9 mid-run: the restart kills the orphaned process group, the job is FAILED as interrupted', async () => {
  const data = await mkdtemp(join(tmpdir(), 'midship-cron-crash-'));
  const w = await mkdtemp(join(tmpdir(), 'midship-cron-crash-work-'));
  const socket = join(data, 'middlewared.sock');
  let second: Running | null = null;
  let pids: number[] = [];
  try {
    const first = await startMidshipd(data);
    const c = await Client.connect(socket);
    const e = (await c.call('cronjob.create', { user: 'root', command: 'echo $$ > pids; sleep 1000 & echo $! >> pids; wait', working_directory: w, enabled: false })) as CronEntry;
    const jobId = await run(c, e.id);
    pids = await pidsIn(join(w, 'pids'), 2);
    const logsPath = (await getJob(c, jobId)).logs_path!;
    // Logged only once the process group is stored with the job.
    await until(async () => /\[cronjob\] started process group \d+/.test(await readFile(logsPath, 'utf8').catch(() => '')), 'the process group to be recorded');
    first.child.kill('SIGKILL');
    await first.exited;
    await c.closed;
    for (const pid of pids) assert.ok(await alive(pid), `pid ${pid} outlived the daemon (the test can fail)`);

    second = await startMidshipd(data);
    // start() kills leftovers before the daemon listens: no waiting needed here.
    for (const pid of pids) assert.not.ok(await alive(pid), `pid ${pid} was killed by the restart`);
    assert.match(second.stderr(), /killed the process group of an interrupted cron job run/);
    const c2 = await Client.connect(socket);
    const j = await getJob(c2, jobId);
    assert.is(j.state, 'FAILED');
    assert.match(j.error!, /Interrupted: the daemon stopped while this job was running/);
    const entry = (await c2.call('cronjob.get_instance', e.id)) as CronEntry;
    assert.equal(entry.last_run, { job_id: jobId, state: 'FAILED', time_finished: entry.last_run!.time_finished });
    assert.type(entry.last_run!.time_finished, 'string');
    // A clean stop of a daemon with a run in progress leaves nothing behind either.
    const again = await run(c2, e.id);
    await until(async () => (await getJob(c2, again)).state === 'RUNNING', 'the second run');
    const morePids = await until(async () => {
      const text = await readFile(join(w, 'pids'), 'utf8').catch(() => '');
      const p = text.split('\n').filter(Boolean).map(Number);
      return p.length >= 2 && !p.some((x) => pids.includes(x)) ? p : null;
    }, 'the second run to start its processes');
    const stopping = second;
    second = null;
    stopping.child.kill('SIGTERM');
    assert.is(await stopping.exited, 0);
    assert.not.match(stopping.stderr(), /"level":50/, 'no errors while stopping');
    for (const pid of morePids) assert.not.ok(await alive(pid), `pid ${pid} was stopped with the daemon`);
    const third = await startMidshipd(data);
    try {
      const c3 = await Client.connect(socket);
      const stopped = await getJob(c3, again);
      assert.is(stopped.state, 'FAILED');
      assert.match(stopped.error!, /Interrupted/);
      await c3.close();
    } finally {
      third.child.kill('SIGTERM');
      await third.exited;
    }
  } finally {
    if (second) {
      second.child.kill('SIGKILL');
      await second.exited;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(data, { recursive: true, force: true });
    await rm(w, { recursive: true, force: true });
  }
});

test.run();
