// Webhook delivery throughput (issue 18): signed deliveries per second from the durable queue to
// a local receiver, persistence on (each delivery is in level before its first try, and its
// removal and history entry are written after). 20,000 deliveries to one webhook (strictly one
// at a time, in order), then spread over 8 webhooks on the same receiver. The receiver runs in
// its own process and checks every signature and the order per webhook.
// Run alone: `npm run build && node dist/bench/delivery.js`; `npm run bench` runs it too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { DeliveryQueue, HttpSender, webhookTransport, type DeliveryDb } from '../methods/delivery/index.js';
import { pinningAvailable, startNode, stop, waitForLine } from './spawn.js';

const receiverJs = fileURLToPath(new URL('./delivery-receiver.js', import.meta.url));
const SECRET = 'bench-webhook-secret-0123456789';
const TARGET_PER_SECOND = 2_000;
const DELIVERIES = 20_000;
/** Enqueues in flight at once while filling the queue. */
const ENQUEUE_WINDOW = 500;
/** The producer waits while a webhook has this many waiting (the queue's own cap is 10,000). */
const BACKLOG = 4_000;
const SCENARIO_LIMIT_MS = 120_000;

export interface DeliveryScenarioResult {
  webhooks: number;
  deliveries: number;
  deliveriesPerSecond: number;
  received: number;
  badSignatures: number;
  outOfOrder: number;
}

/** A job record as a webhook would carry it (arguments already redacted). */
function job(id: number): Record<string, unknown> {
  return {
    id, method: 'cronjob.run', arguments: [3, '********'], transient: false, description: null, abortable: true,
    logs_path: `/var/lib/midship/jobs/${id}.log`, logs_excerpt: 'rsync: 1200 files\n', progress: { percent: 100, description: 'done', extra: null },
    result: null, error: null, exception: null, exc_info: null, state: 'SUCCESS',
    time_started: { $date: 1_750_000_000_000 + id }, time_finished: { $date: 1_750_000_001_000 + id }, credentials: { type: 'UNIX_SOCKET', data: { username: 'root' } },
  };
}

async function stats(port: number): Promise<{ received: number; bad: number; outOfOrder: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/stats`);
  return (await res.json()) as { received: number; bad: number; outOfOrder: number };
}

async function scenario(port: number, webhooks: number, dir: string): Promise<DeliveryScenarioResult> {
  const db = new ClassicLevel<string, unknown>(join(dir, `db-${webhooks}`), { valueEncoding: 'json' });
  await db.open();
  const http = new HttpSender();
  // Cast as the daemon's sublevel() casts: TypeScript does not always relate ClassicLevel's
  // sublevels to the abstract-level type the queue is written against (their hooks are invariant).
  const sub = db.sublevel<string, unknown>('delivery', { valueEncoding: 'json' }) as unknown as DeliveryDb;
  const q = new DeliveryQueue({ db: sub, onError: (e) => { throw e; } });
  await q.open();
  const before = await stats(port);
  const ids = Array.from({ length: webhooks }, (_, k) => `webhook:${webhooks}-${k}`);
  for (const id of ids) q.setDestination(id, webhookTransport({ url: `http://127.0.0.1:${port}/${id}`, secret: SECRET }, http));
  try {
    const started = performance.now();
    const deadline = started + SCENARIO_LIMIT_MS;
    let window: Promise<string>[] = [];
    for (let i = 0; i < DELIVERIES; i++) {
      // Per webhook, ids only grow: the receiver checks the order with them.
      window.push(q.enqueue(ids[i % webhooks]!, 'job.SUCCESS', { job: job(i + 1) }));
      if (window.length === ENQUEUE_WINDOW) {
        await Promise.all(window);
        window = [];
        while (ids.some((id) => q.status(id)!.queued >= BACKLOG)) {
          if (performance.now() > deadline) throw new Error(`deliveries not done within ${SCENARIO_LIMIT_MS / 1000} s`);
          await new Promise((r) => setTimeout(r, 1));
        }
      }
    }
    await Promise.all(window);
    while (ids.some((id) => q.status(id)!.queued > 0)) {
      if (performance.now() > deadline) throw new Error(`deliveries not done within ${SCENARIO_LIMIT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await q.flush();
    const seconds = (performance.now() - started) / 1000;
    const after = await stats(port);
    return {
      webhooks,
      deliveries: DELIVERIES,
      deliveriesPerSecond: DELIVERIES / seconds,
      received: after.received - before.received,
      badSignatures: after.bad - before.bad,
      outOfOrder: after.outOfOrder - before.outOfOrder,
    };
  } finally {
    await q.close();
    await http.close();
    await db.close();
  }
}

export async function benchDelivery(): Promise<DeliveryScenarioResult[]> {
  const pin = pinningAvailable();
  const receiver = startNode(receiverJs, [SECRET], pin.ok ? 1 : null);
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-delivery-'));
  try {
    const line = await waitForLine(receiver, 'stdout', (l) => l.startsWith('listening '), 10_000);
    const port = Number(line.split(' ')[1]);
    const out: DeliveryScenarioResult[] = [];
    for (const webhooks of [1, 8]) out.push(await scenario(port, webhooks, dir));
    return out;
  } finally {
    await stop(receiver);
    await rm(dir, { recursive: true, force: true });
  }
}

export function deliveryLines(results: DeliveryScenarioResult[]): string {
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');
  return results.map((r) => {
    const pass = r.deliveriesPerSecond >= TARGET_PER_SECOND && r.badSignatures === 0 && r.outOfOrder === 0 && r.received >= r.deliveries;
    const checks = `received ${r.received}, bad signatures ${r.badSignatures}, out of order ${r.outOfOrder}`;
    return `  ${pass ? 'PASS' : 'MISS'}  ${String(r.webhooks).padStart(2)} webhook(s): ${rate(r.deliveriesPerSecond).padStart(6)} deliveries/s (target ${rate(TARGET_PER_SECOND)}; ratio ${(r.deliveriesPerSecond / TARGET_PER_SECOND).toFixed(2)}); ${checks}`;
  }).join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`Webhook delivery: ${DELIVERIES.toLocaleString('en-US')} signed deliveries to a local receiver, persistence on\n`);
  benchDelivery()
    .then((r) => console.log(deliveryLines(r)))
    .catch((err: unknown) => {
      console.error(`delivery bench failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
}
