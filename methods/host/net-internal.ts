// Interfaces TrueNAS keeps out of interface.query (and so out of reporting.realtime): loopback,
// container and VM plumbing, tunnels (truenas_pynetif utils.INTERNAL_INTERFACES, by prefix).
const INTERNAL_PREFIXES = ['wg', 'lo', 'tun', 'tap', 'docker', 'veth', 'vnet', 'ix', 'tailscale', 'mac', 'truenasbr'];

export function isInternalInterface(name: string): boolean {
  return INTERNAL_PREFIXES.some((p) => name.startsWith(p));
}
