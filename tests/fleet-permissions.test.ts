// `fleet init` and the permissions it writes, against a real nats-server started from the
// generated nats.conf: what a (compromised) host cannot do, and what the signer needs to do.
import { stat, readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  AUTH_HEADER, FleetClient, FleetInputError, fleetInit, historyStreamConfig, loadCredentials, presenceStreamConfig, signRequest,
  loadSignerFile, type FleetInitResult,
} from '../methods/fleet/index.js';
import { ensureStream } from '../methods/fleet/streams.js';
import { hostInboxPrefix, SIGNER_INBOX_PREFIX } from '../methods/fleet/subjects.js';
import { freePort, NatsServer, natsTest } from './helpers/nats.js';

const t = natsTest(test);

let dir = '';
let init: FleetInitResult;
let server: NatsServer;
const open: NatsConnection[] = [];

async function asHost(host: string): Promise<NatsConnection> {
  const creds = await loadCredentials(init.creds[host]!);
  const nc = await connect({ servers: server.url, authenticator: creds.authenticator, inboxPrefix: hostInboxPrefix(host), noAsyncTraces: true });
  open.push(nc);
  return nc;
}

async function asSigner(): Promise<NatsConnection> {
  const creds = await loadCredentials(init.signerKeyPath);
  const nc = await connect({ servers: server.url, authenticator: creds.authenticator, inboxPrefix: SIGNER_INBOX_PREFIX, noAsyncTraces: true });
  open.push(nc);
  return nc;
}

/** The error a promise rejects with, or null when it resolves. */
async function failure(p: Promise<unknown>): Promise<Error | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return e as Error;
  }
}

/** Whether a subscription is refused: the server answers it with a permissions violation. */
async function subscribeRefused(nc: NatsConnection, subject: string): Promise<boolean> {
  const errors: string[] = [];
  const watcher = (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(s.error.message);
  })();
  const sub = nc.subscribe(subject);
  let closedWithError = false;
  void sub.closed.then((e) => { if (e) closedWithError = true; });
  await nc.flush();
  const end = Date.now() + 5000;
  while (!closedWithError && !errors.some((m) => m.includes(`Subscription to "${subject}"`)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  void watcher;
  return closedWithError || errors.some((m) => m.includes(`Subscription to "${subject}"`));
}

t('fleet init writes the conf, 0600 creds and signer key, and refuses to run twice', async () => {
  dir = await mkdtemp(join(tmpdir(), 'midship-fleet-init-'));
  const port = await freePort();
  init = await fleetInit(dir, { hosts: ['h1', 'h2'], natsPort: port });
  assert.is(init.natsUrl, `nats://127.0.0.1:${port}`);
  for (const f of [init.creds.h1!, init.creds.h2!, init.signerKeyPath]) assert.is((await stat(f)).mode & 0o777, 0o600, f);
  const conf = await readFile(init.confPath, 'utf8');
  assert.match(conf, `listen: "127.0.0.1:${port}"`);
  assert.match(conf, `store_dir: ${JSON.stringify(join(dir, 'jetstream'))}`);
  assert.match(await readFile(init.signerPubPath, 'utf8'), /^ed25519:[A-Za-z0-9_-]{43}$/m);
  try {
    await fleetInit(dir, { hosts: ['h3'] });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, FleetInputError);
    assert.match((e as Error).message, /holds a fleet already/);
  }
  for (const [hosts, field] of [[[], 'hosts'], [['ok', 'bad.host'], 'hosts.1'], [['a', 'a'], 'hosts.1']] as const) {
    try {
      await fleetInit(join(dir, 'other'), { hosts: [...hosts] });
      assert.unreachable();
    } catch (e) {
      assert.is((e as FleetInputError).field, field);
    }
  }
  server = await new NatsServer(init.confPath, port).start();
});

t('a host may create the fleet streams, publish its history and put its own presence key', async () => {
  const nc = await asHost('h1');
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  await ensureStream(jsm, presenceStreamConfig());
  await ensureStream(jsm, historyStreamConfig());
  const js = jetstream(nc);
  const ack = await js.publish('midship.h1.hist.job', '{}', { msgID: 'h1:x:1:RUNNING' });
  assert.is(ack.stream, 'MIDSHIP_HISTORY');
  const kv = await new Kvm(js).open('midship_hosts');
  assert.ok((await kv.put('h1', '{}')) > 0);
});

