// `midshipd fleet init DIR --hosts h1,h2 [--nats-port P]`: fleetInit() for a person, printing
// what was written and the next three commands of the quick start (README.md).
import { relative } from 'node:path';
import { FleetInputError } from './errors.js';
import { fleetInit } from './init.js';
import { DEFAULT_NATS_PORT } from './nats-conf.js';

export const FLEET_USAGE = `usage: midshipd fleet init DIR --hosts h1,h2[,...] [--nats-port P]

Writes a one-machine fleet into DIR (created, refused if it holds a fleet already):
  DIR/nats.conf       nats-server configuration: JetStream on, store in DIR/jetstream,
                      127.0.0.1:P (default ${DEFAULT_NATS_PORT}), a NATS user per host and one for the signer
  DIR/<host>.creds    each host's NATS credentials (mode 0600), for --fleet-creds
  DIR/signer.key      the signer's keys (mode 0600), for midclt --fleet-creds
  DIR/signer.pub      the signer's public key, for each daemon's --fleet-trust`;

/** Runs the command; returns the exit code (0 done, 1 failed, 2 usage). */
export async function fleetCommand(argv: string[], print: (line: string) => void, fail: (line: string) => void): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv.length === 0) {
    print(FLEET_USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] !== 'init') {
    fail(`midshipd fleet: unknown command '${argv[0]}'\n${FLEET_USAGE}`);
    return 2;
  }
  let dir: string | undefined;
  let hosts: string[] | undefined;
  let port = DEFAULT_NATS_PORT;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = () => {
      const v = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new FleetInputError(flag, 'needs a value');
      return v;
    };
    try {
      if (flag === '--hosts') hosts = value().split(',').map((h) => h.trim()).filter((h) => h !== '');
      else if (flag === '--nats-port') {
        const v = value();
        port = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!(port >= 1 && port <= 65535)) throw new FleetInputError('--nats-port', `must be a port number 1-65535, got '${v}'`);
      } else if (!a.startsWith('-') && dir === undefined) dir = a;
      else throw new FleetInputError(a, 'unknown option');
    } catch (e) {
      fail(`midshipd fleet init: ${(e as Error).message}\n${FLEET_USAGE}`);
      return 2;
    }
  }
  if (dir === undefined || hosts === undefined) {
    fail(`midshipd fleet init: ${dir === undefined ? 'DIR' : '--hosts'} is required\n${FLEET_USAGE}`);
    return 2;
  }
  let r;
  try {
    r = await fleetInit(dir, { hosts, natsPort: port });
  } catch (e) {
    if (!(e instanceof FleetInputError)) throw e;
    const field = e.field === 'dir' ? 'DIR' : e.field.startsWith('hosts') ? `--${e.field}` : e.field;
    fail(`midshipd fleet init: ${field}: ${e.message.slice(e.field.length + 2)}`);
    return e.field === 'dir' ? 1 : 2;
  }
  const shown = (p: string) => {
    const rel = relative(process.cwd(), p);
    return rel.startsWith('..') || rel === '' ? p : rel;
  };
  const d = shown(r.dir);
  print(`midshipd fleet init: wrote ${d}/`);
  print(`  nats.conf        NATS with JetStream on ${r.natsUrl.replace('nats://', '')}, store in ${d}/jetstream`);
  for (const h of hosts) print(`  ${`${h}.creds`.padEnd(16)} NATS credentials of host ${h} (0600)`);
  print('  signer.key       the signer key for midclt (0600); keep it secret');
  print('  signer.pub       its public key: each host trusts it with --fleet-trust');
  print('Next:');
  print(`  nats-server -c ${d}/nats.conf`);
  hosts.forEach((h, i) => print(`  midshipd --data-dir ${h} --port ${6001 + i} --fleet-url ${r.natsUrl} --fleet-host-id ${h} --fleet-creds ${d}/${h}.creds --fleet-trust ${d}/signer.pub`));
  print(`  midclt --fleet ${r.natsUrl} --fleet-creds ${d}/signer.key fleet hosts`);
  return 0;
}
