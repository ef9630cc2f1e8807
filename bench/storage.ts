// The storage module through a real daemon (its own process) on this host's ZFS, with pools on
// loop devices named with a per-run prefix and removed afterwards, whatever happens:
//  - replication throughput: replication.run of one full stream through the daemon (which pipes
//    and counts every byte) against the plain shell pipeline `zfs send | zfs recv` of the same
//    snapshot, alternated, median of 5 each (target: the daemon at least 0.9x the pipeline);
//  - pool.snapshot.query over 10,000 snapshots (target < 500 ms) and pool.dataset.query over
//    1,000 datasets (target < 300 ms), warm medians as a client sees them (the client library,
//    call to parsed reply), with the daemon's own CPU per call (what a loaded host inflates least);
//  - the daemon's CPU while pool.scrub.scrub jobs follow three scrubs (target < 2 % of a core),
//    its own and with the zpool commands it runs: over the whole jobs, and between each scan's
//    first and last pool.scan event (following alone).
// Run alone: `npm run build && node dist/bench/storage.js` (root, ZFS installed).
import { execFile, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDaemon, type ChildDaemon } from '../tests/helpers/child.js';
import { Client } from '../cli/client.js';
import { writeRandom } from '../tests/helpers/files.js';
import { ZfsLab, zfsUnavailable } from '../tests/helpers/zfs.js';
import { ZfsDriver } from '../methods/zfs/driver.js';
import { median } from './stats.js';

export interface StorageBench {
  flavor: string;
  replicationMiB: number;
  daemonMiBps: number;
  pipelineMiBps: number;
  ratio: number;
  snapshots: number;
  snapshotQueryMs: number;
  /** The daemon's own CPU per warm query (with the zpool/zfs commands it ran): what load cannot inflate much. */
  snapshotQueryCpuMs: number;
  snapshotQueryColdMs: number;
  datasets: number;
  datasetQueryMs: number;
  datasetQueryCpuMs: number;
  datasetQueryColdMs: number;
  scrubs: number;
  /** All scrubs together. */
  scrubSeconds: number;
  scrubCpuPercent: number;
  scrubCpuWithChildrenPercent: number;
  /** The same between the scan's first and last pool.scan event: following, without the job's start and end. */
  followSeconds: number;
  followCpuPercent: number;
  followCpuWithChildrenPercent: number;
}

const MiB = 1024 * 1024;
const REPL_MIB = 512;
const REPL_ROUNDS = 5;
const SNAP_DATASETS = 100;
const SNAP_PER_DATASET = 100;
const DATASETS = 1000;
const SCRUBS = 3;
const SCRUB_MIB = 1200;
const childModules = fileURLToPath(new URL('../tests/helpers/storage-child-modules.js', import.meta.url));

/** Every command of the bench gets this long; one that hangs (zfs-fuse can) fails the run. */
const COMMAND_TIMEOUT_MS = 180_000;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ').slice(0, 200)}: ${r.error?.message ?? (r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/**
 * `zfs create` of many datasets, four at a time, each with its own timeout. They are made with
 * canmount=off: a thousand FUSE mounts add nothing to what is measured (the listing), and
 * zfs-fuse has been seen to hang for good on lookups while hundreds of mounts were being made.
 */
