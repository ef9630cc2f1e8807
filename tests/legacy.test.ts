// The legacy DDP-style protocol at /websocket (PROTOCOL.md section 9).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { testModule } from './helpers/test-module.js';

let d: TestDaemon;

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, testModule] });
});
test.after(() => d.cleanup());

async function connected(target: 'tcp' | 'unix'): Promise<Client> {
  const c = target === 'tcp' ? await Client.connect(`ws://127.0.0.1:${d.port}/websocket`) : await Client.connect(d.socketPath, '/websocket');
  c.send({ msg: 'connect', version: '1', support: ['1'], features: ['PY_EXCEPTIONS'] });
  const m = await c.waitFor((x) => x.msg === 'connected');
  assert.match(String(m.session), /^[0-9a-f-]{36}$/);
  return c;
}

function result(c: Client, id: string): Promise<Message> {
  return c.waitFor((m) => m.msg === 'result' && m.id === id);
}

test('messages before connect, and a wrong version, get failed', async () => {
  const c = await Client.connect(`ws://127.0.0.1:${d.port}/websocket`);
  c.send({ msg: 'method', id: 'x', method: 'core.ping' });
  assert.equal(await c.waitFor((m) => m.msg === 'failed'), { msg: 'failed', version: '1' });
  c.send({ msg: 'connect', version: '2', support: ['2'] });
  await c.waitFor((m) => m.msg === 'failed' && c.received.filter((x) => x.msg === 'failed').length === 2);
  c.send({ msg: 'connect', version: '1', support: ['1'] });
  await c.waitFor((m) => m.msg === 'connected');
  await c.close();
});

test('method/result, ping/pong, on TCP and the unix socket', async () => {
  for (const target of ['tcp', 'unix'] as const) {
    const c = await connected(target);
    c.send({ msg: 'method', id: 'p1', method: 'core.ping', params: [] });
    assert.equal(await result(c, 'p1'), { msg: 'result', id: 'p1', result: 'pong' });
    c.send({ msg: 'ping', id: 'k1' });
    assert.equal(await c.waitFor((m) => m.msg === 'pong'), { msg: 'pong', id: 'k1' });
    await c.close();
  }
});

test('legacy error objects: ENOTAUTHENTICATED, ENOMETHOD, EBADMSG, EINVAL, VALIDATION', async () => {
  const c = await connected('tcp');
  c.send({ msg: 'method', id: 'a', method: 'core.get_methods', params: [] });
  const a = (await result(c, 'a')).error!;
  assert.is(a.error, 207);
  assert.is(a.errname, 'ENOTAUTHENTICATED');
  assert.is(a.type, null);
  assert.is(a.reason, '[ENOTAUTHENTICATED] Not authenticated');
  assert.ok(a.trace);
  c.send({ msg: 'method', id: 'b', method: 'bar.foo', params: [] });
  assert.equal((await result(c, 'b')).error, { error: 201, errname: 'ENOMETHOD', type: null, reason: "[ENOMETHOD] Method 'foo' not found in 'bar'", trace: null, extra: null });
  c.send({ msg: 'method', id: 'c', method: 'nodot', params: [] });
  assert.is((await result(c, 'c')).error!.error, 74);
  c.send({ msg: 'method', id: 'e', params: [] });
  assert.is((await result(c, 'e')).error!.error, 22);
  c.send({ msg: 'method', id: 'f', method: 'core.ping', params: {} });
  assert.is((await result(c, 'f')).error!.error, 22);
  await c.close();
  const u = await connected('unix');
  u.send({ msg: 'method', id: 'v', method: 'test.echo', params: [{ name: 1, count: 1 }] });
  const v = (await result(u, 'v')).error!;
  assert.is(v.type, 'VALIDATION');
  assert.is(v.error, 22);
  assert.equal(v.extra, [['value.name', 'Input should be a valid string', 22]]);
  assert.ok(v.trace);
  u.send({ msg: 'method', id: 'w', method: 'test.echo', params: [{}] });
  assert.is((await result(u, 'w')).error!.error, 11, 'a collection of errors is EAGAIN');
  await u.close();
});

test('more than 20 concurrent calls: ETOOMANYREFS', async () => {
  const c = await connected('unix');
  for (let i = 0; i < 21; i++) c.send({ msg: 'method', id: `s${i}`, method: 'test.sleep', params: [200] });
  const r = await result(c, 's20');
  assert.is(r.error!.error, 109);
  assert.is(r.error!.reason, 'Maximum number of concurrent calls (20) has exceeded.');
  assert.is((await result(c, 's19')).result, 200);
  await c.close();
});

test('sub -> ready, events with msg at top level, nosub at the end, unsub silent', async () => {
  const c = await connected('unix');
  c.send({ msg: 'sub', id: 'sub1', name: 'test.tick' });
  assert.equal(await c.waitFor((m) => m.msg === 'ready'), { msg: 'ready', subs: ['sub1'] });
  c.send({ msg: 'method', id: 'e1', method: 'test.emit', params: [1] });
  const ev = await c.waitFor((m) => m.collection === 'test.tick');
  assert.equal(ev, { msg: 'changed', collection: 'test.tick', id: 0, fields: { i: 0, pad: 'xxxxxxxxxx' } });
  c.send({ msg: 'sub', id: 'sub2', name: 'test.counter:{"n": 2}' });
  const end = await c.waitFor((m) => m.msg === 'nosub');
  assert.is(end.collection, 'test.counter:{"n": 2}');
  assert.not.ok('error' in end);
  c.send({ msg: 'sub', id: 'sub3', name: 'test.counter:{"n": -1}' });
  const bad = await c.waitFor((m) => m.msg === 'nosub' && m.id === 'sub3');
  assert.is((bad.error as { type: string }).type, 'VALIDATION');
  c.send({ msg: 'unsub', id: 'sub1' });
  c.send({ msg: 'method', id: 'e2', method: 'test.emit', params: [1] });
  await result(c, 'e2');
  c.send({ msg: 'ping', id: 'z' });
  await c.waitFor((m) => m.msg === 'pong');
  assert.is(c.received.filter((m) => m.collection === 'test.tick').length, 1);
  await c.close();
});

test('sub refused before login: result with an error', async () => {
  const c = await connected('tcp');
  c.send({ msg: 'sub', id: 'n1', name: 'test.tick' });
  const r = await result(c, 'n1');
  assert.is(r.error!.error, 207);
  assert.is(r.error!.trace, null);
  await c.close();
});

test('unparseable text closes with 1007', async () => {
  const c = await connected('tcp');
  c.send('{not json');
  assert.is(await c.closed, 1007);
});

test.run();
