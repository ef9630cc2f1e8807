// CPU time a process has used, from /proc/<pid>/stat (Linux). Dividing a server's CPU time by the
// calls it answered gives its cost per call, a figure the client's own speed does not cap.
import { readFile } from 'node:fs/promises';

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
