// The clocks the scheduling layer sleeps on, and the heap the scheduler keeps its jobs in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../methods/scheduling/clock.js';
import { KeyedHeap } from '../methods/scheduling/heap.js';
import { VirtualClock } from '../methods/scheduling/virtual-clock.js';
import { until } from './helpers/until.js';

test('virtual clock: timers fire in due order, ties in the order set, with now() at their due time', () => {
  const clock = new VirtualClock(1000);
  const seen: string[] = [];
  clock.at(3000, () => seen.push(`c@${clock.now()}`));
  clock.after(500, () => seen.push(`a@${clock.now()}`));
  clock.at(3000, () => seen.push(`d@${clock.now()}`));
  clock.at(2000, () => seen.push(`b@${clock.now()}`));
  assert.is(clock.pending, 4);
  assert.is(clock.nextAt(), 1500);
  assert.is(clock.advance(1500), 2, 'two were due by 2500');
  assert.equal(seen, ['a@1500', 'b@2000']);
  assert.is(clock.now(), 2500);
  clock.advanceTo(new Date(3000));
  assert.equal(seen, ['a@1500', 'b@2000', 'c@3000', 'd@3000']);
  assert.is(clock.pending, 0);
  assert.is(clock.nextAt(), null);
});

test('virtual clock: timers set by timers fire within the same advance; cancel works before and is harmless after', () => {
  const clock = new VirtualClock(0);
  const seen: number[] = [];
  const tick = () => {
    seen.push(clock.now());
    if (seen.length < 5) clock.after(100, tick);
  };
  clock.after(100, tick);
  const cancelled = clock.at(250, () => seen.push(-1));
  cancelled.cancel();
  clock.advance(10_000);
  assert.equal(seen, [100, 200, 300, 400, 500]);
  cancelled.cancel();
  // A timer set in the past fires at the current time; the clock never runs backwards.
  clock.at(5, () => seen.push(clock.now()));
  clock.advance(0);
  assert.equal(seen.at(-1), 10_000);
  assert.throws(() => clock.advanceTo(9_999), /does not go back/);
  assert.throws(() => clock.advance(-1), /duration >= 0/);
});

test('virtual clock: a timer that keeps re-arming at now is stopped, not looped forever', () => {
  const clock = new VirtualClock(0);
  const again = (): void => void clock.at(clock.now(), again);
  clock.at(1, again);
  assert.throws(() => clock.advance(10), /keeps re-arming itself/);
});

test('virtual clock: jumpTo moves the wall clock without firing (a host that was off)', () => {
  const clock = new VirtualClock(0);
  let fired = 0;
  clock.at(100, () => fired++);
  clock.jumpTo(1_000_000);
  assert.is(fired, 0);
  clock.advance(0);
  assert.is(fired, 1);
});

test('system clock: fires after the wall time, cancel stops it, now() is Date.now()', async () => {
  const clock = new SystemClock();
  const t0 = Date.now();
  assert.ok(Math.abs(clock.now() - t0) < 1000);
  const fired: number[] = [];
  const cancelled = clock.after(5, () => fired.push(-1));
  cancelled.cancel();
  const at = Date.now() + 20;
  clock.at(at, () => fired.push(Date.now()));
  clock.at(Date.now() - 1000, () => fired.push(0));
  // The timers are unref'd: the polling keeps the loop alive while waiting for them.
  await until(() => fired.length >= 2, 'both timers', 10_000, 5);
  assert.is(fired.length, 2);
  assert.is(fired[0], 0, 'a time in the past fires at once');
  assert.ok(fired[1]! >= at, 'never before its wall time');
  assert.not.ok(fired.includes(-1));
});

test('keyed heap: pops in order through random sets, updates and deletes', () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const heap = new KeyedHeap<number, number>((a, b) => a < b);
  const model = new Map<number, number>();
  for (let i = 0; i < 5000; i++) {
    const key = Math.floor(rand() * 500);
    const op = rand();
    if (op < 0.6) {
      const v = Math.floor(rand() * 1e6);
      heap.set(key, v);
      model.set(key, v);
    } else if (op < 0.8) {
      assert.is(heap.delete(key), model.delete(key));
    } else if (model.size > 0) {
      const top = heap.pop()!;
      assert.is(top.value, Math.min(...model.values()));
      assert.is(model.get(top.key), top.value);
      model.delete(top.key);
    }
    assert.is(heap.size, model.size);
  }
  const rest: number[] = [];
  for (let e = heap.pop(); e !== undefined; e = heap.pop()) rest.push(e.value);
  assert.equal(rest, [...model.values()].sort((a, b) => a - b));
});

test.run();
