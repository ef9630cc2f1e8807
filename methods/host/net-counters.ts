// Interface byte counters from /proc/net/dev (one read for every interface) and the per-second
// rates between two readings.
import { toSource, type HostRoot } from './files.js';

export interface NetCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

export function parseNetDev(text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    // The two header lines have '|' where a data line has 'name:'.
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out.set(name, { rxBytes: f[0]!, rxPackets: f[1]!, txBytes: f[8]!, txPackets: f[9]! });
  }
  return out;
}

export async function readNetCounters(root: HostRoot = '/'): Promise<Map<string, NetCounters> | null> {
  const text = await toSource(root).read('/proc/net/dev');
  return text === null ? null : parseNetDev(text);
}

export interface NetRate {
  /** Bytes per second. */
  received: number;
  sent: number;
}

/** Per-interface byte rates; an interface missing from either reading is left out. */
export function netRates(prev: Map<string, NetCounters>, cur: Map<string, NetCounters>, seconds: number): Map<string, NetRate> {
  const out = new Map<string, NetRate>();
  if (seconds <= 0) return out;
  for (const [name, b] of cur) {
    const a = prev.get(name);
    if (!a) continue;
    // A counter that went back (interface recreated under the same name) counts as no traffic.
    out.set(name, {
      received: Math.round(Math.max(0, b.rxBytes - a.rxBytes) / seconds),
      sent: Math.round(Math.max(0, b.txBytes - a.txBytes) / seconds),
    });
  }
  return out;
}
