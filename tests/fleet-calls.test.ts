// Fleet calls through real midshipd processes and a real nats-server: a signed call reaches only
// the host it names and runs there as FLEET(user, roles capped by the host), audited; a job method
// answers with its job id at once; the host, not NATS, decides: on a server without any
// authentication a READONLY caller still gets EACCES, and unknown signers, tampered bodies, stale
// timestamps and replayed nonces are refused. A compromised host's NATS user cannot call, answer
// for or write as another host.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AUTH_HEADER, FleetCallError, FleetClient, generateSigningKey, loadCredentials, loadSignerFile, signRequest, type SigningKey,
} from '../methods/fleet/index.js';
import { hostInboxPrefix } from '../methods/fleet/subjects.js';
import { spawnHost, type FleetHost } from './helpers/fleet-hosts.js';
import { freePort, NatsServer, natsTest, startFleet, type TestFleet } from './helpers/nats.js';
import { until } from './helpers/until.js';

const t = natsTest(test);

let fleet: TestFleet;
let client: FleetClient;
const hosts: Record<string, FleetHost> = {};
const open: NatsConnection[] = [];
let permissive: NatsServer;
let permissiveDir = '';

type Job = { id: number; state: string; method: string; credentials: { type: string; data: { username: string } } | null };

/** The errno name and reason of a refused fleet call. */
async function refusal(p: Promise<unknown>): Promise<{ errname: string; reason: string; extra: unknown }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof FleetCallError)) throw e;
    const data = e.error.data as { errname: string; reason: string; extra: unknown };
    return { errname: data.errname, reason: data.reason, extra: data.extra };
  }
  throw new Error('the call was not refused');
}

t('start a fleet of three daemons (h3 capped at READONLY_ADMIN)', async () => {
  fleet = await startFleet(['h1', 'h2', 'h3']);
  client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
  [hosts.h1, hosts.h2, hosts.h3] = await Promise.all([
    spawnHost(fleet, 'h1'),
    spawnHost(fleet, 'h2'),
    spawnHost(fleet, 'h3', { env: { MIDSHIP_FLEET_MAX_ROLES: 'READONLY_ADMIN' } }),
  ]);
  await until(async () => (await client.hosts()).filter((h) => h.status === 'online').length === 3, 'three hosts online');
});

t('a call reaches only the host it names and is audited there as FLEET', async () => {
  const echo = await client.call('h2', 'test.echo', [{ name: 'x', count: 2, secret: 'hush' }], 'alice', ['FULL_ADMIN']);
  assert.equal(echo, { name: 'x', count: 2, secret: 'hush' });
  const audit = await until(() => hosts.h2!.fleetAudit().find((a) => a.method === 'test.echo'), 'h2\'s audit line');
  assert.is(audit.user, 'alice');
  assert.is(audit.ok, true);
  assert.equal(audit.args, [{ name: 'x', count: 2, secret: '********' }], 'secrets are not in the audit');
  assert.equal(audit.roles, ['FULL_ADMIN']);
  assert.is(hosts.h1!.fleetAudit().length, 0);
  assert.is(hosts.h3!.fleetAudit().length, 0);
  // Each of 12 calls lands on the host it names.
  const pings = await Promise.all(Array.from({ length: 12 }, (_, i) => client.call(`h${(i % 2) + 1}`, 'test.echo', [{ name: `h${(i % 2) + 1}`, count: i }], 'bob', ['FULL_ADMIN'])));
  pings.forEach((p, i) => assert.equal(p, { name: `h${(i % 2) + 1}`, count: i }));
  await until(() => hosts.h1!.fleetAudit().length === 6, 'six audit lines on h1');
  assert.ok(hosts.h1!.fleetAudit().every((a) => a.user === 'bob'));
});

