// reporting.* against a real daemon on this host: reporting.realtime at the interval asked for,
// one sampler per distinct interval shared by its subscribers and stopped with the last, bad
// intervals refused; cpu usage rising while a child burns a core; the history answering from the
// database after a restart, with TrueNAS's shapes, and its errors naming the field; the seam to
// the storage module read as documented.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Ajv } from 'ajv';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isInternalInterface } from '../methods/host/net-internal.js';
import { RealtimePayload } from '../schemas/host/realtime.js';
import { toRealtimePayload } from '../methods/host/realtime.js';
import { arcRates } from '../methods/host/arc.js';
import { poolUsage, toPoolFacts } from '../methods/reporting/pools.js';
import { Client, startDaemon, type Message } from './helpers/daemon.js';
import { until } from './helpers/until.js';

type Payload = { cpu: Record<string, { usage: number; temp: number | null }>; memory: Record<string, number>; interfaces: Record<string, unknown>; pools: Record<string, unknown> };

const realtime = (collection: string) => (m: Message) => m.method === 'collection_update' && m.params?.collection === collection;
const samplers = (c: Client) => c.call('reporting.realtime_samplers') as Promise<Array<{ interval: number; subscribers: number }>>;

async function client(url: string): Promise<Client> {
  const c = await Client.connect(url);
  await c.call('core.set_options', { private_methods: true });
  return c;
}

test('realtime: the payload shape at the interval asked for; one sampler per interval, shared, stopped after the last subscriber', async () => {
  const d = await startDaemon();
  const a = await client(d.socketPath);
  const b = await client(d.socketPath);
  try {
    const name = 'reporting.realtime:{"interval": 3}';
    const subA = (await a.call('core.subscribe', name)) as string;
    const times: number[] = [];
    const first = await a.waitFor(realtime(name), 20_000);
    times.push(performance.now());
    const fields = first.params!.fields as Payload;
    assert.ok(new Ajv({ strict: false }).validate(RealtimePayload, fields), 'the payload matches the schema');
    assert.is(first.params!.msg, 'added');
    assert.not.ok('id' in first.params!, 'no id');
    assert.equal(Object.keys(fields.cpu), ['cpu', ...cpus().map((_, i) => `cpu${i}`)]);
    const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    assert.is(fields.memory.physical_memory_total, memTotal);
    const names = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter((n) => n && !isInternalInterface(n));
    assert.equal(Object.keys(fields.interfaces).sort(), names.sort(), 'the interfaces of interface.query');
    assert.equal(fields.pools, {}, 'no storage module: no pools');
    while (times.length < 4) {
      const seen = a.received.filter(realtime(name)).length;
      await a.waitFor((m) => realtime(name)(m) && a.received.filter(realtime(name)).length > seen, 20_000);
      times.push(performance.now());
    }
    // Never faster than asked (a loaded machine may only make it slower).
    const meanGap = (times[times.length - 1]! - times[0]!) / (times.length - 1);
    assert.ok(meanGap >= 2500, `events every ${Math.round(meanGap)} ms at interval 3`);
    assert.equal(await samplers(a), [{ interval: 3, subscribers: 1 }]);

    // The default interval (2), twice on one connection and once on another: one sampler.
    const subB1 = (await b.call('core.subscribe', 'reporting.realtime')) as string;
    await b.call('core.subscribe', 'reporting.realtime:{"interval": 2}');
    await a.call('core.subscribe', 'reporting.realtime');
    assert.equal(await samplers(a), [{ interval: 2, subscribers: 3 }, { interval: 3, subscribers: 1 }]);
    await b.waitFor(realtime('reporting.realtime'), 20_000);
    await b.call('core.unsubscribe', subB1);
    assert.equal(await samplers(a), [{ interval: 2, subscribers: 2 }, { interval: 3, subscribers: 1 }]);
    await b.close(); // a disconnect leaves like an unsubscribe
    await until(async () => JSON.stringify(await samplers(a)) === JSON.stringify([{ interval: 2, subscribers: 1 }, { interval: 3, subscribers: 1 }]), 'the closed connection to leave');
    await a.call('core.unsubscribe', subA);
    assert.equal(await samplers(a), [{ interval: 2, subscribers: 1 }]);
    // Nothing more at interval 3 once it stopped.
    const before = a.received.filter(realtime(name)).length;
    await a.waitFor(realtime('reporting.realtime'), 20_000);
    const count = a.received.filter(realtime('reporting.realtime')).length;
    await a.waitFor((m) => realtime('reporting.realtime')(m) && a.received.filter(realtime('reporting.realtime')).length > count + 1, 20_000);
    assert.is(a.received.filter(realtime(name)).length, before, 'the interval-3 sampler stopped');
  } finally {
    await a.close();
    await d.cleanup();
  }
});

