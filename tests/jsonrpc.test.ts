// JSON-RPC 2.0 at /api/current: framing, every error shape, core.* introspection (issue 3).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { stat } from 'node:fs/promises';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { testModule } from './helpers/test-module.js';

let d: TestDaemon;
let admin: Client; // over the unix socket: the local administrator
let anon: Client; // over TCP: not logged in

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, testModule] });
  admin = await Client.connect(d.socketPath);
  anon = await Client.connect(d.url);
});
test.after(async () => {
  await admin.close();
  await anon.close();
  await d.cleanup();
});

test('core.ping answers pong over TCP and the unix socket', async () => {
  assert.equal(await anon.call('core.ping'), 'pong');
  assert.equal(await admin.call('core.ping'), 'pong');
});

test('the unix socket is created mode 0600', async () => {
  const s = await stat(d.socketPath);
  assert.equal(s.mode & 0o777, 0o600);
});

test('success responses are exact', async () => {
  admin.send('{"jsonrpc":"2.0","id":"abc","method":"core.ping"}');
  const r = await admin.waitFor((m) => m.id === 'abc');
  assert.equal(r, { jsonrpc: '2.0', id: 'abc', result: 'pong' });
});

test('core.set_options returns the resulting options, per connection', async () => {
  const c = await Client.connect(d.url);
  assert.equal(await c.call('core.set_options', { legacy_jobs: false }), { legacy_jobs: false, private_methods: false, py_exceptions: false });
  assert.equal(await c.call('core.set_options', { py_exceptions: true }), { legacy_jobs: false, private_methods: false, py_exceptions: true });
  const r = await c.request('core.set_options', [{ bogus: 1 }]);
  assert.is(r.error?.code, -32602);
  assert.equal(r.error?.data?.extra, [['options.bogus', 'Extra inputs are not permitted', 22]]);
  await c.close();
  const other = await Client.connect(d.url);
  assert.equal(await other.call('core.set_options', {}), { legacy_jobs: true, private_methods: false, py_exceptions: false });
  await other.close();
});

test('invalid params: -32602 with data.extra naming the attribute', async () => {
  const r = await admin.request('test.echo', [{ name: 5 }]);
  assert.is(r.error?.code, -32602);
  assert.is(r.error?.message, 'Invalid params');
  const data = r.error!.data!;
  assert.is(data.error, 22);
  assert.is(data.errname, 'EINVAL');
  assert.equal(data.extra, [['value.count', 'Field required', 22], ['value.name', 'Input should be a valid string', 22]]);
  assert.is(data.reason, '[EINVAL] value.count: Field required\n[EINVAL] value.name: Input should be a valid string\n');
  assert.is((data.trace as { class: string }).class, 'ValidationErrors');
  const missing = await admin.request('test.echo', []);
  assert.equal(missing.error?.data?.extra, [['value', 'Field required', 22]]);
  const tooMany = await admin.request('core.ping', [1]);
  assert.is(tooMany.error?.code, -32602);
  assert.equal(tooMany.error?.data?.extra, [['', 'Too many arguments (expected 0, found 1)', 22]]);
});

test('core.subscribe to an unknown event names the attribute `event`', async () => {
  const r = await admin.request('core.subscribe', ['no.such_event']);
  assert.is(r.error?.code, -32602);
  assert.equal(r.error?.data?.extra, [['event', "Event 'no.such_event' does not exist", 2]]);
});

test('unknown method: -32601 without data, also before login', async () => {
  for (const c of [admin, anon]) {
    const r = await c.request('no.such_method', []);
    assert.equal(r.error, { code: -32601, message: 'Method does not exist' });
  }
});

test('malformed JSON: -32700 with id null', async () => {
  anon.send('{"jsonrpc": "2.0", "id": 7, "method": ');
  const r = await anon.waitFor((m) => (m.error as { code?: number } | undefined)?.code === -32700);
  assert.is(r.id, null);
  assert.not.ok('data' in r.error!);
});

test('invalid request shapes: -32600 with the exact texts', async () => {
  const cases: Array<[unknown, string, unknown]> = [
    [{ id: 1, method: 'core.ping' }, "Missing 'jsonrpc' member", 1],
    [{ jsonrpc: '1.0', id: 2, method: 'core.ping' }, "'jsonrpc' member must be of type string and must be exactly '2.0'", 2],
    [{ jsonrpc: '2.0', id: 3 }, "Missing 'method' member", 3],
    [{ jsonrpc: '2.0', id: 4, method: 5 }, "'method' member must be of type string", 4],
    [{ jsonrpc: '2.0', id: 5, method: 'core.ping', params: {} }, "'params' member must be of type array", 5],
    [{ jsonrpc: '2.0', id: [1], method: 'core.ping' }, "'id' member must be of type null, string or number", null],
  ];
  for (const [frame, message, id] of cases) {
    const before = anon.received.length;
    anon.send(frame);
    const r = await anon.waitFor((m) => anon.received.indexOf(m) >= before && m.error !== undefined);
    assert.equal(r, { jsonrpc: '2.0', id, error: { code: -32600, message } }, message);
  }
});

