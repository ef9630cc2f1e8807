// Whether the machine is quiet: the CPU time spent busy, from /proc/stat (Linux), before the
// bench and during each run (where what the server and client used is subtracted). The load
// average is no use here: it still carries the previous run for minutes.
import { readFile } from 'node:fs/promises';

async function cpuTimes(): Promise<{ busy: number; total: number } | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    // cpu user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** CPU milliseconds all cores have spent busy since boot; null where /proc/stat is missing. */
export async function systemBusyMs(): Promise<number | null> {
  const t = await cpuTimes();
  // /proc/stat counts in USER_HZ (100 per second on Linux).
  return t === null ? null : t.busy * 10;
}

/** Fraction (0-1) of all cores' time spent busy during `ms`; null where /proc/stat is missing. */
export async function busyFraction(ms: number): Promise<number | null> {
  const a = await cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = await cpuTimes();
  if (a === null || b === null || b.total === a.total) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Waits (at most `maxMs`) until the machine has been quiet for one short sample; returns the last
 * busy fraction, or null where it cannot be measured. Other work on a shared machine otherwise
 * lands in the middle of a measured window.
 */
export async function waitForQuiet(threshold: number, maxMs: number): Promise<number | null> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const busy = await busyFraction(500);
    if (busy === null || busy <= threshold || Date.now() >= deadline) return busy;
  }
}
