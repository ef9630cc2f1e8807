// Chains: which jobs an outcome starts, cycle detection with the cycle's path, and update-time
// validation with attribute paths into a real ValidationErrors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRNO, ValidationErrors } from '../daemon/errors.js';
import { chainReferrers, chainTargets, findCycle, validateChains, type ChainEdges } from '../methods/scheduling/chains.js';

const E = (on_success: number[] = [], on_failure: number[] = [], on_finish: number[] = []): ChainEdges => ({ on_success, on_failure, on_finish });

test('an outcome starts its list then on_finish, each once; an abort starts only on_finish', () => {
  const e = E([2, 3], [4], [3, 5]);
  assert.equal(chainTargets(e, 'SUCCESS'), [2, 3, 5]);
  assert.equal(chainTargets(e, 'FAILED'), [4, 3, 5]);
  assert.equal(chainTargets(e, 'ABORTED'), [3, 5]);
  assert.equal(chainTargets(E(), 'SUCCESS'), []);
});

test('cycles through any kind of edge are found, with their path', () => {
  const g = new Map<number, ChainEdges>([
    [1, E([2])],
    [2, E([], [3])],
    [3, E([], [], [1])],
    [4, E([1])],
    [5, E([6])],
    [6, E()],
  ]);
  assert.equal(findCycle(g, 1), { cycle: [1, 2, 3, 1], path: [1, 2, 3, 1] });
  assert.equal(findCycle(g, 4), { cycle: [1, 2, 3, 1], path: [4, 1, 2, 3, 1] });
  assert.is(findCycle(g, 5), null);
  // A diamond is not a cycle.
  const diamond = new Map<number, ChainEdges>([[1, E([2, 3])], [2, E([4])], [3, E([4])], [4, E()]]);
  assert.is(findCycle(diamond, 1), null);
  // A chain of 100,000 jobs does not overflow the stack.
  const long = new Map<number, ChainEdges>();
  for (let i = 1; i < 100_000; i++) long.set(i, E([i + 1]));
  long.set(100_000, E([]));
  assert.is(findCycle(long, 1), null);
  long.set(100_000, E([50_000]));
  assert.equal(findCycle(long, 1)!.cycle.length, 50_002);
});

function check(id: number | null, edges: ChainEdges, graph: Map<number, ChainEdges>): Array<[string | null, string, number]> {
  const e = new ValidationErrors();
  validateChains(id, edges, graph, 'cron_job_update', e);
  return e.errors;
}

test('validation: unknown targets (ENOENT) and self-starts named by path; a cycle named at the edge that closes it', () => {
  const g = new Map<number, ChainEdges>([[1, E([2])], [2, E([3])], [3, E()], [4, E()]]);
  assert.equal(check(3, E([4], [9], [3]), g), [
    ['cron_job_update.on_failure.0', 'Cron job 9 does not exist', ERRNO.ENOENT],
    ['cron_job_update.on_finish.0', 'A cron job cannot start itself', ERRNO.EINVAL],
  ]);
  assert.equal(check(3, E([4], [], [1]), g), [['cron_job_update.on_finish.0', 'Chains would form a cycle: 3 -> 1 -> 2 -> 3', ERRNO.EINVAL]]);
  assert.equal(check(3, E([4]), g), []);
  assert.equal(check(null, E([1, 2, 3]), g), [], 'on create nothing can lead back to the new job');
  // A cycle among others that this job would lead into.
  const bad = new Map<number, ChainEdges>([[1, E([2])], [2, E([1])], [3, E()]]);
  assert.equal(check(3, E([], [1]), bad), [['cron_job_update.on_failure.0', 'Chains would form a cycle: 1 -> 2 -> 1 (reached by 3 -> 1)', ERRNO.EINVAL]]);
});

test('referrers: the jobs whose chains name a job (for delete)', () => {
  const g = new Map<number, ChainEdges>([[1, E([3])], [2, E([], [], [3])], [3, E([1])], [4, E()]]);
  assert.equal(chainReferrers(g, 3), [1, 2]);
  assert.equal(chainReferrers(g, 4), []);
});

test.run();
