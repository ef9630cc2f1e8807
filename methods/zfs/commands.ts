// The three programs the driver runs and the one place their paths, timeouts and the
// zfs-fuse "busy while unmounting" retry live.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { detectDialect, type Dialect } from './dialect.js';
import { ZfsCommandError } from './errors.js';
import { run, runRaw, type RunOptions, type RunResult } from './exec.js';

export interface ZfsPrograms {
  zpool: string;
  zfs: string;
  zdb: string;
}

export const DEFAULT_PROGRAMS: ZfsPrograms = { zpool: 'zpool', zfs: 'zfs', zdb: 'zdb' };

/** Finds a program on PATH (and in the sbin directories a non-root PATH may lack). */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export type CallOptions = Pick<RunOptions, 'signal' | 'timeoutMs' | 'input'>;

/** How long and how often to retry a zfs-fuse "busy" right after it unmounted something. */
const BUSY_RETRY_DELAYS_MS = [100, 200, 400, 800, 1500];

export class ZfsCommands {
  constructor(
    readonly programs: ZfsPrograms,
    readonly dialect: Dialect,
    readonly timeoutMs: number,
  ) {}

  private opts(o: CallOptions | undefined): RunOptions {
    return { timeoutMs: this.timeoutMs, ...o };
  }

  zpool(args: readonly string[], o?: CallOptions): Promise<RunResult> {
    return run(this.programs.zpool, args, this.opts(o));
  }

  zfs(args: readonly string[], o?: CallOptions): Promise<RunResult> {
    return run(this.programs.zfs, args, this.opts(o));
  }

  zdb(args: readonly string[], o?: CallOptions): Promise<RunResult> {
    return run(this.programs.zdb, args, this.opts(o));
  }

  /**
   * Runs a destroy/export-like step. zfs-fuse unmounts asynchronously through FUSE, so the
   * same command that just unmounted a dataset can report it busy; trying again shortly after
   * succeeds. Other ZFS ports run the step once.
   */
  async retryBusy<T>(step: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!this.dialect.busyAfterUnmount) return step();
    for (let i = 0; ; i++) {
      try {
        return await step();
      } catch (e) {
        if (!(e instanceof ZfsCommandError) || e.errno !== 'EBUSY' || i >= BUSY_RETRY_DELAYS_MS.length || signal?.aborted) throw e;
        await new Promise((r) => setTimeout(r, BUSY_RETRY_DELAYS_MS[i]));
      }
    }
  }
}

/** Asks the installed programs what they support (six quick probes, run side by side). */
export async function probeDialect(programs: ZfsPrograms, signal?: AbortSignal): Promise<Dialect> {
  const text = async (cmd: string, args: string[]) => {
    const r = await runRaw(cmd, args, { signal, timeoutMs: 20_000 });
    return { text: `${r.stdout}\n${r.stderr}`, ok: r.exitCode === 0 };
  };
  const [zpoolUsage, zfsUsage, zfsGetHelp, zpoolGetHelp, zpoolUpgradeV, zfsVersion, zfsHolds] = await Promise.all([
    text(programs.zpool, []),
    text(programs.zfs, []),
    text(programs.zfs, ['get']),
    text(programs.zpool, ['get']),
    text(programs.zpool, ['upgrade', '-v']),
    text(programs.zfs, ['version']),
    text(programs.zfs, ['holds']),
  ]);
  const zpoolPath = programs.zpool.includes('/') ? programs.zpool : findProgram(programs.zpool);
  const zfsFuseBinary = findProgram('zfs-fuse') !== null || (zpoolPath !== null && existsSync(join(dirname(zpoolPath), 'zfs-fuse')));
  return detectDialect({
    zpoolUsage: zpoolUsage.text,
    zfsUsage: zfsUsage.text,
    zfsGetHelp: zfsGetHelp.text,
    zpoolGetHelp: zpoolGetHelp.text,
    zpoolUpgradeV: zpoolUpgradeV.text,
    zfsVersion: zfsVersion.ok ? zfsVersion.text : null,
    zfsHolds: zfsHolds.text,
    zfsFuseBinary,
  });
}