async function createDatasets(names: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      await new Promise<void>((resolve, reject) => {
        execFile('zfs', ['create', '-o', 'canmount=off', name], { timeout: COMMAND_TIMEOUT_MS }, (err, _out, stderr) => {
          if (err) reject(new Error(`zfs create ${name}: ${stderr.trim() || err.message}`));
          else resolve();
        });
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
}

/** User + system CPU ms of a process, and with its waited-for children (the commands it ran). */
async function cpu(pid: number): Promise<{ own: number; withChildren: number }> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const own = (f[11]! + f[12]!) * 10;
  return { own, withChildren: own + (f[13]! + f[14]!) * 10 };
}

export function storageBenchUnavailable(): string | null {
  return zfsUnavailable();
}

export async function benchStorage(log: (line: string) => void = console.log): Promise<StorageBench> {
  const lab = new ZfsLab();
  let child: ChildDaemon | null = null;
  let c: Client | null = null;
  try {
    const mnt = join(lab.dir, 'mnt');
    await mkdir(mnt, { recursive: true });
    const dataDir = join(lab.dir, 'data');
    await mkdir(dataDir);
    child = await spawnDaemon(dataDir, { MIDSHIP_MODULES: childModules, MIDSHIP_TEST_MOUNT_ROOT: mnt, MIDSHIP_TEST_SCAN_INTERVAL_MS: '2000', MIDSHIP_FSYNC: '0' }, false);
    // The client scripts use (new-style job calls): its calls return when their job ended.
    const conn = (c = await Client.connect(`ws+unix://${child.socketPath}`, { timeoutMs: COMMAND_TIMEOUT_MS }));
    const api = (method: string, ...params: unknown[]) => conn.call(method, params);
    const disk = async (name: string, mib: number) => (await lab.loopDevice(name, mib * MiB)).device.slice('/dev/'.length);
    /** Seven warm calls: the median time a client waits, and the daemon's median CPU per call. */
    const warmRuns = async (query: () => Promise<unknown>) => {
      const times: number[] = [];
      const cpus: number[] = [];
      for (let i = 0; i < 7; i++) {
        const before = await cpu(child!.child.pid!);
        times.push((await timed(query))[1]);
        const after = await cpu(child!.child.pid!);
        cpus.push(after.withChildren - before.withChildren);
      }
      return { ms: median(times), cpuMs: median(cpus) };
    };
    const pool = async (suffix: string, disks: string[], type = 'STRIPE') => {
      const name = lab.pool(suffix);
      await api('pool.create', { name, topology: { data: [{ type, disks }] } });
      return name;
    };

    // Replication throughput, side by side with the plain pipeline.
    const S = await pool('rs', [await disk('rs', 1400)]);
    const T = await pool('rt', [await disk('rt', 1400)]);
    log(`writing ${REPL_MIB} MiB of random data to replicate ...`);
    await api('pool.dataset.create', { name: `${S}/d`, compression: 'OFF' });
    await writeRandom(join(mnt, S, 'd', 'data.bin'), REPL_MIB);
    await api('pool.snapshot.create', { dataset: `${S}/d`, name: 'bench-2026-01-01_00-00' });
    const task = ((await api('replication.create', {
      name: 'bench', direction: 'PUSH', transport: 'LOCAL', source_datasets: [`${S}/d`], target_dataset: `${T}/viad`,
      recursive: false, auto: false, retention_policy: 'NONE', readonly: 'IGNORE', also_include_naming_schema: ['bench-%Y-%m-%d_%H-%M'],
    })) as { id: number }).id;
    const viaDaemon: number[] = [];
    const viaShell: number[] = [];
    const throughDaemon = async () => {
      viaDaemon.push((await timed(() => api('replication.run', task)))[1]);
      await api('pool.dataset.delete', `${T}/viad`, { recursive: true, force: true });
    };
    const throughShell = async () => {
      const t0 = performance.now();
      sh('sh', ['-c', `zfs send "$0" | zfs recv "$1"`, `${S}/d@bench-2026-01-01_00-00`, `${T}/plain`]);
      viaShell.push(performance.now() - t0);
      await api('pool.dataset.delete', `${T}/plain`, { recursive: true, force: true });
    };
    // Alternated, each going first in every other round: the machine is shared and noisy.
    for (let round = 0; round < REPL_ROUNDS; round++) {
      for (const run of round % 2 === 0 ? [throughDaemon, throughShell] : [throughShell, throughDaemon]) await run();
    }
    const daemonMiBps = REPL_MIB / (median(viaDaemon) / 1000);
    const pipelineMiBps = REPL_MIB / (median(viaShell) / 1000);

    // 10,000 snapshots.
    const P = await pool('sn', [await disk('sn', 2048)]);
    log(`making ${SNAP_DATASETS} datasets x ${SNAP_PER_DATASET} snapshots ...`);
    await createDatasets([`${P}/p`]);
    await createDatasets(Array.from({ length: SNAP_DATASETS }, (_, i) => `${P}/p/d${i}`));
    for (let j = 0; j < SNAP_PER_DATASET; j++) sh('zfs', ['snapshot', '-r', `${P}/p@s${j}`]);
    const snapshots = (SNAP_DATASETS + 1) * SNAP_PER_DATASET;
    const snapQuery = () => api('pool.snapshot.query', [['pool', '=', P]]) as Promise<unknown[]>;
    const [cold, snapshotQueryColdMs] = await timed(snapQuery);
    if (cold.length !== snapshots) throw new Error(`pool.snapshot.query found ${cold.length} snapshots, expected ${snapshots}`);
    const snap = await warmRuns(snapQuery);

    // 1,000 datasets.
    const Q = await pool('ds', [await disk('ds', 1024)]);
    log(`making ${DATASETS} datasets ...`);
    await createDatasets(Array.from({ length: DATASETS }, (_, i) => `${Q}/d${i}`));
    const dsQuery = () => api('pool.dataset.query', [['pool', '=', Q]]) as Promise<unknown[]>;
    const [dcold, datasetQueryColdMs] = await timed(dsQuery);
    if (dcold.length !== DATASETS + 1) throw new Error(`pool.dataset.query found ${dcold.length} datasets, expected ${DATASETS + 1}`);
    const ds = await warmRuns(dsQuery);

    // The daemon's CPU while it follows a scrub (polling zpool status every 2 s).
    const devices = await Promise.all(['c1', 'c2', 'c3'].map((n) => disk(n, Math.ceil(SCRUB_MIB * 3 * 1.3))));
    const C = await pool('cp', devices, 'MIRROR');
    await api('pool.dataset.update', C, { copies: 3, compression: 'OFF' });
    // Enough that a scrub lasts several intervals even when every block is in the page cache.
    log(`writing ${SCRUB_MIB} MiB (3 copies on a 3-way mirror) to scrub ...`);
    await writeRandom(join(mnt, C, 'scrub.bin'), SCRUB_MIB);
    sh('sync', []);
    // Three scrubs of the same data (reads only): each whole job, and between each scan's first
    // and last pool.scan event, following alone without the job's start and end (which cost the
    // same however long the scrub runs).
    const pid = child.child.pid!;
    let scanning: Array<Promise<{ at: number; cpu: { own: number; withChildren: number } }>> = [];
    const sub = await conn.subscribe('pool.scan', (ev) => {
      const f = ev.fields as { name?: string; scan?: { state?: string } } | undefined;
      if (f?.name === C && f.scan?.state === 'SCANNING') scanning.push(cpu(pid).then((x) => ({ at: performance.now(), cpu: x })));
    });
    const job = { ms: 0, own: 0, withChildren: 0 };
    const follow = { ms: 0, own: 0, withChildren: 0 };
    for (let i = 0; i < SCRUBS; i++) {
      scanning = [];
      const before = await cpu(pid);
      job.ms += (await timed(() => api('pool.scrub.scrub', C)))[1];
      const after = await cpu(pid);
      job.own += after.own - before.own;
      job.withChildren += after.withChildren - before.withChildren;
      const samples = await Promise.all(scanning);
      if (samples.length < 2) continue;
      const [first, last] = [samples[0]!, samples[samples.length - 1]!];
      follow.ms += last.at - first.at;
      follow.own += last.cpu.own - first.cpu.own;
      follow.withChildren += last.cpu.withChildren - first.cpu.withChildren;
    }
    await sub.unsubscribe();
    if (follow.ms === 0) throw new Error('the scrubs were too short to follow (fewer than two pool.scan events while scanning)');
    return {
      flavor: (await ZfsDriver.open()).dialect.flavor,
      replicationMiB: REPL_MIB,
      daemonMiBps,
      pipelineMiBps,
      ratio: daemonMiBps / pipelineMiBps,
      snapshots,
      snapshotQueryMs: snap.ms,
      snapshotQueryCpuMs: snap.cpuMs,
      snapshotQueryColdMs,
      datasets: DATASETS + 1,
      datasetQueryMs: ds.ms,
      datasetQueryCpuMs: ds.cpuMs,
      datasetQueryColdMs,
      scrubs: SCRUBS,
      scrubSeconds: job.ms / 1000,
      scrubCpuPercent: (100 * job.own) / job.ms,
      scrubCpuWithChildrenPercent: (100 * job.withChildren) / job.ms,
      followSeconds: follow.ms / 1000,
      followCpuPercent: (100 * follow.own) / follow.ms,
      followCpuWithChildrenPercent: (100 * follow.withChildren) / follow.ms,
    };
  } finally {
    await c?.close().catch(() => {});
    if (child) {
      child.child.kill('SIGTERM');
      await child.exited;
    }
    lab.cleanupSync();
  }
}

export function storageLines(r: StorageBench): string {
  const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  return [
    `  ZFS: ${r.flavor}`,
    `  replication of ${r.replicationMiB} MiB, full stream (median of ${REPL_ROUNDS} each, alternated)`,
    `    through the daemon (replication.run)     ${r.daemonMiBps.toFixed(0)} MiB/s`,
    `    zfs send | zfs recv (shell pipeline)     ${r.pipelineMiBps.toFixed(0)} MiB/s`,
    `    ratio daemon / pipeline                  ${r.ratio.toFixed(2)}x   target >= 0.9x: ${met(r.ratio >= 0.9)}`,
    `  pool.snapshot.query, ${r.snapshots.toLocaleString('en-US')} snapshots   ${ms(r.snapshotQueryMs)} (median of 7; first ${ms(r.snapshotQueryColdMs)}; daemon CPU ${ms(r.snapshotQueryCpuMs)} per call)   target < 500 ms: ${met(r.snapshotQueryMs < 500)}`,
    `  pool.dataset.query, ${r.datasets.toLocaleString('en-US')} datasets     ${ms(r.datasetQueryMs)} (median of 7; first ${ms(r.datasetQueryColdMs)}; daemon CPU ${ms(r.datasetQueryCpuMs)} per call)   target < 300 ms: ${met(r.datasetQueryMs < 300)}`,
    `  daemon CPU over ${r.scrubs} pool.scrub.scrub jobs (${r.scrubSeconds.toFixed(1)} s of scrubbing)   ${r.scrubCpuPercent.toFixed(2)} % of a core (${r.scrubCpuWithChildrenPercent.toFixed(2)} % with its zpool commands)`,
    `    while following them (${r.followSeconds.toFixed(1)} s between first and last pool.scan)   ${r.followCpuPercent.toFixed(2)} % (${r.followCpuWithChildrenPercent.toFixed(2)} % with its zpool commands)   target < 2 %: ${met(r.followCpuWithChildrenPercent < 2)}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const why = storageBenchUnavailable();
  if (why !== null) {
    console.log(`storage: skipped (${why})`);
  } else {
    benchStorage().then((r) => console.log(storageLines(r))).catch((e: unknown) => {
      console.error(`storage bench failed: ${e instanceof Error ? e.stack : String(e)}`);
      process.exitCode = 1;
    });
  }
}
