// The ejson wire rule (PROTOCOL.md 1.4): an object the real client decodes as a value (one key
// $date/$time/$set/$ipv4_interface/$ipv6_interface, or exactly $type + $value) is only ever sent
// as a well-formed value. Schemas served by core.get_methods obey it, and arguments that would
// store a malformed one are refused before any method runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findEjsonProblem } from '../daemon/ejson.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { describeViolation } from './helpers/wire-check.js';

let d: TestDaemon;
let root: Client;

test.before(async () => {
  d = await startDaemon({ modules });
  root = await Client.connect(d.socketPath);
});
test.after(async () => {
  await root.close();
  await d.cleanup();
});

test('well-formed wrappers pass, malformed ones and look-alikes are found with their path', () => {
  for (const ok of [
    { $date: 1718006400000 }, { $time: '16:22:06' }, { $time: '16:22:06.123456' }, { $set: [1, 'a', null, { $date: 0 }] },
    { $ipv4_interface: '10.0.0.5/24' }, { $ipv6_interface: 'fd00::5/64' }, { $type: 'date', $value: '2024-02-29' },
    { $date: 1, other: 2 }, { $type: 'date' }, { a: { $set: [] } }, '$date', ['$date'],
  ]) assert.is(findEjsonProblem(ok), null, JSON.stringify(ok));
  const bad: Array<[unknown, Array<string | number>]> = [
    [{ type: 'object', properties: { $date: { type: 'integer' } } }, ['properties']],
    [{ $date: '2024-06-10' }, []], [{ $date: 1.5 }, []], [{ $date: 1e300 }, []],
    [{ $time: '25:00' }, []], [{ $set: [[1]] }, []], [{ $set: [{ a: 1 }] }, []], [{ $set: 'abc' }, []],
    [{ $ipv4_interface: '10.0.0.300/24' }, []], [{ $ipv6_interface: '10.0.0.1' }, []],
    [{ $type: 'date', $value: '2023-02-29' }, []], [{ $type: 'other', $value: 1 }, []],
    [[{ ok: 1 }, { env: { $set: { type: 'array' } } }], [1, 'env']],
    [{ a: { $set: [{ $date: 'x' }] } }, ['a', '$set', 0]],
  ];
  for (const [value, keys] of bad) assert.equal(findEjsonProblem(value)?.keys, keys, JSON.stringify(value));
});

test('the frame check of the test helpers catches what the real midclt would drop', () => {
  assert.is(describeViolation('{"jsonrpc":"2.0","id":1,"result":{"x":{"$date":1718006400000}}}'), null);
  assert.match(describeViolation('{"jsonrpc":"2.0","id":1,"result":{"returns":{"properties":{"$date":{"type":"number"}}}}}') ?? '', /"result" > "returns" > "properties": "\$date" must be integer/);
  assert.is(describeViolation('{"no":"dollar"}'), null);
});

test('every schema core.get_methods serves obeys the rule (WS and CLI targets)', async () => {
  for (const target of ['WS', 'CLI']) {
    const methods = (await root.call('core.get_methods', null, target)) as Record<string, unknown>;
    assert.ok(Object.keys(methods).length > 20);
    assert.is(findEjsonProblem(methods), null);
    // Dates are still described: required $date, typed through patternProperties.
    const user = methods['user.create'] as { returns: { properties: { created_at: Record<string, unknown> } } };
    assert.equal(user.returns.properties.created_at.required, ['$date']);
  }
});

test('arguments holding a malformed wrapper are refused, naming the field; nothing is stored', async () => {
  const before = await root.call('cronjob.query', [], { count: true });
  const r = await root.request('cronjob.create', [{ command: 'true', user: 'root', environment: { $date: 'tomorrow' } }]);
  assert.ok(r.error, JSON.stringify(r));
  assert.equal((r.error.data as { extra: unknown }).extra, [['cron_job_create.environment', '"$date" must be integer milliseconds since the epoch', 22]]);
  assert.is(await root.call('cronjob.query', [], { count: true }), before);
  // In a query filter too, and on the legacy protocol.
  const f = await root.request('core.get_jobs', [[['id', '=', { $set: [[1]] }]]]);
  assert.equal((f.error!.data as { extra: unknown }).extra, [['filters.0.2', '"$set" members must be scalars', 22]]);
  const legacy = await Client.connect(d.socketPath, '/websocket');
  legacy.send({ msg: 'connect', version: '1', support: ['1'] });
  await legacy.waitFor((m) => m.msg === 'connected');
  legacy.send({ msg: 'method', id: 'l1', method: 'cronjob.create', params: [{ command: 'true', user: 'root', environment: { $time: 'noon' } }] });
  const lr = await legacy.waitFor((m) => m.msg === 'result' && m.id === 'l1');
  assert.is((lr.error as { type: string }).type, 'VALIDATION');
  assert.match(String((lr.error as { reason: string }).reason), /cron_job_create\.environment/);
  await legacy.close();
});

test('well-formed wrappers in arguments are accepted', async () => {
  const expires = Date.now() + 3_600_000;
  const k = (await root.call('api_key.create', { name: 'wire', username: 'admin', expires_at: { $date: expires } })) as { expires_at: { $date: number } };
  assert.is(k.expires_at.$date, expires);
});

test.run();