t('a job method answers with its job id at once; the job runs on that host as FLEET', async () => {
  const id = await client.call('h1', 'test.job', [{ steps: 20, delay: 50, result: 'done' }], 'carol', ['FULL_ADMIN']);
  assert.type(id, 'number');
  const c = await (hosts.h1!).local();
  const job = (await c.call('core.get_jobs', [['id', '=', id]], { get: true })) as Job;
  assert.is(job.method, 'test.job');
  assert.not.equal(job.state, 'SUCCESS', 'the id came before the end');
  assert.is(job.credentials?.type, 'FLEET');
  assert.is(job.credentials?.data.username, 'carol');
  await until(async () => ((await c.call('core.get_jobs', [['id', '=', id]], { get: true })) as Job).state === 'SUCCESS', 'the job to end');
  const others = (await (await hosts.h2!.local()).call('core.get_jobs', [['method', '=', 'test.job']])) as Job[];
  assert.equal(others, [], 'h2 ran no test.job');
  // Refusals before the job exists come back as errors (here: bad arguments).
  const bad = await refusal(client.call('h1', 'test.job', [{ steps: -1 }], 'carol', ['FULL_ADMIN']));
  assert.is(bad.errname, 'EINVAL');
});

t('roles: a READONLY claim cannot write; a host capped at READONLY_ADMIN refuses a FULL_ADMIN claim to write', async () => {
  const ro = await refusal(client.call('h1', 'test.job', [{}], 'dave', ['READONLY_ADMIN']));
  assert.is(ro.errname, 'EACCES');
  assert.equal(await client.call('h1', 'core.get_jobs', [[['method', '=', 'nothing']]], 'dave', ['READONLY_ADMIN']), []);
  const capped = await refusal(client.call('h3', 'test.job', [{}], 'root', ['FULL_ADMIN']));
  assert.is(capped.errname, 'EACCES');
  assert.equal(await client.call('h3', 'core.get_jobs', [[['method', '=', 'nothing']]], 'root', ['FULL_ADMIN']), [], 'reads still work under the cap');
  const audit = await until(() => hosts.h3!.fleetAudit().find((a) => a.method === 'test.job'), 'h3\'s audit of the refused call');
  assert.is(audit.ok, false);
  assert.equal(audit.roles, ['READONLY_ADMIN'], 'FULL_ADMIN claimed, READONLY_ADMIN granted');
  const none = await refusal(client.call('h1', 'cronjob.query', [], 'eve', []));
  assert.is(none.errname, 'EACCES', 'no roles: only what any session may call');
  assert.equal(await client.call('h1', 'cronjob.query', [], 'eve', ['SYSTEM_CRON_READ']), []);
});

/** A raw request as anyone on the server could send it, with a given header. */
async function raw(nc: NatsConnection, subject: string, body: Uint8Array, auth: string | null): Promise<{ error?: { data: { errname: string; extra: { fleet_refusal?: string } | null } }; result?: unknown }> {
  const h = headers();
  if (auth !== null) h.set(AUTH_HEADER, auth);
  const m = await nc.request(subject, body, { headers: h, timeout: 10_000 });
  return m.json();
}

