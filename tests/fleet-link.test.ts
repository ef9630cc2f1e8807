// The host link's rpc side against a real nats-server: signed calls reach the dispatcher of the
// host they name and only that one, answers and errors come back, refusals are audited; and an
// unreachable server delays nothing, the link connecting on its own once the server is there.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { headers } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AUTH_HEADER, callErrorObject, FleetCallError, signRequest, FleetClient, generateSigningKey, HostLink, HostUnreachableError, loadCredentials, loadSignerFile,
  type FleetCall, type RequestRefusedError,
} from '../methods/fleet/index.js';
import { until } from './helpers/until.js';
import { freePort, NatsServer, natsTest, startFleet, TempDb, outboxDb, type TestFleet } from './helpers/nats.js';

const t = natsTest(test);

let fleet: TestFleet;
const dbs: TempDb[] = [];
const links: HostLink[] = [];
const calls: Record<string, FleetCall[]> = { h1: [], h2: [], h3: [] };
const refused: Array<{ reason: string; subject: string }> = [];
/** test.slow calls wait until the test opens this gate. */
let gate: Promise<void> = Promise.resolve();

async function link(host: string, servers: string | string[] = fleet.server.url, extra: Partial<Parameters<typeof HostLink.open>[0]> = {}): Promise<HostLink> {
  const tl = await TempDb.create();
  dbs.push(tl);
  const l = await HostLink.open({
    servers, host,
    credentials: await loadCredentials(fleet.init.creds[host]!),
    trusted: fleet.trusted,
    version: '0.1.0-test',
    jobCounts: () => ({ RUNNING: 0 }),
    outboxDb: outboxDb(tl),
    reconnectWaitMs: 100,
    onRefused: (e: RequestRefusedError, subject: string) => refused.push({ reason: e.reason, subject }),
    dispatch: async (call) => {
      calls[host]!.push(call);
      if (call.method === 'test.fail') throw Object.assign(new Error('it failed on purpose'), { errno: 2 });
      if (call.method === 'test.slow') await gate;
      return { host, method: call.method, params: call.params, user: call.user, roles: call.roles };
    },
    toError: (e) => callErrorObject('EINVAL', (e as Error).message, { mapped: true }),
    ...extra,
  });
  links.push(l);
  return l;
}

t('start a fleet and two linked hosts', async () => {
  fleet = await startFleet(['h1', 'h2', 'h3']);
  const [a, b] = [await link('h1'), await link('h2')];
  assert.ok(await a.whenConnected(20_000));
  assert.ok(await b.whenConnected(20_000));
});

t('a signed call reaches only the host it names and returns its result', async () => {
  const client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
  try {
    const r = await client.call('h2', 'core.get_jobs', [[['state', '=', 'RUNNING']], { count: true }], 'alice', ['READONLY_ADMIN']);
    assert.equal(r, { host: 'h2', method: 'core.get_jobs', params: [[['state', '=', 'RUNNING']], { count: true }], user: 'alice', roles: ['READONLY_ADMIN'] });
    assert.is(calls.h1!.length, 0);
    assert.is(calls.h2!.length, 1);
    assert.is(calls.h2![0]!.subject, 'midship.h2.rpc.core.get_jobs');
    // 16 at once, spread over both hosts: each lands where it was sent.
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => client.call(i % 2 ? 'h1' : 'h2', 'core.ping', [i], 'bob', []) as Promise<{ host: string; params: number[] }>));
    results.forEach((r, i) => {
      assert.is(r.host, i % 2 ? 'h1' : 'h2');
      assert.equal(r.params, [i]);
    });
  } finally {
    await client.close();
  }
});

t('a dispatcher error comes back as the host mapped it; an absent host is unreachable', async () => {
  const client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
  try {
    try {
      await client.call('h1', 'test.fail', [], 'alice', []);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, FleetCallError);
      const err = (e as FleetCallError).error;
      assert.is(err.code, -32001);
      assert.equal(err.data, { error: 22, errname: 'EINVAL', reason: '[EINVAL] it failed on purpose', trace: null, extra: { mapped: true } });
    }
    try {
      await client.call('h3', 'core.ping', [], 'alice', [], { timeoutMs: 5000 });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, HostUnreachableError);
    }
  } finally {
    await client.close();
  }
});

