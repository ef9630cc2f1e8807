// Scrubs through the daemon on real zfs-fuse: a mirror with one side silently corrupted (the
// labels are left alone) is scrubbed by a pool.scrub.scrub job: pool.query shows checksum
// errors on that disk only and the data still reads back intact; a longer scrub is followed
// with progress and pool.scan events, and aborted; pool.scrub.run starts one only when the
// last is older than the threshold; a scheduled scrub task runs as a job on a virtual clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Client } from './helpers/daemon.js';
import { corruptBetweenLabels } from './helpers/files.js';
import { events, job, startStorage, type TestDaemon } from './helpers/storage.js';
import { until } from './helpers/until.js';
import { ZfsLab, zfsTest } from './helpers/zfs.js';
import { VirtualClock } from '../methods/scheduling/index.js';

const ztest = zfsTest(test);
const MiB = 1024 * 1024;

let lab: ZfsLab;
let d: TestDaemon;
let c: Client;
const clock = new VirtualClock(Date.now());

test.after(async () => {
  await c?.close().catch(() => {});
  await d?.cleanup().catch(() => {});
  lab?.cleanupSync();
});

type Pool = { id: number; name: string; guid: string; status: string; healthy: boolean; warning: boolean; status_code: string; scan: { function: string; state: string; percentage: number; errors: number; end_time: { $date: number } | null } | null; topology: { data: Array<{ children: Array<{ disk: string; stats: { checksum_errors: number; read_errors: number } }> }> } };

ztest('corrupt one side of a mirror, scrub as a job: checksum errors on that disk, data intact', async () => {
  lab = new ZfsLab();
  const size = 192 * MiB;
  const left = await lab.loopDevice('left', size);
  const right = await lab.loopDevice('right', size);
  // Scans are read every 100 ms: the scrubs here take a second or two.
  d = await startStorage(lab, { clock, scanIntervalMs: 100 });
  c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  await c.call('core.subscribe', 'pool.scan');
  await c.call('core.subscribe', 'pool.query');
  const name = lab.pool('m');
  const [l, r] = [left.device.slice(5), right.device.slice(5)];
  const pool = (await c.call('pool.create', { name, topology: { data: [{ type: 'MIRROR', disks: [l, r] }] } })) as Pool;
  const data = randomBytes(48 * MiB);
  const mnt = join(lab.dir, 'mnt', name);
  await writeFile(join(mnt, 'data.bin'), data);
  const sum = createHash('sha256').update(data).digest('hex');

  // Out of the daemon's hands while one side is damaged behind ZFS's back, then back in.
  await c.call('pool.export', pool.id);
  await corruptBetweenLabels(right.file, size);
  await c.call('pool.import_pool', { guid: pool.guid });
  const id = ((await c.call('pool.query', [['name', '=', name]], { get: true })) as Pool).id;

  assert.is(await c.call('pool.scrub.scrub', name), null);
  const scrubbed = (await c.call('core.get_jobs', [['method', '=', 'pool.scrub.scrub']], { order_by: ['-id'], get: true })) as { state: string; description: string; progress: { percent: number; description: string } };
  assert.equal([scrubbed.state, scrubbed.description, scrubbed.progress], ['SUCCESS', `Scrub of pool '${name}'`, { percent: 100, description: 'Scrub finished', extra: null }]);
  const after = (await c.call('pool.get_instance', id)) as Pool;
  const [dl, dr] = after.topology.data[0]!.children;
  assert.equal([dl!.disk, dr!.disk], [l, r]);
  assert.is(dl!.stats.checksum_errors, 0, 'the untouched side has no errors');
  assert.ok(dr!.stats.checksum_errors > 0, `checksum errors on the corrupted side: ${JSON.stringify(dr!.stats)}`);
  assert.equal([after.scan!.function, after.scan!.state, after.scan!.errors], ['SCRUB', 'FINISHED', 0]);
  assert.equal([after.status_code, after.warning, after.healthy], ['FAILING_DEV', true, true]);
  // The pool's whole entry went out as CHANGED when the scrub ended; pool.scan said FINISHED.
  await until(() => events(c, 'pool.query').some((e) => e.msg === 'changed' && e.id === id && (e.fields as Pool).scan?.state === 'FINISHED'), 'a pool.query CHANGED with the finished scan');
  await until(() => events(c, 'pool.scan').some((e) => e.fields?.name === name && (e.fields.scan as { state: string }).state === 'FINISHED'), 'the final pool.scan event');
  assert.ok(events(c, 'pool.scan').every((e) => e.id === undefined && Object.keys(e.fields!).sort().join() === 'name,scan'));

  // Read back from disk, not from a cache.
  await c.call('pool.export', id);
  await c.call('pool.import_pool', { guid: pool.guid });
  assert.is(createHash('sha256').update(await readFile(join(mnt, 'data.bin'))).digest('hex'), sum);
});

ztest('pool.scrub.run: a scrub only when the last one is older than the threshold', async () => {
  const name = lab.pool('m');
  const scrubs = () => events(c, 'pool.scan').filter((e) => e.fields?.name === name).length;
  const before = ((await c.call('pool.query', [['name', '=', name]], { get: true })) as Pool).scan;
  assert.is(before, null, 'a fresh import has no scan on record');
  assert.is(await c.call('pool.scrub.run', name, 35), null);
  // The import is in the pool's history, within 35 days: not due.
  assert.is(((await c.call('pool.query', [['name', '=', name]], { get: true })) as Pool).scan, null);
  const seen = scrubs();
  assert.is(await c.call('pool.scrub.run', name, 0), null);
  const done = await until(async () => {
    const p = (await c.call('pool.query', [['name', '=', name]], { get: true })) as Pool;
    return p.scan?.state === 'FINISHED' ? p : null;
  }, 'the scrub pool.scrub.run started to finish', 60_000, 100);
  assert.is(done.scan!.function, 'SCRUB');
  await until(() => scrubs() > seen, 'pool.scan for the started scrub');
  const e = await c.request('pool.scrub.run', ['nosuchpool', 0]);
  assert.is((e.error as { data: { errname: string } }).data.errname, 'ENOENT');
});

