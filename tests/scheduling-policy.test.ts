// Overlap decisions for each policy, and the concurrency gate: which waiting jobs may start under
// a global cap and per-method caps, and the reason the others wait.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planStarts, type GateJob } from '../methods/scheduling/gate.js';
import { decideOverlap, type ActiveRun } from '../methods/scheduling/overlap.js';

const running = (id: number): ActiveRun => ({ id, state: 'RUNNING' });
const waiting = (id: number): ActiveRun => ({ id, state: 'WAITING' });

test('every policy starts a run when none is active', () => {
  for (const p of ['SKIP', 'QUEUE_ONE', 'CANCEL_PREVIOUS', 'ALLOW'] as const) assert.equal(decideOverlap(p, 1, []), { action: 'START' }, p);
});

test('SKIP: an active run (waiting or running) means this one is dropped, with the job named', () => {
  const d = decideOverlap('SKIP', 5, [running(41)]);
  assert.equal(d, { action: 'SKIP', reason: 'skipped: an earlier run has not ended: job 41 (RUNNING)' });
  assert.is(decideOverlap('SKIP', 1, [waiting(42)]).action, 'SKIP');
});

test('QUEUE_ONE: one waits behind the running run; a second is dropped', () => {
  assert.equal(decideOverlap('QUEUE_ONE', 1, [running(7)]), { action: 'QUEUE', reason: 'queued behind job 7 (RUNNING)' });
  assert.equal(decideOverlap('QUEUE_ONE', 1, [running(7), waiting(8)]), { action: 'SKIP', reason: 'skipped: a run is already queued: job 8 (WAITING)' });
  assert.is(decideOverlap('QUEUE_ONE', 1, [waiting(8)]).action, 'SKIP');
});

test('CANCEL_PREVIOUS: every active run is aborted, then the new one starts', () => {
  assert.equal(decideOverlap('CANCEL_PREVIOUS', 1, [running(3), waiting(4)]), { action: 'CANCEL_AND_START', cancel: [3, 4], reason: 'replaces job 3 (RUNNING), job 4 (WAITING)' });
});

test('ALLOW: up to max_concurrent runs at once, then dropped', () => {
  assert.equal(decideOverlap('ALLOW', 3, [running(1), running(2)]), { action: 'START' });
  const d = decideOverlap('ALLOW', 3, [running(1), running(2), waiting(3)]);
  assert.is(d.action, 'SKIP');
  assert.match((d as { reason: string }).reason, /max_concurrent \(3\)/);
  // A nonsensical cap behaves as 1, never as "unlimited".
  assert.is(decideOverlap('ALLOW', 0, [running(1)]).action, 'SKIP');
});

const job = (id: number, method = 'cronjob.run'): GateJob => ({ id, method });

test('gate: a global cap starts waiting jobs first come first served and says who is next', () => {
  const plan = planStarts({ global: 3, perMethod: {} }, [job(1)], [job(2), job(3), job(4), job(5)]);
  assert.equal(plan.start, [2, 3]);
  assert.equal(plan.waiting, [
    { id: 4, reason: 'Waiting: the limit of 3 running jobs is reached (3 running); next' },
    { id: 5, reason: 'Waiting: the limit of 3 running jobs is reached (3 running); 2nd in line' },
  ]);
  assert.equal(planStarts({ global: null, perMethod: {} }, [], [job(1), job(2)]), { start: [1, 2], waiting: [] });
});

test('gate: a per-method cap holds back only its method; others pass it while the global cap allows', () => {
  const plan = planStarts({ global: 4, perMethod: { 'cronjob.run': 2, 'pool.scrub': 1 } }, [job(1), job(2, 'pool.scrub')], [job(3), job(4), job(5, 'pool.scrub'), job(6, 'other'), job(7, 'other'), job(8)]);
  assert.equal(plan.start, [3, 6]);
  assert.equal(plan.waiting, [
    { id: 4, reason: 'Waiting: the limit of 2 running cronjob.run jobs is reached (2 running); next' },
    { id: 5, reason: 'Waiting: the limit of 1 running pool.scrub jobs is reached (1 running); next' },
    { id: 7, reason: 'Waiting: the limit of 4 running jobs is reached (4 running); next' },
    { id: 8, reason: 'Waiting: the limit of 4 running jobs is reached (4 running); 2nd in line' },
  ]);
});

test('gate: 200 submitted jobs under a cap of 8 start at most 8 at any time, in order, all eventually', () => {
  const limits = { global: 8, perMethod: { 'cronjob.run': 5 } };
  let queue = Array.from({ length: 200 }, (_, i) => job(i + 1, i % 3 === 0 ? 'other' : 'cronjob.run'));
  let active: GateJob[] = [];
  const started: number[] = [];
  let rounds = 0;
  while (queue.length > 0 || active.length > 0) {
    const plan = planStarts(limits, active, queue);
    const now = queue.filter((j) => plan.start.includes(j.id));
    started.push(...now.map((j) => j.id));
    active = [...active, ...now];
    queue = queue.filter((j) => !plan.start.includes(j.id));
    assert.ok(active.length <= 8, 'global cap');
    assert.ok(active.filter((j) => j.method === 'cronjob.run').length <= 5, 'method cap');
    assert.is(plan.waiting.length, queue.length, 'every waiting job has a reason');
    // The oldest running job ends.
    active = active.slice(1);
    assert.ok(++rounds < 1000);
  }
  assert.is(started.length, 200);
  const others = started.filter((id) => (id - 1) % 3 === 0);
  assert.equal(others, [...others].sort((a, b) => a - b), 'first come first served within a method');
});

test.run();
