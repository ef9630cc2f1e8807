// Real ZFS for tests: sparse files, loop devices and pools whose names carry a per-run prefix
// ("mst<pid>x<random>"), all removed again even when a test fails or the process dies. Left-overs
// of a run whose process is gone (killed by the runner's timeout) are swept at the next start;
// those of a run still alive (another test file running side by side) are never touched.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as uvuTest } from 'uvu';
import { findProgram } from '../../methods/zfs/commands.js';

export const ZFS_HINT = 'run the tests as root with zfs-fuse installed and running (apt-get install -y zfs-fuse; zfs-fuse), or set MIDSHIP_REQUIRE_ZFS=1 to make this a failure';

/** Why real ZFS cannot be used here, or null when it can. */
export function zfsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (findProgram('zpool') === null || findProgram('zfs') === null) return 'zpool/zfs not found';
  const r = spawnSync(findProgram('zpool')!, ['list', '-H', '-o', 'name'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0 && !/no pools available/.test(`${r.stdout}${r.stderr}`)) return `zpool list failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  return null;
}

type TestFn = (name: string, fn: () => Promise<void> | void) => void;

/**
 * `test` when real ZFS can be used; otherwise a skip with one line saying why, or, with
 * MIDSHIP_REQUIRE_ZFS=1 (CI), a test that fails saying what is missing.
 */
export function zfsTest(test: typeof uvuTest = uvuTest): TestFn {
  const why = zfsUnavailable();
  if (why === null) return test;
  if (process.env.MIDSHIP_REQUIRE_ZFS === '1') {
    return (name) => test(name, () => {
      throw new Error(`ZFS is required (MIDSHIP_REQUIRE_ZFS=1) but ${why}: ${ZFS_HINT}`);
    });
  }
  console.log(`SKIPPING ZFS tests: ${why}; ${ZFS_HINT}`);
  return (name, fn) => test.skip(name, fn);
}

const PREFIX_RE = /^mst(\d+)x[0-9a-f]{4}/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, LC_ALL: 'C' } });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Destroys a pool for good: zfs-fuse may call it busy while its unmount settles, so a few tries. */
function destroyPoolSync(name: string): void {
  for (let i = 0; i < 8; i++) {
    if (sh('zpool', ['destroy', '-f', name]).ok) return;
    if (!sh('zpool', ['list', '-H', '-o', 'name', name]).ok) return; // already gone
    spawnSync('sleep', [String(0.2 * (i + 1))]);
  }
}

/** Loop devices (`losetup -a`) whose backing file path contains `marker`. */
function loopsWith(marker: (file: string) => boolean): string[] {
  const r = sh('losetup', ['-a']);
  const out: string[] = [];
  for (const line of r.out.split('\n')) {
    const m = /^(\/dev\/loop\d+): .*\((.*)\)\s*$/.exec(line);
    if (m && marker(m[2]!)) out.push(m[1]!);
  }
  return out;
}

/** Removes pools and loop devices of earlier runs whose process no longer exists. */
export function sweepStaleRuns(): void {
  const pools = sh('zpool', ['list', '-H', '-o', 'name']).out.split('\n').filter((n) => {
    const m = PREFIX_RE.exec(n);
    return m !== null && !alive(Number(m[1]));
  });
  for (const p of pools) destroyPoolSync(p);
  // Exported pools of dead runs are not listed; their files go with their directories below.
  for (const dev of loopsWith((f) => {
    const m = /\/(mst(\d+)x[0-9a-f]{4})[^/]*\//.exec(f);
    return m !== null && !alive(Number(m[2]));
  })) sh('losetup', ['-d', dev]);
  for (const name of readdirSync(tmpdir())) {
    const m = PREFIX_RE.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

export class ZfsLab {
  /** Every pool name of this run starts with this. */
  readonly prefix: string;
  readonly dir: string;
  private readonly loops: string[] = [];
  private readonly onExit = () => this.cleanupSync();
  private cleaned = false;

  constructor() {
    sweepStaleRuns();
    this.prefix = `mst${process.pid}x${randomBytes(2).toString('hex')}`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
    process.on('exit', this.onExit);
  }

  /** A pool name with this run's prefix. */
  pool(suffix: string): string {
    return `${this.prefix}${suffix}`;
  }

  /** A sparse file of `bytes` in the run's directory. */
  async sparseFile(name: string, bytes: number): Promise<string> {
    const path = join(this.dir, name);
    const fh = await open(path, 'w');
    await fh.close();
    await truncate(path, bytes);
    return path;
  }

  /** A loop device over a (new, sparse) file; detached again at cleanup. */
  async loopDevice(name: string, bytes: number): Promise<{ device: string; file: string }> {
    const file = await this.sparseFile(name, bytes);
    const r = sh('losetup', ['-f', '--show', file]);
    if (!r.ok) throw new Error(`losetup -f --show ${file}: ${r.out.trim()}`);
    const device = r.out.trim();
    this.loops.push(device);
    return { device, file };
  }

  /** Pools of this run that exist now. */
  livePools(): string[] {
    return sh('zpool', ['list', '-H', '-o', 'name']).out.split('\n').filter((n) => n.startsWith(this.prefix));
  }

  /** Destroys every pool of this run, detaches its loop devices and removes its files. */
  cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    process.off('exit', this.onExit);
    for (const p of this.livePools()) destroyPoolSync(p);
    // Exported pools are not listed: import (by directory) and destroy them, so no label survives.
    const listing = sh('zpool', ['import', '-d', this.dir]).out;
    for (const m of listing.matchAll(/^\s*pool: (\S+)\s*\n\s*id: (\d+)/gm)) {
      if (m[1]!.startsWith(this.prefix) && sh('zpool', ['import', '-f', '-d', this.dir, m[2]!]).ok) destroyPoolSync(m[1]!);
    }
    for (const dev of [...this.loops, ...loopsWith((f) => f.startsWith(`${this.dir}/`))]) sh('losetup', ['-d', dev]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
