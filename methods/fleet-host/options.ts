// The fleet options of daemon/config.ts made usable: the host id checked, the credentials and the
// trust file read. Every error names the flag and its environment variable, since that is what
// the administrator has to fix; nothing here touches the network.
import { stat, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { KeyObject } from 'node:crypto';
import type { App } from '#midship/module-api';
import { checkHostId, FleetInputError, loadCredentials, parseTrustedKeys, type NatsCredentials } from '../fleet/index.js';

type FleetConfig = NonNullable<App['config']['fleet']>;

/** The role cap when MIDSHIP_FLEET_MAX_ROLES is not set: the trust file is the grant. */
export const DEFAULT_MAX_ROLES: readonly string[] = ['FULL_ADMIN'];

export interface FleetOptions {
  servers: string[];
  host: string;
  credentials: NatsCredentials | undefined;
  trusted: ReadonlyMap<string, KeyObject>;
  /** Checked against the role vocabulary in the module's start() (every module's roles known then). */
  maxRoles: readonly string[];
  heartbeatMs: number | undefined;
}

/** A start-up refusal naming the option, e.g. `--fleet-creds / MIDSHIP_FLEET_CREDS: ...`. */
export class FleetOptionError extends Error {
  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.name = 'FleetOptionError';
  }
}

const HOST_ID = '--fleet-host-id / MIDSHIP_FLEET_HOST_ID';
const CREDS = '--fleet-creds / MIDSHIP_FLEET_CREDS';
const TRUST = '--fleet-trust / MIDSHIP_FLEET_TRUST';

/** FleetInputError names a file or field; the administrator needs the option too. */
async function naming<T>(option: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FleetInputError) throw new FleetOptionError(option, e.message);
    throw e;
  }
}

/** The default host id: the hostname up to its first dot (a host id is one NATS subject token). */
function defaultHostId(): string {
  const short = hostname().split('.')[0] ?? '';
  try {
    return checkHostId(short);
  } catch {
    throw new FleetOptionError(HOST_ID, `the hostname ${JSON.stringify(hostname())} is not a host id (1-64 characters of A-Z, a-z, 0-9, _ and -): set one`);
  }
}

/**
 * The trust file decides who may run calls here, so it must not be writable by other users
 * (whoever can add a line can add a signer). It is public otherwise.
 */
async function readTrust(path: string): Promise<ReadonlyMap<string, KeyObject>> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new FleetOptionError(TRUST, `${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new FleetOptionError(TRUST, `${path} is not a regular file`);
  if ((st.mode & 0o022) !== 0) {
    throw new FleetOptionError(TRUST, `${path} decides who may call this host but group or others may write it (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); chmod go-w it`);
  }
  return naming(TRUST, async () => parseTrustedKeys(await readFile(path, 'utf8'), path));
}

export async function fleetOptions(c: FleetConfig): Promise<FleetOptions> {
  const host = c.hostId === null ? defaultHostId() : await naming(HOST_ID, () => checkHostId(c.hostId!, 'host id'));
  if (c.trustPath === null) throw new FleetOptionError(TRUST, 'is required in fleet mode: the public keys of the signers whose calls this host runs (signer.pub of `midshipd fleet init`)');
  const trusted = await readTrust(c.trustPath);
  const credentials = c.credsPath === null ? undefined : await naming(CREDS, () => loadCredentials(c.credsPath!));
  const maxRoles = c.maxRoles ?? DEFAULT_MAX_ROLES;
  return { servers: c.urls, host, credentials, trusted, maxRoles, heartbeatMs: c.heartbeatMs ?? undefined };
}
