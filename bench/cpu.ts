// CPU time a process has used, from /proc/<pid>/stat (Linux). Dividing a server's CPU time by the
// calls it answered gives its cost per call, a figure the client's own speed does not cap.
import { readdir, readFile } from 'node:fs/promises';

/** /proc reports in USER_HZ, which Linux fixes at 100 for user space. */
const TICK_MS = 10;

/** User + system CPU milliseconds of `pid`, or null where /proc is missing. */
export async function processCpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/** The pids of `pid`'s live child processes (every thread's children). */
export async function childPids(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const out: number[] = [];
  for (const t of tasks) {
    const text = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '');
    for (const c of text.split(' ')) if (/^\d+$/.test(c)) out.push(Number(c));
  }
  return out;
}

/**
 * CPU ms of `pid` and of the children it has now (the daemon's zfs-fuse kstat shell), so a
 * process's figure includes the work it hands to a helper. Children that exited are not counted.
 */
export async function processWithChildrenCpuMs(pid: number): Promise<number | null> {
  const own = await processCpuMs(pid);
  if (own === null) return null;
  let total = own;
  for (const c of await childPids(pid)) total += (await processCpuMs(c)) ?? 0;
  return total;
}
