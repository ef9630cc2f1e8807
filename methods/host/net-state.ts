// Every interface's live state in interface.query's `state` shape, and the entry built from it.
import { hostIpv4Source, readIpv6, type Ipv4Source } from './net-addresses.js';
import { isInternalInterface } from './net-internal.js';
import { listLinks, readLinkFacts, type LinkFacts, type LinkKind } from './net-link.js';
import { toSource, type HostRoot } from './files.js';
import type { InterfaceEntryT, InterfaceStateT, InterfaceTypeT, StateAliasT } from '../../schemas/host/interface.js';

export interface InterfaceSnapshot {
  name: string;
  ifindex: number;
  kind: LinkKind;
  type: InterfaceTypeT;
  /** Kept out of interface.query by TrueNAS (loopback, veth, tun, docker, ...). */
  internal: boolean;
  /** Bytes per second are not here: the sampler measures those. */
  speed: number | null;
  state: InterfaceStateT;
}

export interface InterfaceReadOptions {
  /**
   * Where IPv4 addresses come from. Default: the host's (getifaddrs + iproute2) when root is
   * '/', none otherwise; a test over a fake tree passes its own.
   */
  ipv4?: Ipv4Source;
}

const TYPES: Record<LinkKind, InterfaceTypeT> = {
  physical: 'PHYSICAL', bridge: 'BRIDGE', bond: 'LINK_AGGREGATION', vlan: 'VLAN', loopback: 'UNKNOWN', virtual: 'UNKNOWN',
};

function stateOf(link: LinkFacts, aliases: StateAliasT[]): InterfaceStateT {
  const state: InterfaceStateT = {
    name: link.name,
    orig_name: link.name,
    description: link.name,
    mtu: link.mtu,
    cloned: link.kind !== 'physical',
    flags: link.flags,
    nd6_flags: [],
    capabilities: [],
    link_state: link.link_state,
    // Media and FEC need ethtool's netlink family, which Node cannot reach: reported empty, as
    // TrueNAS reports them for drivers without ethtool support.
    media_type: '',
    media_subtype: '',
    active_media_type: '',
    active_media_subtype: '',
    supported_media: [],
    media_options: null,
    link_address: link.address,
    permanent_link_address: null,
    hardware_link_address: link.address,
    rx_queues: link.rx_queues,
    tx_queues: link.tx_queues,
    aliases,
    vrrp_config: null,
  };
  if (link.kind === 'physical') state.fec_mode = null;
  if (link.bond) {
    state.protocol = link.bond.protocol;
    state.ports = link.bond.ports.map((name) => ({ name, flags: [] }));
    state.xmit_hash_policy = link.bond.xmit_hash_policy;
    state.lacpdu_rate = link.bond.lacpdu_rate;
  }
  if (link.vlan) {
    state.parent = link.vlan.parent;
    state.tag = link.vlan.tag;
    state.pcp = null;
  }
  return state;
}

/** Every interface present now, in ifindex order. */
export async function readInterfaces(root: HostRoot = '/', options: InterfaceReadOptions = {}): Promise<InterfaceSnapshot[]> {
  const files = toSource(root);
  const names = await listLinks(files);
  const links = (await Promise.all(names.map((n) => readLinkFacts(files, n)))).filter((l): l is LinkFacts => l !== null);
  const ipv4Source = options.ipv4 ?? (files.root === '/' ? hostIpv4Source() : async () => new Map<string, StateAliasT[]>());
  const [ipv4, ipv6] = await Promise.all([ipv4Source(links.map((l) => ({ name: l.name, running: l.running, broadcast: l.flags.includes('BROADCAST') }))), readIpv6(files)]);
  return links
    .sort((a, b) => a.ifindex - b.ifindex || a.name.localeCompare(b.name))
    .map((link) => ({
      name: link.name,
      ifindex: link.ifindex,
      kind: link.kind,
      type: TYPES[link.kind],
      internal: isInternalInterface(link.name),
      speed: link.speed,
      state: stateOf(link, [...(ipv4.get(link.name) ?? []), ...(ipv6.get(link.name) ?? [])]),
    }));
}

/**
 * An interface.query entry. Midship keeps no interface configuration, so the configured fields
 * are what TrueNAS answers for an interface without a database row when the table is empty:
 * no configured aliases, DHCP and IPv6 autoconfiguration on, no description, MTU not set.
 */
export function toInterfaceEntry(snapshot: InterfaceSnapshot): InterfaceEntryT {
  return {
    id: snapshot.name,
    name: snapshot.name,
    fake: false,
    type: snapshot.type,
    state: snapshot.state,
    aliases: [],
    ipv4_dhcp: true,
    ipv6_auto: true,
    description: '',
    mtu: null,
  };
}
