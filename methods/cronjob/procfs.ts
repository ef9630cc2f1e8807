// What /proc says about a process: its process group, session, state and start time. The start
// time (field 22 of /proc/<pid>/stat, clock ticks since boot) never changes for a process and
// differs between two processes that got the same pid, so pid + start time names one process.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, X, ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks after boot at which the process started. */
  starttime: number;
}

/** The pid and field `n` (from 3 on) of a /proc/<pid>/stat text; null when it does not look like one. */
function statFields(text: string): { pid: number; field: (n: number) => number; state: string | undefined } | null {
  // comm (field 2) is in parentheses and may itself contain spaces and parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' '); // rest[0] is field 3
  return { pid: Number(text.slice(0, open).trim()), field: (n) => Number(rest[n - 3]), state: rest[0] };
}

/** Parse the text of /proc/<pid>/stat; null when it does not look like one. */
export function parseStat(text: string): ProcStat | null {
  const f = statFields(text);
  if (f === null) return null;
  const { pid, field, state } = f;
  const stat = { pid, state: state ?? '', ppid: field(4), pgrp: field(5), session: field(6), starttime: field(22) };
  if (!state || [stat.pid, stat.ppid, stat.pgrp, stat.session, stat.starttime].some((n) => !Number.isSafeInteger(n))) return null;
  return stat;
}

export async function readStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Synchronous variant for the moment right after spawn(): the child cannot have been reaped
 * before the event loop runs again, so its entry is certainly still there.
 */
export function readStatSync(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** The kernel's id of this boot: start times only compare within one boot. */
export async function bootId(): Promise<string | null> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim() || null;
  } catch {
    return null;
  }
}

/** Live (non-zombie) members of process group `pgid`; null when /proc cannot be read. */
async function groupMembers(pgid: number): Promise<number[] | null> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return null;
  }
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number);
  const stats = await Promise.all(pids.map(readStat));
  return stats.filter((s): s is ProcStat => s !== null && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X').map((s) => s.pid);
}

/** Whether any process of group `pgid` is still alive (zombies waiting for their reaper count as gone). */
export async function groupAlive(pgid: number): Promise<boolean> {
  const members = await groupMembers(pgid);
  if (members !== null) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether pid `pid` names a live (non-zombie) process. */
export async function processAlive(pid: number): Promise<boolean> {
  const s = await readStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/** Send `signal` to every process of group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** A process's group and CPU time (job metrics, usage.ts). */
export interface ProcUsage {
  pid: number;
  pgrp: number;
  state: string;
  /** utime + stime + cutime + cstime (fields 14-17): its own CPU time and its reaped children's, in clock ticks. */
  cpuTicks: number;
}

export function parseUsage(text: string): ProcUsage | null {
  const f = statFields(text);
  if (f === null || !f.state) return null;
  const cpuTicks = f.field(14) + f.field(15) + f.field(16) + f.field(17);
  const u = { pid: f.pid, pgrp: f.field(5), state: f.state, cpuTicks };
  return [u.pid, u.pgrp, u.cpuTicks].every((n) => Number.isSafeInteger(n) && n >= 0) ? u : null;
}

/** Group and CPU time of every process; null when /proc cannot be read. */
export async function allUsage(): Promise<ProcUsage[] | null> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return null;
  }
  const texts = await Promise.all(names.filter((n) => /^\d+$/.test(n)).map((n) => readFile(`/proc/${n}/stat`, 'utf8').catch(() => null)));
  return texts.map((t) => (t === null ? null : parseUsage(t))).filter((u): u is ProcUsage => u !== null);
}

/** Resident memory of process `pid` in bytes (VmRSS of /proc/<pid>/status); null when it is gone. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0; // kernel threads and zombies have no VmRSS line
  } catch {
    return null;
  }
}
