// interface.query against this host: the names and live facts of /sys/class/net (loopback and
// container plumbing left out), filters and options, retrieve_names_only, get_instance; and, as
// root, a veth pair (or dummy interface) made by the test appearing, changing and vanishing as
// interface.query ADDED / CHANGED / REMOVED events.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isInternalInterface } from '../methods/host/net-internal.js';
import { Client, startDaemon, type Message } from './helpers/daemon.js';

type Entry = { id: string; name: string; type: string; fake: boolean; state: { name: string; mtu: number; link_address: string; link_state: string; flags: string[]; aliases: Array<{ type: string; address: string; netmask: number }> }; aliases: unknown[] };

const sys = (name: string, file: string) => readFileSync(`/sys/class/net/${name}/${file}`, 'utf8').trim();

function ip(...args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile('ip', args, { timeout: 10_000 }, (err) => resolve(!err)));
}

test('interface.query matches /sys/class/net; filters, options and retrieve_names_only work', async () => {
  const d = await startDaemon();
  const c = await Client.connect(d.socketPath);
  try {
    const all = (await c.call('interface.query')) as Entry[];
    // Read after the query: an interface another suite creates meanwhile may appear in /sys only.
    const present = new Set(readdirSync('/sys/class/net'));
    const names = all.map((e) => e.name);
    for (const n of names) assert.ok(present.has(n), `${n} is in /sys/class/net`);
    for (const n of present) if (!isInternalInterface(n) && !names.includes(n)) assert.ok(!present.has(n), `${n} missing from interface.query`);
    assert.ok(names.every((n) => !isInternalInterface(n)), 'no loopback or container plumbing');
    assert.ok(all.length > 0, 'this host has an interface');
    for (const e of all) {
      assert.is(e.id, e.name);
      assert.is(e.state.name, e.name);
      assert.is(e.fake, false);
      assert.is(e.state.mtu, Number(sys(e.name, 'mtu')), `${e.name} mtu`);
      assert.is(e.state.link_address, sys(e.name, 'address'), `${e.name} MAC`);
      assert.ok(['PHYSICAL', 'BRIDGE', 'LINK_AGGREGATION', 'VLAN', 'UNKNOWN'].includes(e.type));
      assert.is(e.state.flags.includes('UP'), (Number.parseInt(sys(e.name, 'flags'), 16) & 1) === 1, `${e.name} UP flag`);
    }
    const first = all[0]!;
    assert.equal(await c.call('interface.query', [['name', '=', first.name]]), [first]);
    assert.equal(await c.call('interface.query', [['name', '=', first.name]], { get: true }), first);
    assert.is(await c.call('interface.query', [], { count: true }), all.length);
    assert.equal(await c.call('interface.query', [], { select: ['name', 'state.mtu'], order_by: ['-name'] }), [...all].sort((a, b) => b.name.localeCompare(a.name)).map((e) => ({ name: e.name, state: { mtu: e.state.mtu } })));
    assert.equal(await c.call('interface.query', [], { extra: { retrieve_names_only: true } }), names.map((name) => ({ name })));
    assert.equal(await c.call('interface.query', [['name', '^', first.name]], { extra: { retrieve_names_only: true } }), names.filter((n) => n.startsWith(first.name)).map((name) => ({ name })));
    assert.equal(await c.call('interface.get_instance', first.name), first);
    assert.equal((await c.request('interface.get_instance', ['nosuch0'])).error?.data?.extra, [[null, 'Interface nosuch0 does not exist', 2]]);
    assert.is((await c.request('interface.query', [[['name', '~~', 'x']]])).error?.data?.error, 22, 'a bad filter names the problem');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('a veth pair made by the test: ADDED, CHANGED (MTU, address, link up) and REMOVED events', async () => {
  if (process.getuid?.() !== 0) {
    console.log('  skipped: creating interfaces needs root (run the suite as root)');
    return;
  }
  const A = `mi${process.pid % 100000}a`;
  const B = `mi${process.pid % 100000}b`;
  const d = await startDaemon();
  const c = await Client.connect(d.socketPath);
  const ev = (msg: string, id: string, pred: (m: Message) => boolean = () => true) => (m: Message) =>
    m.method === 'collection_update' && m.params?.collection === 'interface.query' && m.params.msg === msg && m.params.id === id && pred(m);
  const fields = (m: Message) => m.params!.fields as Entry;
  let kind: 'veth' | 'dummy' | null = null;
  try {
    await c.call('core.subscribe', 'interface.query');
    if (await ip('link', 'add', A, 'type', 'veth', 'peer', 'name', B)) kind = 'veth';
    else if (await ip('link', 'add', A, 'type', 'dummy')) kind = 'dummy';
    if (kind === null) {
      console.log('  skipped: `ip link add` can make neither a veth pair nor a dummy interface here');
      return;
    }
    const added = await c.waitFor(ev('added', A), 20_000);
    assert.is(fields(added).name, A);
    assert.is(fields(added).state.link_state, 'LINK_STATE_DOWN');
    assert.equal((await c.call('interface.query', [['name', '=', A]], { get: true })) as Entry, { ...fields(added), state: (await c.call('interface.get_instance', A) as Entry).state });

    assert.ok(await ip('link', 'set', A, 'mtu', '1400'));
    const mtu = await c.waitFor(ev('changed', A, (m) => fields(m).state.mtu === 1400), 20_000);
    assert.is(fields(mtu).state.mtu, 1400);
    assert.ok(await ip('addr', 'add', '10.213.78.1/24', 'dev', A));
    await c.waitFor(ev('changed', A, (m) => fields(m).state.aliases.some((a) => a.type === 'INET' && a.address === '10.213.78.1' && a.netmask === 24)), 20_000);
    assert.ok(await ip('link', 'set', A, 'up'));
    if (kind === 'veth') assert.ok(await ip('link', 'set', B, 'up'));
    await c.waitFor(ev('changed', A, (m) => fields(m).state.flags.includes('UP')), 20_000);
    const q = (await c.call('interface.query', [['state.aliases.*.address', 'rin', '10.213.78.1']])) as Entry[];
    assert.equal(q.map((e) => e.name), [A], 'filters reach into the live state');

    assert.ok(await ip('link', 'del', A));
    kind = null;
    const removed = await c.waitFor(ev('removed', A), 20_000);
    assert.not.ok('fields' in removed.params!, 'REMOVED carries the id only');
    assert.equal(await c.call('interface.query', [['name', 'in', [A, B]]]), []);
  } finally {
    if (kind !== null) await ip('link', 'del', A);
    await c.close();
    await d.cleanup();
  }
});

test.run();
