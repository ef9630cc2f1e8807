// Alerts and job webhooks through the daemon (issue 18): signed webhook deliveries per second from
// the daemon's durable queue to a local receiver, persistence on (each delivery was stored before
// its first try, and each try is recorded); and the job throughput of the job bench with one webhook on FAILED configured against the
// same without it, run alternately so drift on a shared machine hits both alike. The daemon runs
// pinned to one core; the receiver (bench/delivery-receiver.ts: it checks every signature and the
// order) and the load client share the other.
// Run alone: `npm run build && node dist/bench/alerts.js`; `npm run bench` runs it as `alerts`.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rpc, startDaemon, throughput } from './jobs.js';
import { startNode, stop, waitForLine } from './spawn.js';

const receiverJs = fileURLToPath(new URL('./delivery-receiver.js', import.meta.url));
const SECRET = 'bench-webhook-secret-0123456789';
const DELIVERY_TARGET = 2_000;
/** The job throughput with a FAILED webhook may be this much below the one without. */
const OVERHEAD_TARGET = 0.05;
/** With the 500 warm-up jobs, under the 10,000 deliveries a webhook may have waiting. */
const DELIVERIES = 9_000;
const JOBS = 20_000;
const ROUNDS = 3;
const DRAIN_LIMIT_MS = 120_000;

export interface AlertsBenchResult {
  deliveries: number;
  deliveriesPerSecond: number;
  /** Jobs per second while each also queued a delivery. */
  jobsPerSecondQueueing: number;
  received: number;
  badSignatures: number;
  /** Deliveries whose job id was lower than the one before (jobs end concurrently, but each is queued as it ends). */
  outOfOrder: number;
  jobs: number;
  /** Per round, jobs/s without a webhook and with one on FAILED. */
  without: number[];
  withFailedHook: number[];
}

async function stats(port: number): Promise<{ received: number; bad: number; outOfOrder: number }> {
  return (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { received: number; bad: number; outOfOrder: number };
}

async function withDaemon<T>(dir: string, core: number | null, fn: (rpc: Rpc, socket: string) => Promise<T>): Promise<T> {
  const d = await startDaemon(dir, core, ['--fsync']);
  const socket = join(dir, 'middlewared.sock');
  const rpc = await Rpc.open(socket);
  try {
    return await fn(rpc, socket);
  } finally {
    rpc.close();
    await stop(d.child);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchAlerts(serverCore: number | null, clientCore: number | null): Promise<AlertsBenchResult> {
  if (clientCore !== null) spawnSync('taskset', ['-pc', String(clientCore), String(process.pid)], { stdio: 'ignore' });
  const receiver = startNode(receiverJs, [SECRET], clientCore);
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-alerts-'));
  try {
    const port = Number((await waitForLine(receiver, 'stdout', (l) => l.startsWith('listening '), 10_000)).split(' ')[1]);

    // Every test.noop that ends queues one signed delivery. The webhook first points at a closed
    // port, so they all wait in level (the first one for its retry); then it is pointed at the
    // receiver and told to retry now, and the clock runs until the last delivery arrived: the
    // queue's own pace, not the jobs'.
    // Like the delivery section's queue, the daemon is not pinned here: its level writes run on
    // libuv's threads, which then get the other core instead of queueing behind its main thread.
    const delivery = await withDaemon(join(dir, 'deliver'), null, async (rpc, socket) => {
      const hook = (await rpc.call('webhook.create', [{ name: 'bench', url: 'http://127.0.0.1:1/hook', secret: SECRET, methods: ['test.noop'], states: ['SUCCESS'] }])) as { id: number };
      // throughput() warms up with 500 jobs of its own first: those are delivered too.
      const expected = DELIVERIES + 500;
      const jobsPerSecond = await throughput(socket, DELIVERIES);
      const queued = async () => ((await rpc.call('webhook.get_instance', [hook.id])) as { queue: { queued: number } }).queue.queued;
      const waitFrom = performance.now();
      while ((await queued()) < expected) {
        if (performance.now() - waitFrom > DRAIN_LIMIT_MS) throw new Error(`only ${await queued()} of ${expected} deliveries queued`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const before = await stats(port);
      const started = performance.now();
      await rpc.call('webhook.update', [hook.id, { url: `http://127.0.0.1:${port}/hook` }]);
      await rpc.call('webhook.retry_now', [hook.id]);
      for (;;) {
        const s = await stats(port);
        if (s.received - before.received >= expected) break;
        if (performance.now() - started > DRAIN_LIMIT_MS) throw new Error(`only ${s.received - before.received} of ${expected} deliveries within ${DRAIN_LIMIT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const seconds = (performance.now() - started) / 1000;
      const after = await stats(port);
      return {
        deliveriesPerSecond: (after.received - before.received) / seconds, jobsPerSecondQueueing: jobsPerSecond,
        received: after.received - before.received, badSignatures: after.bad - before.bad, outOfOrder: after.outOfOrder - before.outOfOrder,
      };
    });

    // The same job load without a webhook and with one on FAILED (nothing fails: the cost is
    // following the jobs), alternately, each on a fresh data dir.
    const without: number[] = [];
    const withFailedHook: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      without.push(await withDaemon(join(dir, `plain-${round}`), serverCore, (_rpc, socket) => throughput(socket, JOBS)));
      withFailedHook.push(await withDaemon(join(dir, `hook-${round}`), serverCore, async (rpc, socket) => {
        await rpc.call('webhook.create', [{ name: 'failures', url: `http://127.0.0.1:${port}/failed`, secret: SECRET, states: ['FAILED'] }]);
        return throughput(socket, JOBS);
      }));
    }
    return { deliveries: DELIVERIES, ...delivery, jobs: JOBS, without, withFailedHook };
  } finally {
    await stop(receiver);
    await rm(dir, { recursive: true, force: true });
  }
}

export function alertsLines(r: AlertsBenchResult): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const deliveredOk = r.deliveriesPerSecond >= DELIVERY_TARGET && r.badSignatures === 0 && r.received >= r.deliveries;
  const plain = median(r.without);
  const hooked = median(r.withFailedHook);
  const ratio = hooked / plain;
  return [
    `  ${deliveredOk ? 'PASS' : 'MISS'}  webhook deliveries queued by ${n(r.deliveries)} + 500 jobs, drained to the receiver (1 webhook)  ${n(r.deliveriesPerSecond).padStart(6)} deliveries/s   target ${n(DELIVERY_TARGET)} (ratio ${(r.deliveriesPerSecond / DELIVERY_TARGET).toFixed(2)})`,
    `        received ${n(r.received)}, bad signatures ${r.badSignatures}, job ids going backwards ${r.outOfOrder} (jobs end concurrently; order of queueing is tested in tests/webhook.test.ts); jobs while queueing ${n(r.jobsPerSecondQueueing)} jobs/s`,
    `  ${ratio >= 1 - OVERHEAD_TARGET ? 'PASS' : 'MISS'}  job throughput (${n(r.jobs)} jobs, 8 x 16, fsync), median of ${r.without.length}: without webhook ${n(plain)} jobs/s, with one on FAILED ${n(hooked)} jobs/s   ratio ${ratio.toFixed(3)} (target >= ${(1 - OVERHEAD_TARGET).toFixed(2)})`,
    `        rounds without: ${r.without.map(n).join(', ')}; with: ${r.withFailedHook.map(n).join(', ')}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchAlerts(0, 1)
    .then((r) => console.log(alertsLines(r)))
    .catch((err: unknown) => {
      console.error(`alerts bench failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
}