t('a call signed by an untrusted key is refused by the host, audited, and never dispatched', async () => {
  const real = await loadSignerFile(fleet.init.signerKeyPath);
  // The attacker has the signer's NATS identity (the server lets the request through) but not
  // a trusted signing key.
  const client = await FleetClient.connect({ servers: fleet.server.url, signer: { ...real, signingKey: generateSigningKey() } });
  const before = calls.h1!.length;
  try {
    await client.call('h1', 'core.ping', [], 'root', ['FULL_ADMIN']);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, FleetCallError);
    const data = (e as FleetCallError).error.data as { errname: string; extra: { fleet_refusal: string } };
    assert.is(data.errname, 'EACCES');
    assert.is(data.extra.fleet_refusal, 'unknown_signer');
  } finally {
    await client.close();
  }
  assert.is(calls.h1!.length, before);
  assert.equal(refused.at(-1), { reason: 'unknown_signer', subject: 'midship.h1.rpc.core.ping' });
});

t('over the wire: a replayed request and a tampered body are refused, a busy host says EBUSY', async () => {
  const signer = await loadSignerFile(fleet.init.signerKeyPath);
  const client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
  const subject = 'midship.h1.rpc.core.ping';
  const body = new TextEncoder().encode('[1]');
  const h = headers();
  h.set(AUTH_HEADER, signRequest({ key: signer.signingKey, subject, body, user: 'alice', roles: [], now: Date.now() }));
  const send = async (b: Uint8Array) => (await client.nc.request(subject, b, { headers: h, timeout: 10_000 })).json<{ result?: unknown; error?: { data: { extra: { fleet_refusal: string } } } }>();
  try {
    const before = calls.h1!.length;
    assert.equal((await send(body)).result, { host: 'h1', method: 'core.ping', params: [1], user: 'alice', roles: [] });
    assert.is((await send(body)).error?.data.extra.fleet_refusal, 'replayed');
    assert.is((await send(new TextEncoder().encode('[2]'))).error?.data.extra.fleet_refusal, 'tampered');
    assert.is(calls.h1!.length, before + 1, 'only the first one was dispatched');
    assert.equal(refused.slice(-2).map((r) => r.reason), ['replayed', 'tampered']);

    // A host running its maximum of calls answers the next one EBUSY at once, rather than queueing.
    const busy = await link('h3', fleet.server.url, { maxInFlight: 2 });
    assert.ok(await busy.whenConnected(20_000));
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    let settled = 0;
    const pending = [0, 1, 2].map(() => client.call('h3', 'test.slow', [], 'alice', []).then(
      () => 'ok',
      (e: FleetCallError) => (e.error.data as { errname: string }).errname,
    ).finally(() => settled++));
    await until(() => settled === 1, 'the third call to be turned away while two wait at the gate');
    open();
    const errnames = await Promise.all(pending);
    assert.equal(errnames.sort(), ['EBUSY', 'ok', 'ok']);
    await busy.stop();
  } finally {
    await client.close();
  }
});

t('a link to a refusing port returns at once and connects when the server appears there', async () => {
  const port = await freePort();
  const l = await link('h3', `nats://127.0.0.1:${port}`);
  assert.is(l.connected, false);
  // Local work goes on: the outbox takes entries while nothing is connected.
  assert.ok(l.outboxOp({ id: 1, state: 'RUNNING', method: 'core.ping' }));
  // The same fleet's conf on that port: the link finds the server by itself.
  const second = new NatsServer(fleet.init.confPath.replace(/nats\.conf$/, 'second.conf'), port);
  const conf = (await readFile(fleet.init.confPath, 'utf8'))
    .replace(/listen: "127\.0\.0\.1:\d+"/, `listen: "127.0.0.1:${port}"`)
    .replace(/store_dir: "([^"]+)"/, 'store_dir: "$1-second"');
  await writeFile(second.confPath, conf);
  await second.start();
  try {
    await until(() => l.connected, 'the link to connect to the late server');
    const client = await FleetClient.fromFile(second.url, fleet.init.signerKeyPath);
    try {
      assert.equal(((await client.call('h3', 'core.ping', [], 'alice', [])) as { host: string }).host, 'h3');
    } finally {
      await client.close();
    }
  } finally {
    await l.stop();
    await second.stop();
  }
});

t('a link whose server never answers the handshake neither delays open() nor stop()', async () => {
  // A TCP listener that accepts and stays silent: a connect attempt hangs until its timeout
  // (set to ten minutes here), so open() and stop() returning prove neither waits for it.
  const sockets = new Set<Socket>();
  const silent = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (silent.address() as AddressInfo).port;
  try {
    const l = await link('h3', `nats://127.0.0.1:${port}`, { connectTimeoutMs: 600_000 });
    await until(() => sockets.size > 0, 'the link to be mid-handshake');
    assert.is(l.connected, false);
    assert.ok(l.outboxOp({ id: 2, state: 'RUNNING' }));
    await l.stop();
    assert.is(l.connected, false);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

t('stop', async () => {
  for (const l of links) await l.stop();
  for (const d of dbs) await d.destroy();
  await fleet.stop();
});

test.run();
