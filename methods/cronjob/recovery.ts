// After a crash (kill -9) the engine finds the cronjob.run jobs that were RUNNING and marks them
// FAILED as interrupted; their commands may still be running, reparented to init. Each run
// recorded its leader's pid (= process group id), start time and boot id with the job, so the
// group is killed only while that very process still leads it: a pid the kernel has since given
// to another process has another start time and is left alone.
import { bootId, groupAlive, readStat, signalGroup } from './procfs.js';
import { POLL_MS } from './runner.js';

export interface RunInternal {
  pgid: number;
  pid: number;
  starttime: number;
  boot_id: string | null;
}

export function parseRunInternal(x: unknown): RunInternal | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (!int(o.pgid) || !int(o.pid) || typeof o.starttime !== 'number') return null;
  return { pgid: o.pgid, pid: o.pid, starttime: o.starttime, boot_id: typeof o.boot_id === 'string' ? o.boot_id : null };
}

export type LeftoverResult = 'killed' | 'gone' | 'recycled';


async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (!(await groupAlive(pgid))) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** SIGTERM the run's group if its leader is still the process started; SIGKILL after `graceMs`. */
export async function killLeftover(run: RunInternal, graceMs: number): Promise<LeftoverResult> {
  const stat = await readStat(run.pid);
  if (stat === null || stat.state === 'Z') return 'gone';
  const boot = await bootId();
  if (run.boot_id !== null && boot !== null && run.boot_id !== boot) return 'gone'; // rebooted since
  if (stat.starttime !== run.starttime) return 'recycled';
  signalGroup(run.pgid, 'SIGTERM');
  if (await waitGroupGone(run.pgid, graceMs)) return 'killed';
  signalGroup(run.pgid, 'SIGKILL');
  await waitGroupGone(run.pgid, 2000);
  return 'killed';
}
