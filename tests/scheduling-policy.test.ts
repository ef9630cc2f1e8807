// Overlap decisions for each policy, and the engine's caps (daemon/jobs/admission.ts): which waiting
// jobs may start under a global cap and per-method caps, and the reason the others wait.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Admission, type CapLimits } from '../daemon/jobs/admission.js';
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

/** An Admission with `running` jobs counted, and a record of what it told the jobs that wait. */
function gate(limits: CapLimits, running: Array<[number, string]>) {
  const a = new Admission(limits);
  const started: number[] = [];
  const reasons = new Map<number, string>();
  const submit = (id: number, method = 'cronjob.run', exempt = false) =>
    a.admit({ id, method, start: () => started.push(id), describe: (r) => (r === '' ? reasons.delete(id) : reasons.set(id, r)) }, exempt) && started.push(id);
  for (const [id, m] of running) submit(id, m);
  started.length = 0;
  return { a, started, reasons, submit };
}

test('caps: a global cap starts waiting jobs first come first served and says who is next', () => {
  const g = gate({ global: 3, perMethod: {} }, [[1, 'cronjob.run']]);
  for (const id of [2, 3, 4, 5]) g.submit(id);
  assert.equal(g.started, [2, 3]);
  assert.equal([...g.reasons], [
    [4, 'Waiting: the limit of 3 running jobs is reached (3 running); next'],
    [5, 'Waiting: the limit of 3 running jobs is reached (3 running); 2nd in line'],
  ]);
  g.a.release('cronjob.run');
  assert.equal(g.started, [2, 3, 4]);
  assert.equal([...g.reasons], [[5, 'Waiting: the limit of 3 running jobs is reached (3 running); next']], 'the started one is told nothing more; the next moves up');
  assert.is(g.a.remove(5), true, 'an aborted waiting job leaves the line');
  g.a.release('cronjob.run');
  assert.equal(g.started, [2, 3, 4]);
  const free = gate({ global: null, perMethod: {} }, []);
  free.submit(1);
  free.submit(2);
  assert.equal(free.started, [1, 2]);
});

test('caps: a per-method cap holds back only its method; others pass it while the global cap allows', () => {
  const g = gate({ global: 4, perMethod: { 'cronjob.run': 2, 'pool.scrub': 1 } }, [[1, 'cronjob.run'], [2, 'pool.scrub']]);
  g.submit(3);
  g.submit(4);
  g.submit(5, 'pool.scrub');
  g.submit(6, 'other');
  g.submit(7, 'other');
  g.submit(8);
  assert.equal(g.started, [3, 6]);
  // Four run: the global cap holds everyone now.
  assert.equal([...g.reasons].sort(([x], [y]) => x - y), [
    [4, 'Waiting: the limit of 4 running jobs is reached (4 running); next'],
    [5, 'Waiting: the limit of 4 running jobs is reached (4 running); 2nd in line'],
    [7, 'Waiting: the limit of 4 running jobs is reached (4 running); 3rd in line'],
    [8, 'Waiting: the limit of 4 running jobs is reached (4 running); 4th in line'],
  ]);
  // Job 6 ends: 4, 5 and 8 are held by their methods' caps, so 7 passes them.
  g.a.release('other');
  assert.equal(g.started, [3, 6, 7]);
  assert.equal([...g.reasons].sort(([x], [y]) => x - y), [
    [4, 'Waiting: the limit of 2 running cronjob.run jobs is reached (2 running); next'],
    [5, 'Waiting: the limit of 1 running pool.scrub jobs is reached (1 running); next'],
    [8, 'Waiting: the limit of 4 running jobs is reached (4 running); next'],
  ]);
  g.submit(9, 'other', true);
  assert.equal(g.started, [3, 6, 7, 9], 'a job started by a running job is never held');
  assert.is(g.a.running, 5);
});

test('caps: 200 submitted jobs under a cap of 8 start at most 8 at any time, in order, all eventually', () => {
  const limits = { global: 8, perMethod: { 'cronjob.run': 5 } };
  const a = new Admission(limits);
  const method = (id: number) => ((id - 1) % 3 === 0 ? 'other' : 'cronjob.run');
  const started: number[] = [];
  let active: number[] = [];
  const reasons = new Map<number, string>();
  const check = () => {
    assert.ok(active.length <= 8, 'global cap');
    assert.ok(active.filter((id) => method(id) === 'cronjob.run').length <= 5, 'method cap');
  };
  for (let id = 1; id <= 200; id++) {
    const w = { id, method: method(id), start: () => (started.push(id), active.push(id), check()), describe: (r: string) => (r === '' ? reasons.delete(id) : reasons.set(id, r)) };
    if (a.admit(w, false)) w.start();
  }
  assert.is(a.waiting, 200 - active.length);
  assert.is(reasons.size, a.waiting, 'every waiting job has a reason');
  assert.match(reasons.get(200)!, /more than 100 in line$/);
  for (let rounds = 0; active.length > 0; rounds++) {
    // The oldest running job ends.
    const [done, ...rest] = active;
    active = rest;
    a.release(method(done!));
    assert.is(reasons.size, a.waiting);
    assert.ok(rounds < 1000);
  }
  assert.is(started.length, 200);
  const others = started.filter((id) => method(id) === 'other');
  assert.equal(others, [...others].sort((x, y) => x - y), 'first come first served within a method');
});

test.run();
