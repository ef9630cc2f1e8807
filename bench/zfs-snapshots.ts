// Listing 10,000 snapshots through the ZFS driver (target: under 500 ms), side by side with the
// plain `zfs list -t snapshot` of the same pool. A throw-away pool on a sparse file holds 100
// datasets with 100 snapshots each; its name carries a per-run prefix (mst<pid>x<hex>, like the
// tests) and it is destroyed afterwards, also when the run fails.
// Run alone: `npm run build && node dist/bench/zfs-snapshots.js` (root, zfs installed).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZfsDriver } from '../methods/zfs/driver.js';
import { median } from './stats.js';

export interface ZfsSnapshotBench {
  snapshots: number;
  /** `zfs list -H -t snapshot -o name -r <pool>` run as a plain command. */
  plainZfsListMs: number;
  /** A new driver's first listing (reads everything). */
  coldMs: number;
  /** Median listing when nothing changed. */
  warmMs: number;
  /** Median listing right after one snapshot was made outside the driver. */
  afterOneSnapshotMs: number;
  /** Listing after a change the index cannot follow (a rename): a full re-read. */
  afterRenameMs: number;
  flavor: string;
}

const DATASETS = 100;
const PER_DATASET = 100;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  return f().then((v) => [v, performance.now() - t]);
}

/** Why this benchmark cannot run here, or null. */
export function zfsBenchUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  const r = spawnSync('zpool', ['list', '-H'], { encoding: 'utf8' });
  if (r.error || (r.status !== 0 && !/no pools available/.test(`${r.stdout}${r.stderr}`))) return 'zpool is missing or not answering';
  return null;
}

export async function benchZfsSnapshots(log: (line: string) => void = console.log): Promise<ZfsSnapshotBench> {
  const prefix = `mst${process.pid}x${randomBytes(2).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const pool = `${prefix}bench`;
  const cleanup = () => {
    for (let i = 0; i < 5; i++) {
      if (spawnSync('zpool', ['destroy', '-f', pool]).status === 0 || spawnSync('zpool', ['list', pool]).status !== 0) break;
      spawnSync('sleep', ['0.5']);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  try {
    const file = join(dir, 'disk');
    sh('truncate', ['-s', '2G', file]);
    sh('zpool', ['create', '-m', 'none', pool, file]);
    log(`creating ${DATASETS} datasets x ${PER_DATASET} snapshots in ${pool} ...`);
    sh('zfs', ['create', `${pool}/p`]);
    for (let i = 0; i < DATASETS; i++) sh('zfs', ['create', `${pool}/p/d${i}`]);
    for (let j = 0; j < PER_DATASET; j++) sh('zfs', ['snapshot', '-r', `${pool}/p@s${j}`]);
    const expected = (DATASETS + 1) * PER_DATASET;

    const t0 = performance.now();
    const plainCount = sh('zfs', ['list', '-H', '-t', 'snapshot', '-o', 'name', '-r', pool]).split('\n').filter(Boolean).length;
    const plainZfsListMs = performance.now() - t0;
    if (plainCount !== expected) throw new Error(`zfs list found ${plainCount} snapshots, expected ${expected}`);

    const z = await ZfsDriver.open();
    const [first, coldMs] = await timed(() => z.snapshots.list({ datasets: [pool] }));
    if (first.length !== expected) throw new Error(`driver listed ${first.length} snapshots, expected ${expected}`);
    const warm: number[] = [];
    for (let i = 0; i < 7; i++) {
      const [l, ms] = await timed(() => z.snapshots.list({ datasets: [pool] }));
      if (l.length !== expected) throw new Error(`warm listing found ${l.length}`);
      warm.push(ms);
    }
    const afterOne: number[] = [];
    for (let i = 0; i < 5; i++) {
      sh('zfs', ['snapshot', `${pool}/p/d${i}@extra`]);
      const [l, ms] = await timed(() => z.snapshots.list({ datasets: [pool] }));
      if (l.length !== expected + i + 1) throw new Error(`after a new snapshot: ${l.length}`);
      afterOne.push(ms);
    }
    sh('zfs', ['rename', `${pool}/p/d0@extra`, `${pool}/p/d0@renamed`]);
    const [renamed, afterRenameMs] = await timed(() => z.snapshots.list({ datasets: [pool] }));
    if (!renamed.some((s) => s.name === `${pool}/p/d0@renamed`)) throw new Error('the rename was not seen');
    return {
      snapshots: expected, plainZfsListMs, coldMs, warmMs: median(warm), afterOneSnapshotMs: median(afterOne), afterRenameMs, flavor: z.dialect.flavor,
    };
  } finally {
    process.off('exit', cleanup);
    cleanup();
  }
}

export function zfsTargetLines(r: ZfsSnapshotBench): string {
  const f = (ms: number) => `${Math.round(ms).toLocaleString('en-US')} ms`;
  return [
    `  ZFS: ${r.flavor}, ${r.snapshots.toLocaleString('en-US')} snapshots in 101 datasets`,
    `  plain zfs list -t snapshot -o name        ${f(r.plainZfsListMs)}`,
    `  driver, first listing (reads all)         ${f(r.coldMs)}`,
    `  driver, nothing changed (median of 7)     ${f(r.warmMs)}   target < 500 ms: ${r.warmMs < 500 ? 'met' : 'NOT MET'}  (${(r.plainZfsListMs / r.warmMs).toFixed(0)}x faster than zfs list)`,
    `  driver, after one new snapshot (median 5) ${f(r.afterOneSnapshotMs)}   target < 500 ms: ${r.afterOneSnapshotMs < 500 ? 'met' : 'NOT MET'}`,
    `  driver, after a rename (full re-read)     ${f(r.afterRenameMs)}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const why = zfsBenchUnavailable();
  if (why !== null) {
    console.log(`ZFS snapshot listing: skipped (${why})`);
  } else {
    benchZfsSnapshots().then((r) => console.log(zfsTargetLines(r))).catch((e: unknown) => {
      console.error(`zfs bench failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    });
  }
}
