// fleet.status (fleet mode only): how this host's link to its fleet is doing.
import { Type } from '@sinclair/typebox';

export const FleetStatus = Type.Object({
  host: Type.String({ description: 'This host id in the fleet' }),
  servers: Type.Array(Type.String(), { description: 'The NATS URLs it connects to' }),
  connected: Type.Boolean(),
  instance: Type.String({ description: 'The random id of this store, part of every history message id' }),
  heartbeats: Type.Integer({ minimum: 0, description: 'Presence heartbeats written since start' }),
  rpc_in_flight: Type.Integer({ minimum: 0 }),
  max_roles: Type.Array(Type.String(), { description: 'MIDSHIP_FLEET_MAX_ROLES: the most a fleet call may do here' }),
  outbox: Type.Object({
    pending: Type.Integer({ minimum: 0, description: 'History entries waiting for NATS' }),
    bytes: Type.Integer({ minimum: 0 }),
    dropped: Type.Integer({ minimum: 0, description: 'Entries refused because the outbox was full' }),
    published: Type.Integer({ minimum: 0, description: 'Acknowledged by JetStream since start' }),
    rejected: Type.Integer({ minimum: 0, description: 'Refused by the stream for good (too large)' }),
  }),
});
