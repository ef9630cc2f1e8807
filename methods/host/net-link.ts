// What /sys/class/net/<name> says about one interface: its kind, link state, flags, MTU, MAC,
// speed and queues, plus bond and VLAN details. One readdir and a handful of small reads.
import { toSource, type FileSource, type HostRoot } from './files.js';
import type { LinkStateT } from '../../schemas/host/interface.js';

export type LinkKind = 'loopback' | 'bridge' | 'bond' | 'vlan' | 'physical' | 'virtual';

export interface BondInfo {
  protocol: string | null;
  ports: string[];
  xmit_hash_policy: string | null;
  lacpdu_rate: string | null;
}

export interface LinkFacts {
  name: string;
  ifindex: number;
  kind: LinkKind;
  /** ARPHRD_* number from `type` (1 Ethernet, 772 loopback, ...). */
  arptype: number;
  operstate: string;
  link_state: LinkStateT;
  /** IFF_* names as netlink reports them (sysfs flags plus RUNNING, LOWER_UP, DORMANT). */
  flags: string[];
  /** Administratively up. */
  up: boolean;
  /** UP and RUNNING: what getifaddrs (and so os.networkInterfaces) requires to list addresses. */
  running: boolean;
  mtu: number;
  address: string;
  /** Mbit/s, null when the driver does not know (link down, virtual device). */
  speed: number | null;
  rx_queues: number;
  tx_queues: number;
  bond: BondInfo | null;
  vlan: { parent: string | null; tag: number | null } | null;
}

// include/uapi/linux/if.h, in bit order.
const IFF_NAMES = ['UP', 'BROADCAST', 'DEBUG', 'LOOPBACK', 'POINTOPOINT', 'NOTRAILERS', 'RUNNING', 'NOARP', 'PROMISC',
  'ALLMULTI', 'MASTER', 'SLAVE', 'MULTICAST', 'PORTSEL', 'AUTOMEDIA', 'DYNAMIC', 'LOWER_UP', 'DORMANT', 'ECHO'];
const IFF_UP = 1;
const IFF_LOOPBACK = 1 << 3;
const IFF_RUNNING = 1 << 6;
const IFF_LOWER_UP = 1 << 16;
const IFF_DORMANT = 1 << 17;
const ARPHRD_LOOPBACK = 772;

const LINK_STATES: Record<string, LinkStateT> = {
  up: 'LINK_STATE_UP', down: 'LINK_STATE_DOWN', unknown: 'LINK_STATE_UNKNOWN', notpresent: 'LINK_STATE_NOTPRESENT',
  lowerlayerdown: 'LINK_STATE_LOWERLAYERDOWN', testing: 'LINK_STATE_TESTING', dormant: 'LINK_STATE_DORMANT',
};

export function linkState(operstate: string): LinkStateT {
  return LINK_STATES[operstate] ?? 'LINK_STATE_UNKNOWN';
}

const int = (text: string | null): number | null => {
  if (text === null) return null;
  const t = text.trim();
  const n = t.startsWith('0x') ? Number.parseInt(t, 16) : Number.parseInt(t, 10);
  return Number.isFinite(n) ? n : null;
};

const firstWord = (text: string | null) => text?.trim().split(/\s+/)[0] || null;

// Kernel bond modes -> the protocol names of interface.query (truenas_pynetif).
const BOND_MODES: Record<string, string> = {
  'balance-rr': 'ROUNDROBIN', 'active-backup': 'FAILOVER', 'balance-xor': 'LOADBALANCE', broadcast: 'BROADCAST',
  '802.3ad': 'LACP', 'balance-tlb': 'LOADBALANCE', 'balance-alb': 'LOADBALANCE',
};

async function bondInfo(files: FileSource, dir: string): Promise<BondInfo> {
  const [mode, slaves, policy, lacp] = await Promise.all([
    files.read(`${dir}/bonding/mode`), files.read(`${dir}/bonding/slaves`),
    files.read(`${dir}/bonding/xmit_hash_policy`), files.read(`${dir}/bonding/lacp_rate`),
  ]);
  const m = firstWord(mode);
  const protocol = m === null ? null : BOND_MODES[m] ?? m.toUpperCase();
  return {
    protocol,
    ports: slaves?.trim().split(/\s+/).filter(Boolean) ?? [],
    xmit_hash_policy: firstWord(policy),
    lacpdu_rate: protocol === 'LACP' ? firstWord(lacp) : null,
  };
}