test('realtime: a bad interval ends the subscription with an error naming it', async () => {
  const d = await startDaemon();
  const c = await client(d.socketPath);
  try {
    for (const bad of ['{"interval": 1}', '{"interval": 2.5}', '{"interval": "2"}', '{"every": 2}']) {
      const name = `reporting.realtime:${bad}`;
      await c.call('core.subscribe', name);
      const end = await c.waitFor((m) => m.method === 'notify_unsubscribed' && m.params?.collection === name);
      const error = end.params!.error as { error: number; extra: Array<[string, string, number]> };
      assert.is(error.error, 22, bad);
      assert.ok(error.extra.length > 0, bad);
    }
    assert.equal(await samplers(c), []);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

function burner(): ChildProcess {
  // Bounded: the child stops itself after 60 s even if this test dies without killing it.
  return spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}'], { stdio: 'ignore' });
}

test('realtime: cpu usage rises while a child process burns a core', async () => {
  const d = await startDaemon();
  const c = await client(d.socketPath);
  const name = 'reporting.realtime';
  const usages = () => c.received.filter(realtime(name)).map((m) => (m.params!.fields as Payload).cpu.cpu!.usage);
  /** The usage of the event after the next one: its whole window is after now. */
  const nextWindow = async () => {
    const n = usages().length;
    await until(() => usages().length >= n + 2, 'two more realtime events', 30_000);
    return usages()[n + 1]!;
  };
  try {
    await c.call('core.subscribe', name);
    await c.waitFor(realtime(name), 20_000);
    const deadline = Date.now() + 90_000;
    let idle = 0;
    let busy = 0;
    // The machine is shared: compare fresh pairs until a burning window reads higher than a quiet one.
    do {
      idle = await nextWindow();
      const child = burner();
      try {
        busy = await nextWindow();
      } finally {
        child.kill('SIGKILL');
      }
    } while (busy <= idle && Date.now() < deadline);
    assert.ok(busy > idle, `busy ${busy}% vs idle ${idle}%`);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('history: get_data answers from the database after a restart, with legend, rows and aggregations; errors name the field', async () => {
  let d = await startDaemon();
  let c = await client(d.socketPath);
  const now = () => Math.floor(Date.now() / 1000);
  const cpuData = async () => ((await c.call('reporting.get_data', [{ name: 'cpu' }], { start: now() - 3600, end: now() + 60 })) as Array<{ data: unknown[][] }>)[0]!;
  try {
    // The first 10 s row follows the first full interval after start.
    await until(async () => (await cpuData()).data.length > 0, 'a first history row', 60_000, 500);
    await c.close();
    await d.stop();
    d = await startDaemon({ dataDir: d.dataDir });
    c = await client(d.socketPath);
    const [cpu] = (await c.call('reporting.netdata_get_data', [{ name: 'cpu' }], { start: now() - 3600, end: now() + 60 })) as Array<{ name: string; identifier: string; legend: string[]; data: Array<Array<number | null>>; start: number; end: number; aggregations: { min: Record<string, number>; mean: Record<string, number>; max: Record<string, number> } }>;
    assert.ok(cpu!.data.length > 0, 'rows kept across the restart');
    assert.is(cpu!.name, 'cpu');
    assert.is(cpu!.identifier, 'cpu');
    assert.equal(cpu!.legend, ['time', 'cpu', ...cpus().map((_, i) => `cpu${i}`)]);
    const row = cpu!.data.find((r) => r[1] !== null)!;
    assert.is(row.length, cpu!.legend.length);
    assert.ok((row[0] as number) % 10 === 0 && (row[0] as number) >= cpu!.start && (row[0] as number) <= cpu!.end);
    assert.ok(row.slice(1).every((v) => typeof v === 'number' && v >= 0 && v <= 100));
    assert.ok(cpu!.aggregations.mean.cpu! >= 0 && cpu!.aggregations.min.cpu! <= cpu!.aggregations.max.cpu!);

    const graphs = (await c.call('reporting.graphs', [['name', 'in', ['cpu', 'interface']]])) as Array<{ name: string; identifiers: string[] | null }>;
    assert.equal(graphs.map((g) => g.name), ['cpu', 'interface']);
    assert.is(graphs[0]!.identifiers, null);
    const ifaces = graphs[1]!.identifiers!;
    assert.ok(ifaces.length > 0 && ifaces.every((n) => !isInternalInterface(n)), ifaces.join(','));
    const traffic = (await c.call('reporting.get_data', [{ name: 'interface', identifier: ifaces[0] }], { unit: 'HOUR' })) as Array<{ identifier: string; legend: string[] }>;
    assert.is(traffic[0]!.identifier, ifaces[0]);
    assert.equal(traffic[0]!.legend, ['time', 'received', 'sent']);
    const all = (await c.call('reporting.get_data', [{ name: 'interface' }])) as Array<{ identifier: string }>;
    assert.equal(all.map((g) => g.identifier), ifaces, 'a graph asked for without identifier: each of its identifiers');

    const unknown = await c.request('reporting.get_data', [[{ name: 'nosuch' }]]);
    assert.is(unknown.error?.data?.error, 2);
    assert.match(String(unknown.error?.data?.reason), /'nosuch' is not a valid graph plugin/);
    const both = await c.request('reporting.get_data', [[{ name: 'cpu' }], { unit: 'DAY', start: 5 }]);
    assert.equal(both.error?.data?.extra, [['reporting_query.start', `'start' should only be used if "unit" attribute is not provided.`, 22]]);
    const none = await c.request('reporting.get_data', [[]]);
    assert.is((none.error?.data?.extra as Array<[string]>)[0]![0], 'graphs');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('the storage seam: pool.query entries read as documented, whatever else they hold', () => {
  const gib = 1024 ** 3;
  // A TrueNAS pool.query entry (MODULES.md 5.1), trimmed to a few of its fields.
  const tank = { id: 1, name: 'tank', guid: '123', status: 'ONLINE', healthy: true, warning: false, size: 10 * gib, allocated: 4 * gib, free: 6 * gib, freeing: 0, topology: {} };
  const answer = [tank, { name: 'faulted', status: 'UNAVAIL', healthy: false, size: null, allocated: null, free: null }, { name: 'odd', status: 7, healthy: 'yes', size: -1, free: '5' }, { id: 9 }, null, 'tank'];
  const facts = toPoolFacts(answer);
  assert.equal(facts, [
    { name: 'tank', status: 'ONLINE', healthy: true, size: 10 * gib, allocated: 4 * gib, free: 6 * gib },
    { name: 'faulted', status: 'UNAVAIL', healthy: false, size: null, allocated: null, free: null },
    { name: 'odd', status: null, healthy: null, size: null, allocated: null, free: null },
  ], 'mistyped fields read as null; entries without a name are left out');
  assert.equal(toPoolFacts({ error: 'not a list' }), []);
  const usage = poolUsage(facts);
  assert.equal(usage, { tank: { available: 6 * gib, used: 4 * gib, total: 10 * gib } }, 'pools without figures have no usage');
  assert.equal(toRealtimePayload({ time: 0, seconds: 0, cpu: new Map(), temperatures: null, memory: null, arc: null, zfs: arcRates(null, null, 0), disks: new Map(), interfaces: new Map(), loadavg: null, uptime: null }, usage).pools, usage);
});

test.run();