t('NATS without authentication: the host still refuses READONLY writes, unknown signers, tampering, stale and replayed requests', async () => {
  permissiveDir = await mkdtemp(join(tmpdir(), 'midship-nats-open-'));
  const port = await freePort();
  const conf = join(permissiveDir, 'open.conf');
  await writeFile(conf, `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(join(permissiveDir, 'js'))} }\n`);
  permissive = await new NatsServer(conf, port).start();
  hosts.h4 = await spawnHost(fleet, 'h4', { url: permissive.url, noCreds: true });
  const anyone = await connect({ servers: permissive.url, noAsyncTraces: true });
  open.push(anyone);
  const signer = await loadSignerFile(fleet.init.signerKeyPath);
  const enc = new TextEncoder();
  const subject = 'midship.h4.rpc.test.echo';
  const body = enc.encode(JSON.stringify([{ name: 'n', count: 1 }]));
  const sign = (o: { key?: SigningKey; roles?: string[]; now?: number; b?: Uint8Array; s?: string } = {}) =>
    signRequest({ key: o.key ?? signer.signingKey, subject: o.s ?? subject, body: o.b ?? body, user: 'mallory', roles: o.roles ?? ['FULL_ADMIN'], now: o.now ?? Date.now() });
  await until(async () => {
    try {
      return (await raw(anyone, subject, body, sign())).result !== undefined;
    } catch {
      return false; // no responders yet
    }
  }, 'h4 answering on the open server');

  const ro = await raw(anyone, 'midship.h4.rpc.test.job', enc.encode('[{}]'), sign({ roles: ['READONLY_ADMIN'], s: 'midship.h4.rpc.test.job', b: enc.encode('[{}]') }));
  assert.is(ro.error?.data.errname, 'EACCES', 'a READONLY claim cannot start a job, whatever the server allows');
  const reason = async (auth: string | null, b = body) => (await raw(anyone, subject, b, auth)).error?.data.extra?.fleet_refusal;
  assert.is(await reason(null), 'malformed', 'no signature');
  assert.is(await reason(sign({ key: generateSigningKey() })), 'unknown_signer');
  assert.is(await reason(sign(), enc.encode(JSON.stringify([{ name: 'n', count: 2 }]))), 'tampered', 'another body under a valid signature');
  assert.is(await reason(sign({ s: 'midship.h4.rpc.test.sleep' })), 'tampered', 'a signature for another method');
  assert.is(await reason(sign({ now: Date.now() - 120_000 })), 'stale');
  assert.is(await reason(sign({ now: Date.now() + 120_000 })), 'stale', 'from the future');
  const once = sign();
  assert.ok((await raw(anyone, subject, body, once)).result !== undefined);
  assert.is(await reason(once), 'replayed');
  const refused = await until(() => {
    const lines = hosts.h4!.daemon.stderr().split('\n').filter((l) => l.includes('"msg":"fleet call refused"'));
    return lines.length >= 7 ? lines.map((l) => JSON.parse(l) as { refused: string }) : null;
  }, 'the refusals in h4\'s log');
  assert.equal(refused.map((r) => r.refused).sort(), ['malformed', 'replayed', 'stale', 'stale', 'tampered', 'tampered', 'unknown_signer'].sort());
});

t('a compromised host cannot call another host, answer for it, or write its history or presence', async () => {
  const creds = await loadCredentials(fleet.init.creds.h1!);
  const h1 = await connect({ servers: fleet.server.url, authenticator: creds.authenticator, inboxPrefix: hostInboxPrefix('h1'), noAsyncTraces: true });
  open.push(h1);
  const signer = await loadSignerFile(fleet.init.signerKeyPath);
  const body = new TextEncoder().encode(JSON.stringify([{ name: 'stolen', count: 1 }]));
  const h = headers();
  // Even with a valid envelope (say, copied from a log), h1 cannot send it to h2.
  h.set(AUTH_HEADER, signRequest({ key: signer.signingKey, subject: 'midship.h2.rpc.test.echo', body, user: 'x', roles: ['FULL_ADMIN'], now: Date.now() }));
  let err: Error | null = null;
  try {
    await h1.request('midship.h2.rpc.test.echo', body, { headers: h, timeout: 3000 });
  } catch (e) {
    err = e as Error;
  }
  assert.match(err?.message ?? 'delivered!', /Permissions Violation for Publish/);
  assert.not.ok(hosts.h2!.fleetAudit().some((a) => (a.args as Array<{ name?: string }>)[0]?.name === 'stolen'));
  const js = jetstream(h1, { timeout: 3000 });
  let forged: Error | null = null;
  try {
    await js.publish('midship.h2.hist.job', JSON.stringify({ v: 1, host: 'h2', instance: 'x', job: { id: 1, state: 'SUCCESS' } }), { msgID: 'h2:x:1:SUCCESS' });
  } catch (e) {
    forged = e as Error;
  }
  assert.match(forged?.message ?? 'published!', /Permissions Violation/);
  // The same call from the signer goes through: the refusal above is the server's permissions.
  assert.equal(await client.call('h2', 'test.echo', [{ name: 'stolen', count: 1 }], 'x', ['FULL_ADMIN']), { name: 'stolen', count: 1 });
});

t('stop', async () => {
  for (const nc of open) await nc.close();
  await client.close();
  for (const h of Object.values(hosts)) await h.cleanup();
  await permissive?.stop();
  await rm(permissiveDir, { recursive: true, force: true });
  await fleet.stop();
});

test.run();
