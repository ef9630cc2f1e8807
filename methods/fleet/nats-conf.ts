// The nats-server configuration of a fleet: JetStream on with its store in a given folder, one
// account MIDSHIP with JetStream, nkey users (one per host, one signer) with the permissions of
// permissions.ts. Only options nats-server 2.9 accepts are written (it refuses, for instance,
// jetstream.sync_interval). Every string is written quoted: unquoted `$JS...` would be read as a
// variable reference.
import { checkHostId } from './subjects.js';
import { hostPermissions, signerPermissions, type Permissions } from './permissions.js';

export const FLEET_ACCOUNT = 'MIDSHIP';
export const DEFAULT_NATS_PORT = 4222;

export interface NatsConfInput {
  /** Listening address; 127.0.0.1 unless the fleet spans machines. */
  host?: string;
  port: number;
  storeDir: string;
  /** Per host: its id and the public nkey (U…) it connects with. */
  hosts: ReadonlyArray<{ id: string; nkey: string }>;
  /** Public nkeys of the signer users. */
  signers: readonly string[];
  serverName?: string;
  /** For a cluster: this node's route listener and the other nodes' route URLs. */
  cluster?: { name: string; host?: string; port: number; routes: string[] };
}

const q = (s: string): string => JSON.stringify(s);

function checkNkey(nkey: string, field: string): string {
  if (!/^U[A-Z2-7]{55}$/.test(nkey)) throw new Error(`${field}: not a NATS user public nkey`);
  return nkey;
}

function renderPermissions(p: Permissions, indent: string): string {
  const lines = [
    `${indent}publish: { allow: [${p.publish.map(q).join(', ')}] }`,
    `${indent}subscribe: { allow: [${p.subscribe.map(q).join(', ')}] }`,
  ];
  if (p.responses) lines.push(`${indent}allow_responses: { max: ${p.responses.max}, expires: "${p.responses.expiresSeconds}s" }`);
  return lines.join('\n');
}

export function natsConf(input: NatsConfInput): string {
  const ids = new Set<string>();
  const users: string[] = [];
  for (const h of input.hosts) {
    checkHostId(h.id, 'hosts');
    if (ids.has(h.id)) throw new Error(`hosts: ${h.id} is listed twice`);
    ids.add(h.id);
    users.push(`      # host ${h.id}\n      { nkey: ${q(checkNkey(h.nkey, `hosts.${h.id}`))}, permissions: {\n${renderPermissions(hostPermissions(h.id), '        ')}\n      } }`);
  }
  for (const s of input.signers) {
    users.push(`      # signer (midclt)\n      { nkey: ${q(checkNkey(s, 'signers'))}, permissions: {\n${renderPermissions(signerPermissions(), '        ')}\n      } }`);
  }
  const out = [
    '# Midship fleet: written by `midshipd fleet init`. Start with: nats-server -c <this file>',
    `server_name: ${q(input.serverName ?? 'midship-fleet')}`,
    `listen: ${q(`${input.host ?? '127.0.0.1'}:${input.port}`)}`,
    '',
    'jetstream {',
    `  store_dir: ${q(input.storeDir)}`,
    '}',
  ];
  if (input.cluster) {
    out.push(
      '',
      'cluster {',
      `  name: ${q(input.cluster.name)}`,
      `  listen: ${q(`${input.cluster.host ?? '127.0.0.1'}:${input.cluster.port}`)}`,
      `  routes: [${input.cluster.routes.map(q).join(', ')}]`,
      '}',
    );
  }
  out.push(
    '',
    'accounts {',
    `  ${FLEET_ACCOUNT}: {`,
    '    jetstream: enabled',
    '    users: [',
    users.join('\n'),
    '    ]',
    '  }',
    '}',
    '',
  );
  return out.join('\n');
}