t('a host cannot publish as another host, write its key, or call its rpc', async () => {
  const nc = await asHost('h1');
  const js = jetstream(nc, { timeout: 3000 });
  assert.match((await failure(js.publish('midship.h2.hist.job', '{}', { msgID: 'h2:x:1:RUNNING' })))?.message ?? 'published!', /Permissions Violation for Publish to "midship.h2.hist.job"/);
  const kv = await new Kvm(js).open('midship_hosts');
  assert.match((await failure(kv.put('h2', '{}')))?.message ?? 'written!', /Permissions Violation for Publish to "\$KV.midship_hosts.h2"/);
  // A request to h2 (even one properly signed by a stolen envelope) cannot even be sent.
  const h = headers();
  const signer = await loadSignerFile(init.signerKeyPath);
  const body = new TextEncoder().encode('[]');
  h.set(AUTH_HEADER, signRequest({ key: signer.signingKey, subject: 'midship.h2.rpc.core.ping', body, user: 'x', roles: [], now: Date.now() }));
  assert.match((await failure(nc.request('midship.h2.rpc.core.ping', body, { headers: h, timeout: 3000 })))?.message ?? 'sent!', /Permissions Violation for Publish/);
  // Nor may it create other streams (say one capturing every rpc subject).
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  assert.ok(await failure(jsm.streams.add({ name: 'SPY', subjects: ['midship.*.rpc.>'] })));
});

t('a host cannot read other hosts\' calls, replies, history or presence', async () => {
  const nc = await asHost('h1');
  assert.ok(await subscribeRefused(nc, 'midship.h2.rpc.>'), 'h2 rpc');
  assert.ok(await subscribeRefused(nc, 'midship.*.rpc.>'), 'all rpc');
  assert.ok(await subscribeRefused(nc, '_INBOX.>'), 'all inboxes');
  assert.ok(await subscribeRefused(nc, `${SIGNER_INBOX_PREFIX}.>`), 'signer inbox');
  assert.ok(await subscribeRefused(nc, `${hostInboxPrefix('h2')}.>`), 'h2 inbox');
  assert.ok(await subscribeRefused(nc, 'midship.h2.hist.job'), 'h2 history (core)');
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 3000 });
  assert.ok(await failure(jsm.consumers.add('MIDSHIP_HISTORY', { name: 'peek', ack_policy: AckPolicy.None, filter_subject: 'midship.h2.hist.job' })), 'history consumer');
  const kv = await new Kvm(jetstream(nc, { timeout: 3000 })).open('midship_hosts');
  assert.ok(await failure(kv.get('h2')), 'presence read');
  // Its own rpc subjects are allowed (so the refusals above are not vacuous): a message arrives.
  const own = nc.subscribe('midship.h1.rpc.>', { max: 1 });
  nc.publish('midship.h1.rpc.core.ping', '[]');
  for await (const m of own) assert.is(m.subject, 'midship.h1.rpc.core.ping');
});

t('the signer can call any host, read history and presence, and provision, but not act as a host', async () => {
  const nc = await asSigner();
  // Calls go out (no responder here: the server answers "no responders", not a violation).
  const e = await failure(nc.request('midship.h2.rpc.core.ping', '[]', { timeout: 3000 }));
  assert.not.match(e?.message ?? '', /Permissions/);
  const client = await FleetClient.fromFile(server.url, init.signerKeyPath);
  try {
    await client.provision();
    const hosts = await client.hosts();
    assert.equal(hosts.map((h) => h.host), [], 'the "{}" put above is not a presence value and is ignored');
    const { jobs } = await client.jobs();
    assert.equal(jobs, [], 'the "{}" history message above is not a record and is ignored');
  } finally {
    await client.close();
  }
  const js = jetstream(nc, { timeout: 3000 });
  assert.match((await failure(js.publish('midship.h1.hist.job', '{}', { msgID: 'forged' })))?.message ?? 'published!', /Permissions Violation/);
  const kv = await new Kvm(js).open('midship_hosts');
  assert.match((await failure(kv.put('h1', '{}')))?.message ?? 'written!', /Permissions Violation/);
  assert.ok(await subscribeRefused(nc, 'midship.h1.rpc.>'), 'the signer cannot answer calls');
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 3000 });
  assert.ok(await failure(jsm.streams.delete('MIDSHIP_HISTORY')), 'the signer cannot delete the history');
});

t('stop', async () => {
  for (const nc of open) await nc.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

test.run();
