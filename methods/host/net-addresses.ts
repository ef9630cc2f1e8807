// The addresses on each interface, as interface.query's state.aliases lists them. IPv6 comes from
// /proc/net/if_inet6 (every interface, up or down). IPv4 has no procfs file: it comes from
// os.networkInterfaces() (getifaddrs, in-process), which lists only interfaces that are UP and
// RUNNING; for the others, `ip -j -4 addr` (iproute2) fills in, when it is installed.
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { toSource, type HostRoot } from './files.js';
import type { StateAliasT } from '../../schemas/host/interface.js';

/** What an IPv4 source needs to know of each interface. */
export interface Ipv4Link {
  name: string;
  /** UP and RUNNING: getifaddrs lists its addresses. */
  running: boolean;
  /** IFF_BROADCAST: its addresses have a broadcast address. */
  broadcast: boolean;
}

/** Interface name -> its IPv4 addresses. */
export type Ipv4Source = (links: Ipv4Link[]) => Promise<Map<string, StateAliasT[]>>;

/** RFC 5952 text of 16 bytes given as 32 hex digits (what inet_ntop prints). */
export function ipv6Text(hex: string): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number.parseInt(hex.slice(i * 4, i * 4 + 4), 16));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  // The longest run of two or more zero groups (the first of equals) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (best < 0) return hexes.join(':');
  return `${hexes.slice(0, best).join(':')}::${hexes.slice(best + bestLen).join(':')}`;
}

export function parseIfInet6(text: string): Map<string, StateAliasT[]> {
  const out = new Map<string, StateAliasT[]>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    const alias: StateAliasT = { type: 'INET6', address: ipv6Text(f[0]!.toLowerCase()), netmask: Number.parseInt(f[2]!, 16) };
    const list = out.get(f[5]!) ?? [];
    list.push(alias);
    out.set(f[5]!, list);
  }
  return out;
}

/** The broadcast address of an IPv4 network, as the kernel sets it by default. */
export function ipv4Broadcast(address: string, prefix: number): string | null {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || prefix >= 31) return null;
  const ip = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const host = prefix === 0 ? 0xffffffff : (0xffffffff >>> prefix);
  const b = (ip | host) >>> 0;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}`;
}

function fromNode(broadcasting: Set<string>): Map<string, StateAliasT[]> {
  const out = new Map<string, StateAliasT[]>();
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || !a.cidr) continue;
      const netmask = Number(a.cidr.split('/')[1]);
      const alias: StateAliasT = { type: 'INET', address: a.address, netmask };
      // getifaddrs gives no broadcast address: the kernel's default is assumed (a custom one is rare).
      const broadcast = broadcasting.has(name) ? ipv4Broadcast(a.address, netmask) : null;
      if (broadcast) alias.broadcast = broadcast;
      out.set(name, [...(out.get(name) ?? []), alias]);
    }
  }
  return out;
}

interface IpAddrJson { ifname?: string; addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; broadcast?: string }> }

/** Parses `ip -j -4 addr show` output. */
export function parseIpJson(text: string): Map<string, StateAliasT[]> {
  const out = new Map<string, StateAliasT[]>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return out;
  }
  if (!Array.isArray(parsed)) return out;
  for (const link of parsed as IpAddrJson[]) {
    if (typeof link?.ifname !== 'string' || !Array.isArray(link.addr_info)) continue;
    for (const a of link.addr_info) {
      if (a.family !== 'inet' || typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
      const alias: StateAliasT = { type: 'INET', address: a.local, netmask: a.prefixlen };
      if (typeof a.broadcast === 'string') alias.broadcast = a.broadcast;
      out.set(link.ifname, [...(out.get(link.ifname) ?? []), alias]);
    }
  }
  return out;
}

function runIp(): Promise<{ text: string | null; missing: boolean }> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', '-4', 'addr', 'show'], { timeout: 5000, maxBuffer: 4 << 20 }, (err, stdout) => {
      resolve({ text: err ? null : stdout, missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' });
    });
  });
}

/**
 * The host's IPv4 source: getifaddrs for running interfaces, iproute2 for the rest. When `ip`
 * is missing the down interfaces show no IPv4 address; a missing tool is remembered, not retried.
 */
export function hostIpv4Source(): Ipv4Source {
  let ipMissing = false;
  return async (links) => {
    const out = fromNode(new Set(links.filter((l) => l.broadcast).map((l) => l.name)));
    const notRunning = links.filter((l) => !l.running).map((l) => l.name);
    if (notRunning.length === 0 || ipMissing) return out;
    const { text, missing } = await runIp();
    ipMissing = missing;
    if (text === null) return out;
    const fromIp = parseIpJson(text);
    for (const name of notRunning) {
      const list = fromIp.get(name);
      if (list) out.set(name, list);
    }
    return out;
  };
}

/** IPv6 addresses of every interface, from /proc/net/if_inet6. */
export async function readIpv6(root: HostRoot = '/'): Promise<Map<string, StateAliasT[]>> {
  const text = await toSource(root).read('/proc/net/if_inet6');
  return text === null ? new Map() : parseIfInet6(text);
}
