// interface.query entries and their `state` (MODULES.md §4, truenas_pynetif interface_state.py).
// Schemas first, types derived, so the method module that registers interface.query later can
// use the same objects as its result schema.
import { Type, type Static } from '@sinclair/typebox';

export const LinkState = Type.Union([
  Type.Literal('LINK_STATE_UP'), Type.Literal('LINK_STATE_DOWN'), Type.Literal('LINK_STATE_UNKNOWN'),
  Type.Literal('LINK_STATE_NOTPRESENT'), Type.Literal('LINK_STATE_LOWERLAYERDOWN'), Type.Literal('LINK_STATE_TESTING'),
  Type.Literal('LINK_STATE_DORMANT'),
]);
export type LinkStateT = Static<typeof LinkState>;

export const InterfaceType = Type.Union([
  Type.Literal('PHYSICAL'), Type.Literal('BRIDGE'), Type.Literal('LINK_AGGREGATION'), Type.Literal('VLAN'), Type.Literal('UNKNOWN'),
]);
export type InterfaceTypeT = Static<typeof InterfaceType>;

export const AliasFamily = Type.Union([Type.Literal('INET'), Type.Literal('INET6')]);

/** A live address: netmask is the prefix length. */
export const StateAlias = Type.Object({
  type: AliasFamily,
  address: Type.String(),
  netmask: Type.Integer({ minimum: 0, maximum: 128 }),
  broadcast: Type.Optional(Type.String()),
});
export type StateAliasT = Static<typeof StateAlias>;

export const BondPort = Type.Object({ name: Type.String(), flags: Type.Array(Type.String()) });

export const InterfaceState = Type.Object({
  name: Type.String(),
  orig_name: Type.String(),
  description: Type.String(),
  mtu: Type.Integer(),
  cloned: Type.Boolean(),
  flags: Type.Array(Type.String()),
  nd6_flags: Type.Array(Type.String()),
  capabilities: Type.Array(Type.String()),
  link_state: LinkState,
  media_type: Type.String(),
  media_subtype: Type.String(),
  active_media_type: Type.String(),
  active_media_subtype: Type.String(),
  supported_media: Type.Array(Type.String()),
  media_options: Type.Union([Type.Array(Type.String()), Type.Null()]),
  link_address: Type.String(),
  permanent_link_address: Type.Union([Type.String(), Type.Null()]),
  hardware_link_address: Type.String(),
  rx_queues: Type.Integer(),
  tx_queues: Type.Integer(),
  aliases: Type.Array(StateAlias),
  vrrp_config: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
  // Physical interfaces only; null when it cannot be read (no ethtool netlink here).
  fec_mode: Type.Optional(Type.Null()),
  // Bonds only.
  protocol: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  ports: Type.Optional(Type.Array(BondPort)),
  xmit_hash_policy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  lacpdu_rate: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  // VLANs only.
  parent: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tag: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  pcp: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
});
export type InterfaceStateT = Static<typeof InterfaceState>;

/** A configured alias (the top-level `aliases`): no broadcast. */
export const EntryAlias = Type.Object({ type: AliasFamily, address: Type.String(), netmask: Type.Integer({ minimum: 0, maximum: 128 }) });

export const InterfaceEntry = Type.Object({
  id: Type.String(),
  name: Type.String(),
  fake: Type.Boolean(),
  type: InterfaceType,
  state: InterfaceState,
  aliases: Type.Array(EntryAlias),
  ipv4_dhcp: Type.Boolean(),
  ipv6_auto: Type.Boolean(),
  description: Type.String(),
  mtu: Type.Union([Type.Integer(), Type.Null()]),
});
export type InterfaceEntryT = Static<typeof InterfaceEntry>;
