// The two small helpers the engine and modules share: Slots (one at a time, or n at a time, in
// order) and FixedWindows (per-key counts over time windows, memory bounded).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Slots } from '../daemon/slots.js';
import { FixedWindows } from '../daemon/windows.js';

test('Slots(1) runs tasks one at a time in the order they were started; a failure frees the slot', async () => {
  const slots = new Slots(1);
  const events: string[] = [];
  const task = (name: string, fail = false) => async () => {
    events.push(`start ${name}`);
    await new Promise((r) => setImmediate(r));
    events.push(`end ${name}`);
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([slots.run(task('a')), slots.run(task('b', true)), slots.run(task('c'))]);
  assert.equal(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.equal(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.ok(slots.idle);
});

test('run never starts a task inside the call, even with the slot free (work of the same tick can join it)', async () => {
  const slots = new Slots(1);
  let started = false;
  const done = slots.run(() => (started = true));
  assert.not.ok(started, 'not started inline');
  await done;
  assert.ok(started);
  const order: number[] = [];
  await slots.drained();
  await Promise.all([slots.run(() => order.push(1)), slots.run(() => order.push(2))]);
  assert.equal(order, [1, 2]);
});

test('Slots(n): at most n at once, the rest first come first served; acquire() is synchronous when a slot is free', async () => {
  const slots = new Slots(2);
  assert.is(slots.acquire(), null);
  assert.is(slots.acquire(), null);
  const served: number[] = [];
  const third = slots.acquire()!.then(() => served.push(3));
  const fourth = slots.acquire()!.then(() => served.push(4));
  slots.release();
  await third;
  assert.equal(served, [3], 'a freed slot goes to the first waiter, not to anyone arriving later');
  assert.is(slots.acquire() instanceof Promise, true, 'still full: the freed slot was handed over');
  slots.release();
  await fourth;
  assert.equal(served, [3, 4]);
});

test('FixedWindows: a window per key, a new one once it ended, and never more keys than allowed', () => {
  const w = new FixedWindows<{ start: number; count: number; busy: boolean }>({
    windowMs: 1000,
    maxKeys: 3,
    create: (start) => ({ start, count: 0, busy: false }),
    keep: (x) => x.busy,
  });
  w.open('a', 0).count++;
  w.open('a', 500).count++;
  assert.is(w.get('a', 999)!.count, 2);
  assert.is(w.get('a', 1000), undefined, 'ended');
  assert.is(w.open('a', 1000).count, 0, 'a new window');
  w.open('b', 1000).busy = true;
  w.open('c', 1000);
  // Full at 2,500: the ended windows go, except one still needed; then the new key fits.
  w.open('d', 2500);
  assert.ok(w.get('d', 2500));
  assert.is(w.get('b', 1999)?.busy, true, 'kept: its owner still needs it');
  // A flood of fresh keys evicts the oldest, whatever their state.
  for (const k of ['e', 'f', 'g', 'h']) w.open(k, 2600);
  assert.equal(['e', 'f', 'g', 'h'].filter((k) => w.get(k, 2600) !== undefined), ['f', 'g', 'h']);
});

test.run();
