// /proc/meminfo in bytes (the file counts in KiB).
import { toSource, type HostRoot } from './files.js';

export interface MemoryInfo {
  total: number;
  available: number;
  free: number;
  cached: number;
  buffers: number;
  swap_total: number;
  swap_free: number;
}

export function parseMeminfo(text: string): MemoryInfo | null {
  const kib = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)/.exec(line);
    if (m) kib.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = kib.get('MemTotal');
  if (total === undefined) return null;
  const free = kib.get('MemFree') ?? 0;
  const cached = kib.get('Cached') ?? 0;
  const buffers = kib.get('Buffers') ?? 0;
  return {
    total,
    // Kernels before 3.14 have no MemAvailable; free + buffers + cache is what tools used then.
    available: kib.get('MemAvailable') ?? Math.min(total, free + buffers + cached),
    free,
    cached,
    buffers,
    swap_total: kib.get('SwapTotal') ?? 0,
    swap_free: kib.get('SwapFree') ?? 0,
  };
}

export async function readMemory(root: HostRoot = '/'): Promise<MemoryInfo | null> {
  const text = await toSource(root).read('/proc/meminfo');
  return text === null ? null : parseMeminfo(text);
}