async function vlanInfo(files: FileSource, name: string): Promise<{ parent: string | null; tag: number | null }> {
  const text = (await files.read(`/proc/net/vlan/${name}`)) ?? '';
  const tag = /VID:\s*(\d+)/.exec(text);
  const parent = /Device:\s*(\S+)/.exec(text);
  return { parent: parent ? parent[1]! : null, tag: tag ? Number(tag[1]) : null };
}

/** The facts of one interface, or null when it does not exist (or vanished while being read). */
export async function readLinkFacts(root: HostRoot, name: string): Promise<LinkFacts | null> {
  const files = toSource(root);
  const dir = `/sys/class/net/${name}`;
  const entries = await files.list(dir);
  if (entries === null) return null;
  const [uevent, type, operstate, flagsText, mtu, address, speed, carrier, dormant, ifindex, queues] = await Promise.all([
    files.read(`${dir}/uevent`), files.read(`${dir}/type`), files.read(`${dir}/operstate`), files.read(`${dir}/flags`),
    files.read(`${dir}/mtu`), files.read(`${dir}/address`), files.read(`${dir}/speed`), files.read(`${dir}/carrier`),
    files.read(`${dir}/dormant`), files.read(`${dir}/ifindex`), files.list(`${dir}/queues`),
  ]);
  if (operstate === null && flagsText === null) return null;
  const has = new Set(entries);
  const devtype = /^DEVTYPE=(.*)$/m.exec(uevent ?? '')?.[1]?.trim();
  const arptype = int(type) ?? 0;
  const raw = int(flagsText) ?? 0;
  const state = operstate?.trim() ?? 'unknown';
  // dev_get_flags(): RUNNING when up and the operational state is up or unknown, LOWER_UP with
  // carrier, DORMANT when dormant. sysfs `flags` holds only the administrative bits.
  let flags = raw & ~(IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT);
  const up = (raw & IFF_UP) !== 0;
  if (up && (state === 'up' || state === 'unknown')) flags |= IFF_RUNNING;
  if (int(carrier) === 1) flags |= IFF_LOWER_UP;
  if (int(dormant) === 1) flags |= IFF_DORMANT;
  let kind: LinkKind;
  if (arptype === ARPHRD_LOOPBACK || (raw & IFF_LOOPBACK) !== 0) kind = 'loopback';
  else if (has.has('bridge') || devtype === 'bridge') kind = 'bridge';
  else if (has.has('bonding') || devtype === 'bond') kind = 'bond';
  else if (devtype === 'vlan' || (await files.read(`/proc/net/vlan/${name}`)) !== null) kind = 'vlan';
  else if (has.has('device')) kind = 'physical';
  else kind = 'virtual';
  const speedMbit = int(speed);
  const q = queues ?? [];
  return {
    name,
    ifindex: int(ifindex) ?? 0,
    kind,
    arptype,
    operstate: state,
    link_state: linkState(state),
    flags: IFF_NAMES.filter((_, bit) => (flags & (1 << bit)) !== 0),
    up,
    running: (flags & IFF_RUNNING) !== 0,
    mtu: int(mtu) ?? 0,
    address: address?.trim() ?? '',
    speed: speedMbit !== null && speedMbit > 0 ? speedMbit : null,
    rx_queues: q.filter((e) => e.startsWith('rx-')).length,
    tx_queues: q.filter((e) => e.startsWith('tx-')).length,
    bond: kind === 'bond' ? await bondInfo(files, dir) : null,
    vlan: kind === 'vlan' ? await vlanInfo(files, name) : null,
  };
}

/** Interface names present now (/sys/class/net), or [] when sysfs is missing. */
export async function listLinks(root: HostRoot = '/'): Promise<string[]> {
  return ((await toSource(root).list('/sys/class/net')) ?? []).filter((n) => !n.startsWith('.') && n !== 'bonding_masters');
}