test('an unexpected error: -32001 with a reason, logged with its stack', async () => {
  const r = await admin.request('test.unexpected', []);
  assert.is(r.error?.code, -32001);
  assert.is(r.error?.message, 'Method call error');
  assert.is(r.error?.data?.reason, 'boom: something broke');
  assert.is(r.error?.data?.error, 22);
  assert.is((r.error?.data?.trace as { class: string }).class, 'TypeError');
  const line = d.logs.find((l) => l.method === 'test.unexpected' && l.err);
  assert.ok(line, 'logged');
  assert.match(String((line!.err as { stack: string }).stack), /test-module/);
  assert.is(await admin.call('core.ping'), 'pong');
});

test('a CallError keeps its errno and reason', async () => {
  const r = await admin.request('test.call_error', []);
  assert.is(r.error?.code, -32001);
  assert.is(r.error?.data?.error, 2);
  assert.is(r.error?.data?.errname, 'ENOENT');
  assert.is(r.error?.data?.reason, '[ENOENT] Pool tank not found');
});

test('a result that cannot be encoded is -32603', async () => {
  const r = await admin.request('test.unencodable', []);
  assert.is(r.error?.code, -32603);
});

test('before login: ENOTAUTHENTICATED as -32001 errno 207', async () => {
  const r = await anon.request('core.get_methods', []);
  assert.is(r.error?.code, -32001);
  assert.is(r.error?.data?.error, 207);
  assert.is(r.error?.data?.errname, 'ENOTAUTHENTICATED');
  assert.is(r.error?.data?.reason, '[ENOTAUTHENTICATED] Not authenticated');
});

test('notifications are executed and never answered', async () => {
  const before = admin.received.length;
  admin.send({ jsonrpc: '2.0', method: 'core.ping' });
  admin.send({ jsonrpc: '2.0', method: 'no.such' });
  assert.is(await admin.call('core.ping'), 'pong');
  assert.is(admin.received.length, before + 1);
});

test('batches are answered element by element', async () => {
  admin.send([
    { jsonrpc: '2.0', id: 'b1', method: 'core.ping' },
    { jsonrpc: '2.0', method: 'core.ping' },
    { jsonrpc: '2.0', id: 'b2', method: 'nope.nope' },
    5,
  ]);
  const r = await admin.waitFor((m) => Array.isArray(m.batch));
  const items = r.batch as Array<Record<string, unknown>>;
  assert.is(items.length, 3);
  assert.equal(items[0], { jsonrpc: '2.0', id: 'b1', result: 'pong' });
  assert.equal(items[1], { jsonrpc: '2.0', id: 'b2', error: { code: -32601, message: 'Method does not exist' } });
  assert.is((items[2]!.error as { code: number }).code, -32600);
  const before = admin.received.length;
  admin.send('[]');
  const empty = await admin.waitFor((m) => admin.received.indexOf(m) >= before);
  assert.is(empty.error?.code, -32600);
  assert.is(empty.id, null);
});

test('JSON nested deeper than 64 levels: -32600', async () => {
  const deep = `${'['.repeat(65)}${']'.repeat(65)}`;
  const before = admin.received.length;
  admin.send(`{"jsonrpc":"2.0","id":9,"method":"test.echo","params":${deep}}`);
  const r = await admin.waitFor((m) => admin.received.indexOf(m) >= before);
  assert.is(r.error?.code, -32600);
  const ok = `${'['.repeat(60)}${']'.repeat(60)}`;
  admin.send(`{"jsonrpc":"2.0","id":"ok","method":"core.ping","params":${ok}}`);
  const r2 = await admin.waitFor((m) => m.id === 'ok');
  assert.is(r2.error?.code, -32602);
});

test('at most 20 calls in flight: the 21st gets -32000 without data', async () => {
  const c = await Client.connect(d.socketPath);
  for (let i = 0; i < 21; i++) c.send({ jsonrpc: '2.0', id: i, method: 'test.sleep', params: [300] });
  const refused = await c.waitFor((m) => m.id === 20);
  assert.equal(refused.error, { code: -32000, message: 'Maximum number of concurrent calls (20) has exceeded' });
  const done = await c.waitFor((m) => m.id === 19);
  assert.is(done.result, 300);
  assert.is(await c.call('core.ping'), 'pong');
  await c.close();
});

