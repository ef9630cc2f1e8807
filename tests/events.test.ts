// The event bus directly (daemon/events.ts): fan-out of one encoded frame to every subscriber
// whose credentials allow it, subscription refusals and their lifecycle, event sources, and, on a
// real WebSocket connection, coalescing and backpressure of a subscriber that stops reading.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { WebSocket, WebSocketServer } from 'ws';
import type { Credentials } from '../daemon/auth/credentials.js';
import { DEFAULT_LIMITS } from '../daemon/config.js';
import { CallError, ERRNO, ValidationErrors, type ErrorData } from '../daemon/errors.js';
import { EventBus, type EventFrame, type Subscriber } from '../daemon/events.js';
import { Registry } from '../daemon/registry.js';
import { JsonRpcConnection } from '../daemon/rpc/jsonrpc.js';
import { SchemaCompiler } from '../daemon/schema.js';
import { captureLog } from './helpers/log.js';
import { until } from './helpers/until.js';

const creds = (roles: string[], userId = 1): Credentials => ({ type: 'LOGIN_PASSWORD', username: `u${userId}`, userId, roles, loginId: `l${userId}`, loginAt: 0 });

/** A subscriber that keeps what the bus sends it: a client of the bus, as a connection is. */
class Recorder implements Subscriber {
  readonly frames: EventFrame[] = [];
  readonly ended: Array<{ collection: string; subId: string; error: ErrorData | null }> = [];
  constructor(readonly id: string, public credentials: Credentials | null) {}
  sendEvent(frame: EventFrame): void {
    this.frames.push(frame);
  }
  sendUnsubscribed(collection: string, subId: string, error: ErrorData | null): void {
    this.ended.push({ collection, subId, error });
  }
}

