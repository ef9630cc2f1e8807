// CPU usage from two readings of /proc/stat, the way TrueNAS computes it (after htop): the share
// of ticks spent neither idle nor waiting for I/O, for the aggregate "cpu" line and each "cpuN".
import { toSource, type HostRoot } from './files.js';

export const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice'] as const;
export type CpuField = (typeof CPU_FIELDS)[number];

/** Ticks per field, in CPU_FIELDS order (missing trailing fields of old kernels are 0). */
export type CpuTicks = Float64Array;

/** "cpu" (all CPUs) and "cpu0", "cpu1", ... -> ticks since boot. */
export type CpuTimes = Map<string, CpuTicks>;

export type CpuUsage = { usage: number } & Record<CpuField, number>;

export function parseProcStat(text: string): CpuTimes {
  const out: CpuTimes = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) {
      // The cpu lines come first; nothing after them is ours.
      if (out.size > 0) break;
      continue;
    }
    const parts = line.split(/\s+/);
    const ticks = new Float64Array(CPU_FIELDS.length);
    for (let i = 0; i < CPU_FIELDS.length; i++) {
      const n = Number(parts[i + 1]);
      ticks[i] = Number.isFinite(n) ? n : 0;
    }
    out.set(parts[0]!, ticks);
  }
  return out;
}

export async function readCpuTimes(root: HostRoot = '/'): Promise<CpuTimes | null> {
  const text = await toSource(root).read('/proc/stat');
  return text === null ? null : parseProcStat(text);
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function usageOf(prev: CpuTicks | undefined, cur: CpuTicks): CpuUsage {
  const delta = new Float64Array(CPU_FIELDS.length);
  // Counters can step back (iowait does on tickless kernels, and a CPU brought back online
  // restarts): a negative step counts as nothing rather than as negative time.
  for (let i = 0; i < delta.length; i++) delta[i] = prev ? Math.max(0, cur[i]! - prev[i]!) : 0;
  // guest and guest_nice are already counted in user and nice.
  let total = 0;
  for (let i = 0; i < 8; i++) total += delta[i]!;
  const usage = { usage: 0 } as CpuUsage;
  CPU_FIELDS.forEach((f, i) => (usage[f] = total > 0 ? round2((delta[i]! / total) * 100) : 0));
  if (total > 0) usage.usage = round2(((total - delta[3]! - delta[4]!) / total) * 100);
  return usage;
}

/**
 * Usage between two readings, keyed like /proc/stat ("cpu", "cpu0", ...), with "cpu" first and
 * the rest in numeric order. A CPU missing from `prev` (just came online) reads 0.
 */
export function cpuUsage(prev: CpuTimes, cur: CpuTimes): Map<string, CpuUsage> {
  const names = [...cur.keys()].sort((a, b) => (a === 'cpu' ? -1 : b === 'cpu' ? 1 : Number(a.slice(3)) - Number(b.slice(3))));
  const out = new Map<string, CpuUsage>();
  for (const name of names) out.set(name, usageOf(prev.get(name), cur.get(name)!));
  return out;
}