test('core.get_methods describes methods; core.get_services the services', async () => {
  const methods = (await admin.call('core.get_methods')) as Record<string, Record<string, unknown>>;
  const echo = methods['test.echo']!;
  assert.ok(echo, 'test.echo listed');
  assert.is(echo.job, false);
  assert.equal(echo.roles, ['TEST_WRITE']);
  assert.is((echo.accepts as { type: string }).type, 'array');
  assert.ok(methods['core.ping']!.no_auth_required);
  const only = (await admin.call('core.get_methods', 'core')) as Record<string, unknown>;
  assert.ok(Object.keys(only).every((k) => k.startsWith('core.')));
  const services = (await admin.call('core.get_services')) as Record<string, { type: string; config: Record<string, unknown> }>;
  assert.is(services.test!.config.role_prefix, 'TEST');
  assert.is(services.core!.type, 'service');
});

test('event sources: name:{json} runs per subscription and ends with notify_unsubscribed', async () => {
  const id = (await admin.call('core.subscribe', 'test.counter:{"n": 3}')) as string;
  assert.match(id, /^[0-9a-f-]{36}$/);
  const end = await admin.waitFor((m) => m.method === 'notify_unsubscribed' && (m.params as { collection: string }).collection === 'test.counter:{"n": 3}');
  assert.is((end.params as { error: unknown }).error, null);
  const events = admin.received.filter((m) => m.method === 'collection_update' && (m.params as { collection: string }).collection === 'test.counter:{"n": 3}');
  assert.equal(events.map((m) => (m.params as { id: number }).id), [1, 2, 3]);
  assert.equal(events[0]!.params, { msg: 'added', collection: 'test.counter:{"n": 3}', id: 1, fields: { i: 1 } });
});

test('event source argument errors and failures arrive as notify_unsubscribed with an error', async () => {
  await admin.call('core.subscribe', 'test.counter:{"n": "x"}');
  const bad = await admin.waitFor((m) => m.method === 'notify_unsubscribed' && (m.params as { collection: string }).collection === 'test.counter:{"n": "x"}');
  const err = (bad.params as { error: Record<string, unknown> }).error;
  assert.is(err.error, 22);
  assert.is(err.trace, null);
  await admin.call('core.subscribe', 'test.counter:{"n": 1, "fail": true}');
  const failed = await admin.waitFor((m) => m.method === 'notify_unsubscribed' && (m.params as { collection: string }).collection === 'test.counter:{"n": 1, "fail": true}');
  assert.equal((failed.params as { error: { extra: unknown } }).error.extra, [['n', 'counter failed on purpose', 22]]);
});

test('core.unsubscribe ends an event source with notify_unsubscribed error null', async () => {
  const id = await admin.call('core.subscribe', 'test.forever:null');
  await admin.waitFor((m) => (m.params as { collection?: string } | undefined)?.collection === 'test.forever:null');
  assert.is(await admin.call('core.unsubscribe', id), null);
  const end = await admin.waitFor((m) => m.method === 'notify_unsubscribed' && (m.params as { collection: string }).collection === 'test.forever:null');
  assert.is((end.params as { error: unknown }).error, null);
  assert.is(await admin.call('core.unsubscribe', 'not-a-subscription'), null);
});

test('plain events: one copy per connection, wildcard for admins, silent unsubscribe', async () => {
  const c = await Client.connect(d.socketPath);
  const s1 = await c.call('core.subscribe', 'test.tick');
  await c.call('core.subscribe', 'test.tick');
  await c.call('test.emit', 2);
  await c.waitFor((m) => (m.params as { id?: number } | undefined)?.id === 1);
  await c.call('core.ping');
  assert.is(c.received.filter((m) => m.method === 'collection_update').length, 2);
  const w = await Client.connect(d.socketPath);
  await w.call('core.subscribe', '*');
  await c.call('core.unsubscribe', s1);
  await c.call('test.emit', 1);
  await w.waitFor((m) => m.method === 'collection_update');
  const anonSub = await anon.request('core.subscribe', ['*']);
  assert.is(anonSub.error?.data?.error, 207);
  await c.close();
  await w.close();
});

test('HTTP side endpoints and unknown paths', async () => {
  const get = (path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port: d.port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
  const versions = await get('/api/versions');
  assert.is(versions.status, 200);
  assert.ok((JSON.parse(versions.body) as string[]).includes('v25.04.0'));
  assert.is(typeof JSON.parse((await get('/api/boot_id')).body), 'string');
  assert.is((await get('/nope')).status, 404);
  const ws = await Client.connect(`ws://127.0.0.1:${d.port}/api/v1`);
  assert.is(await ws.call('core.ping'), 'pong');
  await ws.close();
  let status = 0;
  try {
    await Client.connect(`ws://127.0.0.1:${d.port}/nope`);
  } catch (e) {
    status = Number(/(\d{3})/.exec((e as Error).message)?.[1]);
  }
  assert.is(status, 404);
});

test.run();
