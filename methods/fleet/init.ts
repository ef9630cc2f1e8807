// `midshipd fleet init DIR --hosts h1,h2 [--nats-port P]` as a library function: everything a
// one-machine fleet needs to start, with fresh keys.
//   DIR/nats.conf       JetStream on, store in DIR/jetstream, 127.0.0.1:P, nkey users
//   DIR/<host>.creds    each host's NATS nkey seed (0600)
//   DIR/signer.key      the signer's signing key and NATS seed (0600), for midclt
//   DIR/signer.pub      the signer's public key, for each daemon's --fleet-trust
// A folder that already holds a nats.conf is refused: new keys would lock every joined host out.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { FleetInputError } from './errors.js';
import { generateSigningKey, publicKeyLine, signerFileText } from './keys.js';
import { DEFAULT_NATS_PORT, natsConf } from './nats-conf.js';
import { hostCredsText } from './creds.js';
import { writeSecretFile } from './secret-file.js';
import { checkHostId } from './subjects.js';

export interface FleetInitOptions {
  hosts: readonly string[];
  natsPort?: number;
}

export interface FleetInitResult {
  dir: string;
  confPath: string;
  storeDir: string;
  natsUrl: string;
  /** Host id -> its .creds path. */
  creds: Record<string, string>;
  signerKeyPath: string;
  signerPubPath: string;
  /** The signer's public key line, as in signer.pub. */
  signerPublicKey: string;
  /** The NATS users written to nats.conf, for writing the same users into other nodes' confs. */
  users: { hosts: Array<{ id: string; nkey: string }>; signers: string[] };
}

export async function fleetInit(dir: string, o: FleetInitOptions): Promise<FleetInitResult> {
  const port = o.natsPort ?? DEFAULT_NATS_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FleetInputError('nats_port', 'must be a port number 1-65535');
  if (!Array.isArray(o.hosts) || o.hosts.length === 0) throw new FleetInputError('hosts', 'name at least one host');
  const seen = new Set<string>();
  o.hosts.forEach((h, i) => {
    checkHostId(h, `hosts.${i}`);
    if (seen.has(h)) throw new FleetInputError(`hosts.${i}`, `${h} is listed twice`);
    seen.add(h);
  });

  const root = resolve(dir);
  const confPath = join(root, 'nats.conf');
  const storeDir = join(root, 'jetstream');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const hosts = o.hosts.map((id) => ({ id, pair: createUser() }));
  const signerNats = createUser();
  const signing = generateSigningKey();
  const users = { hosts: hosts.map((h) => ({ id: h.id, nkey: h.pair.getPublicKey() })), signers: [signerNats.getPublicKey()] };
  const conf = natsConf({ port, storeDir, ...users });
  // 'wx': an existing nats.conf means an initialised fleet; refuse before writing any key.
  try {
    await writeFile(confPath, conf, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FleetInputError('dir', `${confPath} exists: this folder holds a fleet already`);
    throw e;
  }
  await mkdir(storeDir, { recursive: true, mode: 0o700 });
  const creds: Record<string, string> = {};
  for (const h of hosts) {
    creds[h.id] = join(root, `${h.id}.creds`);
    await writeSecretFile(creds[h.id]!, hostCredsText(new TextDecoder().decode(h.pair.getSeed())));
  }
  const signerKeyPath = join(root, 'signer.key');
  const signerPubPath = join(root, 'signer.pub');
  await writeSecretFile(signerKeyPath, signerFileText(signing, new TextDecoder().decode(signerNats.getSeed())));
  const signerPublicKey = publicKeyLine(signing.keyId);
  await writeFile(signerPubPath, `# Midship fleet signer: trust it with --fleet-trust ${signerPubPath}\n${signerPublicKey}\n`, { flag: 'wx', mode: 0o644 });
  return { dir: root, confPath, storeDir, natsUrl: `nats://127.0.0.1:${port}`, creds, signerKeyPath, signerPubPath, signerPublicKey, users };
}