function bus(): { events: EventBus; lines: Array<Record<string, unknown>> } {
  const compiler = new SchemaCompiler();
  const { log, lines } = captureLog();
  const events = new EventBus(new Registry(compiler, false), compiler, log);
  events.register({ name: 'pool.query', description: 'Pools changed.', roles: ['POOL_READ'] });
  events.register({ name: 'core.get_jobs', description: 'Jobs.', authOnly: true });
  events.register({ name: 'hidden.thing', description: 'Private.', private: true, authOnly: true });
  events.register({
    name: 'test.counter',
    description: 'Counts to n.',
    authOnly: true,
    source: {
      args: Type.Object({ n: Type.Integer({ minimum: 0 }), fail: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      run: async (ctx, raw) => {
        const { n, fail } = raw as { n: number; fail?: boolean };
        for (let i = 1; i <= n; i++) ctx.emit('added', i, { i });
        if (fail) throw new ValidationErrors([['n', 'failed on purpose', ERRNO.EINVAL]]);
      },
    },
  });
  events.register({
    name: 'test.forever',
    description: 'Runs until unsubscribed.',
    authOnly: true,
    source: { args: Type.Null(), run: (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())) },
  });
  return { events, lines };
}

function attach(events: EventBus, id: string, c: Credentials | null): Recorder {
  const r = new Recorder(id, c);
  events.attach(r);
  return r;
}

function refusal(fn: () => unknown): CallError | ValidationErrors {
  try {
    fn();
  } catch (err) {
    if (err instanceof CallError || err instanceof ValidationErrors) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

test('fan-out: one frame, encoded once, to each subscriber once however it subscribed', () => {
  const { events } = bus();
  const reader = attach(events, 'a', creds(['POOL_READ']));
  const admin = attach(events, 'b', creds(['FULL_ADMIN'], 2));
  const bystander = attach(events, 'c', creds(['POOL_READ'], 3));
  events.subscribe('a', 'pool.query');
  events.subscribe('a', 'pool.query'); // twice: still one copy
  events.subscribe('b', '*');
  events.subscribe('b', 'pool.query'); // named and wildcard: still one copy
  assert.ok(events.hasListeners('pool.query'));
  events.emit('pool.query', 'changed', 5, { name: 'tank' });
  assert.is(reader.frames.length, 1);
  assert.is(admin.frames.length, 1);
  assert.is(bystander.frames.length, 0);
  const frame = reader.frames[0]!;
  assert.is(admin.frames[0], frame, 'the same frame object for every recipient');
  assert.is(frame.jsonrpc(), frame.jsonrpc(), 'encoded once per protocol');
  assert.equal(JSON.parse(frame.jsonrpc()), { jsonrpc: '2.0', method: 'collection_update', params: { msg: 'changed', collection: 'pool.query', id: 5, fields: { name: 'tank' } } });
  assert.equal(JSON.parse(frame.legacy()), { msg: 'changed', collection: 'pool.query', id: 5, fields: { name: 'tank' } });
});

test('the audience: roles of the event, `visible`, and a wildcard that sees everything a full admin may', () => {
  const { events } = bus();
  const one = attach(events, 'a', creds(['READONLY_ADMIN'], 1));
  const two = attach(events, 'b', creds(['POOL_WRITE'], 2));
  const admin = attach(events, 'w', creds(['FULL_ADMIN'], 9));
  for (const id of ['a', 'b']) events.subscribe(id, 'pool.query');
  events.subscribe('w', '*');
  events.emit('pool.query', 'changed', 1, {}, { visible: (c) => c?.userId === 2 });
  assert.equal([one.frames.length, two.frames.length, admin.frames.length], [0, 1, 0], 'visible narrows every recipient, the wildcard too');
  events.emit('core.get_jobs', 'added', 3, {});
  assert.equal([one.frames.length, two.frames.length, admin.frames.length], [0, 1, 1], 'plain subscribers get only what they asked for');
  assert.ok(events.hasListeners('nobody.listens'), 'a wildcard subscriber listens to every name');
});

test('refusals name the problem', () => {
  const { events } = bus();
  attach(events, 'anon', null);
  attach(events, 'user', creds([]));
  const err = (fn: () => unknown) => {
    const e = refusal(fn);
    return e instanceof CallError ? [e.errno, e.errmsg] : e.errors.map(([a, m, n]) => [a, m, n]);
  };
  assert.equal(err(() => events.subscribe('anon', 'core.get_jobs')), [ERRNO.ENOTAUTHENTICATED, 'Not authenticated']);
  assert.equal(err(() => events.subscribe('user', 'pool.query')), [ERRNO.EACCES, 'Not authorized']);
  assert.equal(err(() => events.subscribe('user', '*')), [ERRNO.EACCES, 'Not authorized']);
  assert.equal(err(() => events.subscribe('user', 'no.such')), [['event', "Event 'no.such' does not exist", ERRNO.ENOENT]]);
  assert.equal(err(() => events.subscribe('user', 'hidden.thing')), [['event', "Event 'hidden.thing' does not exist", ERRNO.ENOENT]]);
  assert.equal(err(() => events.subscribe('user', 'core.get_jobs:{"a":1}')), [['event', "Event 'core.get_jobs' takes no arguments", ERRNO.EINVAL]]);
  assert.equal(err(() => events.subscribe('gone', 'core.get_jobs')), [ERRNO.ECONNABORTED, 'Connection is closed']);
  assert.not.ok(events.hasListeners('core.get_jobs'), 'nothing was subscribed');
});

test('lifecycle: unsubscribe, a reused subscription id, lost roles (recheck) and detach', () => {
  const { events } = bus();
  const r = attach(events, 'a', creds(['POOL_READ']));
  const sub = events.subscribe('a', 'pool.query');
  events.unsubscribe('a', sub);
  events.unsubscribe('a', 'unknown-id'); // ignored
  assert.not.ok(events.hasListeners('pool.query'));
  events.subscribe('a', 'pool.query', 'legacy-1');
  events.subscribe('a', 'pool.query', 'legacy-1'); // the same client id replaces, never doubles
  events.emit('pool.query', 'changed', 1);
  assert.is(r.frames.length, 1);
  events.unsubscribe('a', 'legacy-1');
  assert.not.ok(events.hasListeners('pool.query'), 'a replaced subscription leaves nothing behind');
  events.subscribe('a', 'pool.query');
  r.credentials = creds([]);
  events.recheck('a');
  assert.not.ok(events.hasListeners('pool.query'), 'roles lost: the subscription is dropped');
  r.credentials = creds(['POOL_READ']);
  events.subscribe('a', 'pool.query');
  events.detach('a');
  assert.not.ok(events.hasListeners('pool.query'));
  events.emit('pool.query', 'changed', 2);
  assert.is(r.frames.length, 1);
});

test('event sources: one producer per subscription, ended with notify_unsubscribed (and its error)', async () => {
  const { events, lines } = bus();
  const r = attach(events, 'a', creds([]));
  const sub = events.subscribe('a', 'test.counter:{"n": 3}');
  await until(() => r.ended.length === 1, 'the counter to end');
  assert.equal(r.frames.map((f) => [f.collection, f.msg, f.id]), [1, 2, 3].map((i) => ['test.counter:{"n": 3}', 'added', i]));
  assert.equal(r.ended[0], { collection: 'test.counter:{"n": 3}', subId: sub, error: null });
  events.subscribe('a', 'test.counter:{"n": 1, "fail": true}');
  events.subscribe('a', 'test.counter:{"n": -1}');
  events.subscribe('a', 'test.counter:{nope');
  await until(() => r.ended.length === 4, 'three failing sources to end');
  // Bad arguments end the subscription at once; a failing producer when it fails.
  const errorOf = (collection: string) => r.ended.find((e) => e.collection === collection)!.error!.extra as Array<[string, string, number]>;
  assert.equal(errorOf('test.counter:{"n": 1, "fail": true}'), [['n', 'failed on purpose', ERRNO.EINVAL]]);
  assert.equal(errorOf('test.counter:{"n": -1}'), [['n', 'Input should be greater than or equal to 0', ERRNO.EINVAL]]);
  assert.equal(errorOf('test.counter:{nope').map(([a]) => a), ['event']);
  assert.match(errorOf('test.counter:{nope')[0]![1], /^Event arguments are not valid JSON/);
  assert.ok(r.ended.every((e) => e.error === null || e.error.trace === null), 'no traces to clients');
  assert.not.ok(lines.some((l) => l.msg === 'event source failed'), 'expected refusals are not logged as failures');
  const forever = events.subscribe('a', 'test.forever');
  events.unsubscribe('a', forever);
  assert.equal(r.ended.at(-1), { collection: 'test.forever', subId: forever, error: null }, 'unsubscribing stops the producer and says so');
  events.subscribe('a', 'test.forever');
  events.endSources('a');
  assert.is(r.ended.length, 6, 'a logout ends every source');
});

/** A JSON-RPC connection over a real WebSocket, subscribed to pool.query; `client` is its peer. */
async function connectionPair(events: EventBus, log: ReturnType<typeof captureLog>['log'], limits: Partial<typeof DEFAULT_LIMITS>) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const received: Array<{ params: { id: number; fields: { i: number } } }> = [];
  client.on('message', (d: Buffer) => received.push(JSON.parse(d.toString()) as (typeof received)[number]));
  const [ws] = await accepted;
  const conn = new JsonRpcConnection(ws, 'tcp', '127.0.0.1', { ...DEFAULT_LIMITS, ...limits }, log);
  ws.on('close', () => conn.handleClosed());
  conn.credentials = creds(['POOL_READ']);
  events.attach(conn);
  events.subscribe(conn.id, 'pool.query');
  await once(client, 'open');
  return { conn, client, received, close: () => (client.terminate(), wss.close()) };
}

const KB = 'x'.repeat(1000);

test('coalescing: a subscriber that stops reading keeps only the latest unsent frame of a key', async () => {
  const { log, lines } = captureLog();
  const { events } = bus();
  const pair = await connectionPair(events, log, { sendBufferBytes: 2 * 1024 * 1024, eventHighWaterBytes: 64 * 1024 });
  pair.client.pause();
  // 20,000 events of 1 KB under one key: 20 MB if queued, about one frame when coalesced.
  for (let i = 0; i < 20_000; i++) events.emit('pool.query', 'changed', 1, { i, pad: KB }, { coalesceKey: 'pool:1' });
  assert.not.ok(pair.conn.closed, 'not cut off: nothing piles up');
  pair.client.resume();
  await until(() => pair.received.some((m) => m.params.fields.i === 19_999), 'the latest frame');
  assert.ok(pair.received.length < 20_000, `coalesced: ${pair.received.length} frames delivered`);
  const order = pair.received.map((m) => m.params.fields.i);
  assert.equal(order, [...order].sort((a, b) => a - b), 'never an older state after a newer one');
  assert.not.ok(lines.some((l) => l.msg === 'closing slow consumer: unsent data passed the send buffer bound'));
  pair.close();
});

test('backpressure: past the send buffer bound a subscriber that stops reading is cut off', async () => {
  const { log, lines } = captureLog();
  const { events } = bus();
  const slow = await connectionPair(events, log, { sendBufferBytes: 2 * 1024 * 1024, eventHighWaterBytes: 64 * 1024 });
  const fast = await connectionPair(events, log, { sendBufferBytes: 2 * 1024 * 1024, eventHighWaterBytes: 64 * 1024 });
  slow.client.pause();
  // In steps, letting the event loop run between them: the reading subscriber drains meanwhile.
  for (let i = 0; i < 20_000; i++) {
    events.emit('pool.query', 'changed', i, { i, pad: KB });
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  assert.ok(slow.conn.closed, 'the slow subscriber is closed');
  assert.ok(lines.some((l) => l.msg === 'closing slow consumer: unsent data passed the send buffer bound'));
  assert.not.ok(fast.conn.closed, 'the one that reads is not');
  await until(() => fast.received.length === 20_000, 'every event at the reading subscriber', 60_000);
  slow.close();
  fast.close();
});

test.run();