ztest('a long scrub: progress from zpool status, pool.scan every interval while SCANNING, abort stops it', async () => {
  const devices = await Promise.all(['s1', 's2', 's3'].map((n) => lab.loopDevice(n, 1400 * MiB)));
  const name = lab.pool('s');
  await c.call('pool.create', { name, topology: { data: [{ type: 'MIRROR', disks: devices.map((x) => x.device.slice(5)) }] } });
  await c.call('pool.dataset.update', name, { copies: 3, compression: 'OFF' });
  const fh = await open(join(lab.dir, 'mnt', name, 'big.bin'), 'w');
  try {
    for (let i = 0; i < 400; i++) await fh.write(randomBytes(MiB));
    await fh.sync();
  } finally {
    await fh.close(); // an open file keeps the dataset busy: the pool could not be destroyed
  }
  // A scrub reads what is on disk: let ZFS write out what it still holds in memory.
  spawnSync('sync');
  await c.call('core.subscribe', 'core.get_jobs');

  // A scrub runs for a second or two here: start one until the abort lands while it scans.
  let aborted: number | null = null;
  for (let attempt = 0; attempt < 6 && aborted === null; attempt++) {
    c.send({ jsonrpc: '2.0', id: `scrub-${attempt}`, method: 'pool.scrub.scrub', params: [name] });
    const running = await until(async () => {
      const jobs = (await c.call('core.get_jobs', [['method', '=', 'pool.scrub.scrub'], ['arguments.0', '=', name]], { order_by: ['-id'] })) as Array<{ id: number; state: string; progress: { percent: number; description: string } }>;
      const j = jobs[0];
      return j && (['SUCCESS', 'FAILED', 'ABORTED'].includes(j.state) || j.progress.description === 'Scrub in progress') ? j : null;
    }, 'the scrub job to report progress or end', 60_000, 20);
    if (running.state !== 'RUNNING') continue; // finished before we could look: again
    assert.ok(running.progress.percent >= 0 && running.progress.percent < 100);
    await c.call('core.job_abort', running.id);
    const reply = await c.waitFor((m) => m.id === `scrub-${attempt}`, 60_000);
    if ((await job(c, running.id)).state === 'SUCCESS') continue; // it ended just before the abort
    assert.is(reply.result, null);
    aborted = running.id;
  }
  assert.ok(aborted !== null, 'a scrub was aborted while it ran');
  assert.is((await job(c, aborted!)).state, 'ABORTED');
  const p = await until(async () => {
    const x = (await c.call('pool.query', [['name', '=', name]], { get: true })) as Pool;
    return x.scan?.state !== 'SCANNING' ? x : null;
  }, 'the scrub to stop');
  assert.is(p.scan!.state, 'CANCELED', 'the scrub was stopped, not left running');
  const scanning = events(c, 'pool.scan').filter((e) => e.fields?.name === name && (e.fields.scan as { state: string }).state === 'SCANNING');
  const scan = scanning[0]!.fields!.scan as Record<string, unknown>;
  assert.equal(Object.keys(scan).sort(), ['bytes_issued', 'bytes_processed', 'bytes_to_process', 'end_time', 'errors', 'function', 'pause', 'percentage', 'start_time', 'state', 'total_secs_left']);
  assert.is(scan.end_time, null);
});

ztest('a scheduled scrub task runs as a pool.scrub.scrub job when its time comes (virtual clock)', async () => {
  const name = lab.pool('m');
  const pool = (await c.call('pool.query', [['name', '=', name]], { get: true })) as Pool;
  const [task] = (await c.call('pool.scrub.query', [['pool', '=', pool.id]])) as Array<{ id: number; schedule: Record<string, string>; threshold: number }>;
  assert.equal(task!.schedule, { minute: '00', hour: '00', dom: '*', month: '*', dow: '7' }, 'the default task TrueNAS makes');
  const bad = await c.request('pool.scrub.update', [task!.id, { schedule: { hour: '25' } }]);
  assert.equal((bad.error as { data: { extra: Array<[string, string]> } }).data.extra.map((x) => x[0]), ['pool_scrub_update.schedule.hour']);
  const dup = await c.request('pool.scrub.create', [{ pool: pool.id }]);
  assert.equal((dup.error as { data: { extra: Array<[string, string]> } }).data.extra.map((x) => [x[0], x[1]]), [['pool_scrub_create.pool', 'A scrub with this pool already exists']]);
  await c.call('pool.scrub.update', task!.id, { threshold: 0, schedule: { minute: '*', hour: '*', dow: '*' } });
  const before = ((await c.call('core.get_jobs', [['method', '=', 'pool.scrub.scrub']])) as unknown[]).length;
  clock.advance(61_000);
  const ran = await until(async () => {
    const jobs = (await c.call('core.get_jobs', [['method', '=', 'pool.scrub.scrub']], { order_by: ['-id'] })) as Array<{ state: string; arguments: unknown[] }>;
    return jobs.length > before && jobs[0]!.state === 'SUCCESS' ? jobs[0] : null;
  }, 'the scheduled scrub job', 60_000, 50);
  assert.equal(ran.arguments, [name, 'START']);
  assert.is(await c.call('pool.scrub.delete', task!.id), true);
});

test.run();
