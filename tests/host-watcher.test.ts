// The interface watcher against real interfaces: a veth pair (or a dummy interface) created by
// the test with iproute2 appears, changes MTU, address and link state, and vanishes, and the
// watcher reports each step. Needs root; skipped with a hint otherwise. Always cleans up.
import { execFile } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffInterfaces, InterfaceWatcher, type InterfaceChange } from '../methods/host/net-watcher.js';
import type { InterfaceSnapshot } from '../methods/host/net-state.js';
import { until } from './helpers/until.js';

function ip(...args: string[]): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 10_000 }, (err, _stdout, stderr) => resolve({ ok: !err, stderr: String(stderr).trim() }));
  });
}

// Unique per process: other suites and helpers may create interfaces at the same time.
const A = `mw${process.pid % 100000}a`;
const B = `mw${process.pid % 100000}b`;

async function createLink(): Promise<string | null> {
  if ((await ip('link', 'add', A, 'type', 'veth', 'peer', 'name', B)).ok) return 'veth';
  const dummy = await ip('link', 'add', A, 'type', 'dummy');
  return dummy.ok ? 'dummy' : null;
}


test('diff: added, changed fields, removed, and a name reused by a new interface', () => {
  const snap = (name: string, ifindex: number, mtu: number): InterfaceSnapshot => ({
    name, ifindex, kind: 'virtual', type: 'UNKNOWN', internal: false, speed: null,
    state: { mtu, link_state: 'LINK_STATE_DOWN', link_address: 'aa', flags: [], aliases: [] } as unknown as InterfaceSnapshot['state'],
  });
  const before = new Map([['x', snap('x', 1, 1500)], ['y', snap('y', 2, 1500)], ['z', snap('z', 3, 1500)]]);
  const after = new Map([['x', snap('x', 1, 9000)], ['z', snap('z', 7, 1500)], ['w', snap('w', 8, 1500)]]);
  const changes = diffInterfaces(before, after).map((c) => [c.type, c.name, c.type === 'CHANGED' ? c.fields : null]);
  assert.equal(changes, [['CHANGED', 'x', ['mtu']], ['REMOVED', 'z', null], ['ADDED', 'z', null], ['ADDED', 'w', null], ['REMOVED', 'y', null]]);
  assert.equal(diffInterfaces(after, after), []);
});

test('the watcher sees an interface appear, change and vanish', async () => {
  if (process.getuid?.() !== 0) {
    console.log('  skipped: creating interfaces needs root (run the suite as root to test the watcher)');
    return;
  }
  const changes: InterfaceChange[] = [];
  const watcher = new InterfaceWatcher({ intervalMs: 100, include: (s) => s.name === A || s.name === B, onChanges: (c) => changes.push(...c) });
  await watcher.start();
  let kind: string | null = null;
  try {
    kind = await createLink();
    if (kind === null) {
      console.log('  skipped: `ip link add` can make neither a veth pair nor a dummy interface here');
      return;
    }
    const added = await until(() => changes.find((c) => c.type === 'ADDED' && c.name === A), 'ADDED', 15_000);
    assert.is(added.type === 'ADDED' && added.snapshot.state.link_state, 'LINK_STATE_DOWN');
    if (kind === 'veth') await until(() => changes.find((c) => c.type === 'ADDED' && c.name === B), 'ADDED peer', 15_000);

    assert.ok((await ip('link', 'set', A, 'mtu', '1400')).ok);
    const mtu = await until(() => changes.find((c) => c.type === 'CHANGED' && c.name === A && c.fields.includes('mtu')), 'CHANGED mtu', 15_000);
    assert.is(mtu.type === 'CHANGED' && mtu.snapshot.state.mtu, 1400);

    // The interface is still down: its IPv4 address comes from iproute2, not getifaddrs.
    assert.ok((await ip('addr', 'add', '10.213.77.1/24', 'dev', A)).ok);
    const addr = await until(() => changes.find((c) => c.type === 'CHANGED' && c.name === A && c.fields.includes('aliases')), 'CHANGED aliases', 15_000);
    assert.ok(addr.type === 'CHANGED' && addr.snapshot.state.aliases.some((a) => a.type === 'INET' && a.address === '10.213.77.1' && a.netmask === 24), JSON.stringify(addr));

    assert.ok((await ip('link', 'set', A, 'up')).ok);
    if (kind === 'veth') assert.ok((await ip('link', 'set', B, 'up')).ok);
    const up = await until(() => changes.find((c) => c.type === 'CHANGED' && c.name === A && c.snapshot.state.flags.includes('UP')), 'CHANGED up', 15_000);
    assert.ok(up.type === 'CHANGED' && up.fields.includes('flags'));
    if (kind === 'veth') {
      const running = await until(() => changes.find((c) => c.type === 'CHANGED' && c.name === A && c.snapshot.state.link_state === 'LINK_STATE_UP'), 'LINK_STATE_UP', 15_000);
      // Running now: the address comes from getifaddrs, with its broadcast address.
      assert.ok(running.type === 'CHANGED');
      const now = watcher.current().find((s) => s.name === A)!;
      assert.ok(now.state.aliases.some((a) => a.type === 'INET' && a.address === '10.213.77.1' && a.netmask === 24), JSON.stringify(now.state.aliases));
      assert.ok(now.state.flags.includes('RUNNING'));
    }

    // Deleted and created again under the same name: a new interface, read afresh (the files
    // kept open for the old one must not answer for it).
    const oldIndex = watcher.current().find((s) => s.name === A)!.ifindex;
    let mark = changes.length;
    assert.ok((await ip('link', 'del', A)).ok);
    assert.ok((await createLink()) !== null);
    const again = await until(() => changes.slice(mark).find((c) => c.type === 'ADDED' && c.name === A), 'ADDED again', 15_000);
    assert.ok(again.type === 'ADDED' && again.snapshot.ifindex !== oldIndex && again.snapshot.state.mtu !== 1400, JSON.stringify(again));
    assert.ok(changes.slice(mark).some((c) => c.type === 'REMOVED' && c.name === A));

    mark = changes.length;
    assert.ok((await ip('link', 'del', A)).ok);
    await until(() => changes.slice(mark).find((c) => c.type === 'REMOVED' && c.name === A), 'REMOVED', 15_000);
    if (kind === 'veth') await until(() => changes.slice(mark).find((c) => c.type === 'REMOVED' && c.name === B), 'REMOVED peer', 15_000);
    assert.not.ok(watcher.current().some((s) => s.name === A || s.name === B));
  } finally {
    await watcher.stop();
    if (kind !== null) await ip('link', 'del', A);
  }
  // Stopped: an interface that appears now is not reported, though a running watcher with the
  // same interval sees it (so the stopped one had its chances).
  const count = changes.length;
  const witness: InterfaceChange[] = [];
  const second = new InterfaceWatcher({ intervalMs: 100, include: (s) => s.name === A, onChanges: (c) => witness.push(...c) });
  await second.start();
  try {
    if ((await createLink()) !== null) {
      await until(() => witness.some((c) => c.type === 'ADDED' && c.name === A), 'a running watcher to see the new interface', 15_000);
      await ip('link', 'del', A);
    }
  } finally {
    await second.stop();
  }
  assert.is(changes.length, count, 'nothing is reported after stop');
});

test.run();
