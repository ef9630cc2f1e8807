// The durable delivery queue against real receivers (node:http) and a real classic-level db in a
// temp dir. Time is a ManualClock: retries a day apart run in milliseconds, and backoff is checked
// from the recorded due times, never measured.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_RETRY_POLICY, DeliveryQueue, DeliveryRefusedError, FieldErrors, HttpSender, ManualClock,
  nominalDelay, retryDelay, verifySignedRequest, webhookTransport,
  type DeliveryAttempt, type DeliveryQueueOptions, type FailingInfo,
} from '../methods/delivery/index.js';
import { HttpReceiver, TempDb, type Reply } from './helpers/delivery.js';
import { until } from './helpers/until.js';

const SECRET = 'job-webhook-secret-0123456789';

interface Harness {
  tdb: TempDb;
  clock: ManualClock;
  http: HttpSender;
  attempts: Array<DeliveryAttempt & { destination: string }>;
  failing: FailingInfo[];
  recovered: string[];
  q: DeliveryQueue;
  /** Closes the queue and the db and opens both again: a restart. */
  restart(extra?: Partial<DeliveryQueueOptions>): Promise<DeliveryQueue>;
  done(): Promise<void>;
}

async function harness(extra: Partial<DeliveryQueueOptions> = {}): Promise<Harness> {
  const tdb = await TempDb.create();
  const clock = new ManualClock();
  const http = new HttpSender({ timeoutMs: 30_000 });
  const h: Harness = {
    tdb, clock, http, attempts: [], failing: [], recovered: [], q: null as unknown as DeliveryQueue,
    async restart(more = {}) {
      await h.q.close();
      await tdb.reopen();
      h.q = make({ ...extra, ...more });
      await h.q.open();
      return h.q;
    },
    async done() {
      await h.q.close();
      await http.close();
      await tdb.destroy();
    },
  };
  const make = (o: Partial<DeliveryQueueOptions>) => new DeliveryQueue({
    db: tdb.sublevel('delivery'),
    clock,
    random: () => 0.5,
    onAttempt: (destination, a) => h.attempts.push({ ...a, destination }),
    onFailing: (info) => h.failing.push(info),
    onRecovered: (d) => h.recovered.push(d),
    onError: (err) => { throw err; },
    ...o,
  });
  h.q = make(extra);
  await h.q.open();
  return h;
}

const hook = (rx: HttpReceiver | string, http: HttpSender) =>
  webhookTransport({ url: typeof rx === 'string' ? rx : rx.url(), secret: SECRET, headers: { authorization: 'Bearer abc' } }, http);

const body = (r: { body: string }) => JSON.parse(r.body) as { event: string; delivery_id: string; timestamp: number; job: { id: number } };

/** A port nothing listens on (a receiver that is down). */
async function downPort(): Promise<number> {
  const r = await HttpReceiver.start();
  const port = r.port;
  await r.close();
  return port;
}

test('a receiver answering 500 twice then 200 gets the delivery three times, same id, valid signatures', async () => {
  const rx = await HttpReceiver.start();
  const h = await harness();
  try {
    rx.reply = (_, i) => ({ status: i < 2 ? 500 : 200, body: i < 2 ? 'boom' : 'thanks' });
    h.q.setDestination('webhook:1', hook(rx, h.http));
    const id = await h.q.enqueue('webhook:1', 'job.FAILED', { job: { id: 7, state: 'FAILED' } });

    await until(() => h.attempts.length === 1 && h.clock.pending().length === 1, 'the first try');
    assert.equal(h.attempts[0]!.status, 'RETRYING');
    assert.equal(h.attempts[0]!.status_code, 500);
    assert.equal(h.attempts[0]!.next_try_at! - h.attempts[0]!.at, 10_000);
    h.clock.advance(10_000);
    await until(() => h.attempts.length === 2 && h.clock.pending().length === 1, 'the second try');
    assert.equal(h.attempts[1]!.next_try_at! - h.attempts[1]!.at, 20_000);
    h.clock.advance(20_000);
    await until(() => h.attempts.length === 3, 'the third try');

    assert.equal(rx.received.length, 3);
    const stamps: number[] = [];
    for (const r of rx.received) {
      const b = body(r);
      assert.equal(b.delivery_id, id);
      assert.equal(r.headers['x-midship-delivery'], id);
      assert.equal(b.event, 'job.FAILED');
      assert.equal(b.job, { id: 7, state: 'FAILED' });
      assert.equal(r.headers.authorization, 'Bearer abc');
      const v = verifySignedRequest({ secret: SECRET, body: r.body, signature: r.headers['x-midship-signature'], timestamp: r.headers['x-midship-timestamp'], nowSeconds: b.timestamp });
      assert.ok(v.ok, v.ok ? '' : v.reason);
      stamps.push(b.timestamp);
    }
    // Each try is signed with its own time: 10 s, then 20 s later.
    assert.equal([stamps[1]! - stamps[0]!, stamps[2]! - stamps[1]!], [10, 20]);

    const history = await h.q.attempts('webhook:1');
    assert.equal(history.map((a) => [a.status, a.status_code, a.try]), [['SUCCESS', 200, 3], ['RETRYING', 500, 2], ['RETRYING', 500, 1]]);
    assert.equal(history[1]!.error, 'HTTP 500: boom');
    assert.ok(history.every((a) => a.delivery_id === id && typeof a.duration_ms === 'number'));
    assert.equal(h.q.status('webhook:1')!.queued, 0);
    assert.equal(h.clock.pending().length, 0);
  } finally {
    await h.done();
    await rx.close();
  }
});

test('a 400 is not retried and the next delivery goes out; 3xx is not followed; 429 waits for Retry-After', async () => {
  const rx = await HttpReceiver.start();
  const h = await harness();
  try {
    rx.reply = (r): Reply => {
      const n = body(r).job.id;
      if (n === 1) return { status: 400, body: 'bad payload' };
      if (n === 2) return { status: 302, headers: { location: 'http://example.invalid/' } };
      if (n === 3 && rx.received.filter((x) => body(x).job.id === 3).length === 1) return { status: 429, headers: { 'retry-after': '120' } };
      return { status: 200 };
    };
    h.q.setDestination('webhook:2', hook(rx, h.http));
    for (const id of [1, 2, 3]) await h.q.enqueue('webhook:2', 'job.SUCCESS', { job: { id } });
    await until(() => h.attempts.length === 3 && h.clock.pending().length === 1, 'three tries');
    assert.equal(h.attempts.map((a) => [a.status, a.status_code]), [['FAILED', 400], ['FAILED', 302], ['RETRYING', 429]]);
    assert.equal(h.attempts[0]!.error, 'HTTP 400: bad payload');
    assert.equal(h.attempts[2]!.next_try_at! - h.attempts[2]!.at, 120_000);
    h.clock.advance(119_999);
    assert.equal(rx.received.length, 3);
    h.clock.advance(1);
    await until(() => h.attempts.length === 4, 'the try after Retry-After');
    assert.equal(h.attempts[3]!.status, 'SUCCESS');
    // Nothing left to retry, however long we wait.
    assert.equal(h.clock.pending().length, 0);
    h.clock.advance(25 * 3_600_000);
    assert.equal(rx.received.map((r) => body(r).job.id), [1, 2, 3, 3]);
  } finally {
    await h.done();
    await rx.close();
  }
});

test('a later delivery never overtakes an earlier one that is being retried', async () => {
  const rx = await HttpReceiver.start();
  const h = await harness();
  try {
    rx.reply = (_, i) => ({ status: i < 2 ? 503 : 200 });
    h.q.setDestination('webhook:3', hook(rx, h.http));
    for (const id of [1, 2, 3, 4]) await h.q.enqueue('webhook:3', 'job.FAILED', { job: { id } });
    await until(() => h.attempts.length === 1 && h.clock.pending().length === 1, 'the first try');
    assert.equal(rx.received.length, 1);
    assert.equal(h.q.status('webhook:3')!.queued, 4);
    h.clock.advance(10_000);
    await until(() => h.attempts.length === 2 && h.clock.pending().length === 1, 'the second try');
    assert.equal(rx.received.length, 2);
    h.clock.advance(20_000);
    await until(() => rx.received.length === 6 && h.q.status('webhook:3')!.queued === 0, 'everything delivered');
    assert.equal(rx.received.map((r) => body(r).job.id), [1, 1, 1, 2, 3, 4]);
  } finally {
    await h.done();
    await rx.close();
  }
});

test('a receiver down across a restart still gets every delivery afterwards, in order', async () => {
  const port = await downPort();
  const url = `http://127.0.0.1:${port}/hook`;
  // A small in-memory window, so most deliveries are read back from level, before and after.
  const h = await harness({ limits: { bufferSize: 2 } });
  let rx: HttpReceiver | null = null;
  try {
    h.q.setDestination('webhook:4', hook(url, h.http));
    const ids: string[] = [];
    for (let n = 1; n <= 7; n++) ids.push(await h.q.enqueue('webhook:4', 'job.FAILED', { job: { id: n } }));
    await until(() => h.attempts.length === 1 && h.clock.pending().length === 1, 'the first failed try');
    assert.equal(h.attempts[0]!.status, 'RETRYING');
    assert.equal(h.attempts[0]!.status_code, null);
    assert.match(h.attempts[0]!.error ?? '', /ECONNREFUSED/);

    // Power cut: the queue and the db go away with 7 deliveries waiting.
    const q = await h.restart();
    assert.equal(q.destinations(), ['webhook:4']);
    const st = q.status('webhook:4')!;
    assert.equal(st.queued, 7);
    assert.equal(st.failing_since, h.attempts[0]!.at);
    assert.equal(st.next_try_at, h.attempts[0]!.next_try_at);
    // Nothing goes out before the owner says how to reach the destination.
    rx = await HttpReceiver.start(port);
    q.setDestination('webhook:4', hook(url, h.http));
    assert.equal(h.clock.pending().length, 1);
    h.clock.advanceTo(st.next_try_at!);
    await until(() => rx!.received.length === 7 && q.status('webhook:4')!.queued === 0, 'all seven deliveries');
    assert.equal(rx.received.map((r) => body(r).job.id), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(rx.received.map((r) => body(r).delivery_id), ids);
    const history = await q.attempts('webhook:4');
    assert.equal(history.length, 8);
    assert.equal(history[history.length - 1]!.status, 'RETRYING');
    assert.equal(history[history.length - 2]!.try, 2);
    assert.equal(q.status('webhook:4')!.failing_since, null);
  } finally {
    await h.done();
    await rx?.close();
  }
});

test('backoff: each wait within +-20% of 10 s x 2^n capped at 1 h, last try at 24 h, then FAILED and the day-long failure reported once', async () => {
  const rx = await HttpReceiver.start();
  let i = 0;
  const randoms = [0, 0.9999, 0.5, 0.25, 0.75];
  const h = await harness({ random: () => randoms[i++ % randoms.length]! });
  try {
    rx.reply = () => ({ status: 502 });
    h.q.setDestination('webhook:5', hook(rx, h.http));
    const queuedAt = h.clock.now();
    await h.q.enqueue('webhook:5', 'job.FAILED', { job: { id: 1 } });
    const p = DEFAULT_RETRY_POLICY;
    for (let n = 1; ; n++) {
      await until(() => h.attempts.length === n, `try ${n}`);
      const a = h.attempts[n - 1]!;
      assert.equal(a.try, n);
      if (a.status === 'FAILED') break;
      assert.equal(a.status, 'RETRYING');
      const wait = a.next_try_at! - a.at;
      const nominal = nominalDelay(p, n);
      const lastTry = a.next_try_at === queuedAt + p.maxAgeMs;
      assert.ok(lastTry || (wait >= nominal * 0.8 && wait <= nominal * 1.2), `try ${n}: waited ${wait} ms, nominal ${nominal}`);
      assert.ok(wait <= 1.2 * 3_600_000);
      await until(() => h.clock.pending().length === 1, 'the retry timer');
      h.clock.advanceTo(a.next_try_at!);
    }
    const last = h.attempts[h.attempts.length - 1]!;
    assert.equal(last.at, queuedAt + p.maxAgeMs, 'the last try falls at 24 h exactly');
    assert.match(last.error ?? '', /^gave up after \d+ tries over 24 h: HTTP 502/);
    assert.ok(h.attempts.length > 25 && h.attempts.length < 40, `${h.attempts.length} tries in a day`);
    assert.equal(rx.received.length, h.attempts.length);
    // The first waits from the jitter sequence above: 10 s x 0.8, 20 s x 1.19996, 40 s x 1.
    assert.equal(h.attempts.slice(0, 3).map((a) => a.next_try_at! - a.at), [8_000, 23_999, 40_000]);
    assert.equal(h.failing.length, 1);
    assert.equal(h.failing[0]!.destination, 'webhook:5');
    assert.equal(h.failing[0]!.since, h.attempts[0]!.at);
    assert.equal(h.failing[0]!.lastStatusCode, 502);
    assert.equal(h.q.status('webhook:5')!.failing_reported, true);

    // The report survives a restart and is not repeated; the next success ends it.
    const q = await h.restart();
    q.setDestination('webhook:5', hook(rx, h.http));
    assert.equal(q.status('webhook:5')!.failing_reported, true);
    rx.reply = () => ({ status: 200 });
    await q.enqueue('webhook:5', 'job.SUCCESS', { job: { id: 2 } });
    await until(() => h.recovered.length === 1, 'recovery');
    assert.equal(h.recovered, ['webhook:5']);
    assert.equal(h.failing.length, 1);
    assert.equal(q.status('webhook:5')!.failing_since, null);
  } finally {
    await h.done();
    await rx.close();
  }
});

test('retry delay math: bounds for every try, Retry-After clamped', () => {
  const p = DEFAULT_RETRY_POLICY;
  const nominals = Array.from({ length: 12 }, (_, k) => nominalDelay(p, k + 1));
  assert.equal(nominals, [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000, 3_600_000, 3_600_000, 3_600_000]);
  for (let n = 1; n <= 40; n++) {
    const nominal = nominalDelay(p, n);
    assert.equal(retryDelay(p, n, null, 0), Math.round(nominal * 0.8));
    assert.ok(retryDelay(p, n, null, 0.999999) <= nominal * 1.2);
    assert.equal(retryDelay(p, n, null, 0.5), nominal);
  }
  assert.equal(retryDelay(p, 1, 120_000, 0), 120_000);
  assert.equal(retryDelay(p, 1, 0, 0), 1_000);
  assert.equal(retryDelay(p, 1, 10 * 3_600_000, 0), 3_600_000);
});

test('a slow receiver holds up nothing but its own queue', async () => {
  const slow = await HttpReceiver.start();
  const fast = await HttpReceiver.start();
  const h = await harness();
  try {
    slow.reply = () => 'hang';
    h.q.setDestination('webhook:slow', hook(slow, h.http));
    h.q.setDestination('webhook:fast', hook(fast, h.http));
    for (let n = 1; n <= 3; n++) await h.q.enqueue('webhook:slow', 'job.FAILED', { job: { id: n } });
    await until(() => slow.received.length === 1, 'the slow receiver to get its first request');
    for (let n = 1; n <= 20; n++) await h.q.enqueue('webhook:fast', 'job.FAILED', { job: { id: n } });
    await until(() => fast.received.length === 20, 'the fast receiver to get all 20');
    assert.equal(slow.received.length, 1);
    assert.equal(slow.open, 1);
    assert.ok(h.q.status('webhook:slow')!.sending);
    assert.equal(fast.received.map((r) => body(r).job.id), Array.from({ length: 20 }, (_, k) => k + 1));
    slow.reply = () => ({ status: 200 });
    slow.release(200);
    await until(() => slow.received.length === 3 && h.q.status('webhook:slow')!.queued === 0, 'the slow queue to drain');
    assert.equal(slow.received.map((r) => body(r).job.id), [1, 2, 3]);
  } finally {
    await h.done();
    await slow.close();
    await fast.close();
  }
});

test('bounded: a full queue refuses new deliveries (recorded DROPPED) and keeps what it has; so does an oversized payload', async () => {
  const port = await downPort();
  const h = await harness({ limits: { maxQueuedPerDestination: 3, maxPayloadBytes: 200, maxQueuedBytesPerDestination: 10_000 } });
  try {
    h.q.setDestination('webhook:6', hook(`http://127.0.0.1:${port}/`, h.http));
    const kept: string[] = [];
    for (let n = 1; n <= 3; n++) kept.push(await h.q.enqueue('webhook:6', 'job.FAILED', { job: { id: n } }));
    const refused = async (payload: unknown): Promise<DeliveryRefusedError> => {
      try {
        await h.q.enqueue('webhook:6', 'job.FAILED', payload);
      } catch (err) {
        if (err instanceof DeliveryRefusedError) return err;
        throw err;
      }
      throw new Error('expected a refusal');
    };
    const full = await refused({ job: { id: 4 } });
    assert.equal(full.reason, 'queue_full');
    assert.match(full.message, /Queue full: 3 deliveries .* waiting for webhook:6; the limits are 3 deliveries/);
    const big = await refused({ job: { id: 5, blob: 'x'.repeat(500) } });
    assert.equal(big.reason, 'payload_too_large');
    const history = await h.q.attempts('webhook:6');
    assert.equal(history.filter((a) => a.status === 'DROPPED').map((a) => a.try), [0, 0]);
    assert.equal(h.q.status('webhook:6')!.queued, 3);
    const q = await h.restart();
    assert.equal(q.status('webhook:6')!.queued, 3);
  } finally {
    await h.done();
  }
});

test('history keeps the newest entries per destination, also after the limit is lowered', async () => {
  const rx = await HttpReceiver.start();
  const h = await harness({ limits: { keepAttempts: 5 } });
  try {
    h.q.setDestination('webhook:7', hook(rx, h.http));
    for (let n = 1; n <= 9; n++) await h.q.enqueue('webhook:7', 'job.SUCCESS', { job: { id: n } });
    await until(() => rx.received.length === 9 && h.q.status('webhook:7')!.queued === 0, 'nine deliveries');
    const ids = rx.received.map((r) => body(r).delivery_id);
    assert.equal((await h.q.attempts('webhook:7')).map((a) => a.delivery_id), ids.slice(4).reverse());
    assert.equal((await h.q.attempts('webhook:7', 2)).length, 2);
    const q = await h.restart({ limits: { keepAttempts: 3 } });
    assert.equal((await q.attempts('webhook:7')).map((a) => a.delivery_id), ids.slice(6).reverse());
  } finally {
    await h.done();
    await rx.close();
  }
});

test('removing a destination deletes its waiting deliveries and history; unknown destinations and bad event names are refused by name', async () => {
  const port = await downPort();
  const h = await harness();
  try {
    h.q.setDestination('webhook:8', hook(`http://127.0.0.1:${port}/`, h.http));
    for (let n = 1; n <= 3; n++) await h.q.enqueue('webhook:8', 'job.FAILED', { job: { id: n } });
    await until(() => h.attempts.length === 1, 'a failed try');
    await h.q.removeDestination('webhook:8');
    assert.equal(h.q.status('webhook:8'), null);
    assert.equal(await h.q.attempts('webhook:8'), []);
    assert.equal(h.clock.pending().length, 0);
    try {
      await h.q.enqueue('webhook:8', 'job.FAILED', {});
      assert.unreachable('enqueue to a removed destination');
    } catch (err) {
      assert.ok(err instanceof FieldErrors);
      assert.equal(err.errors[0]!.field, 'destination');
    }
    h.q.setDestination('webhook:8', hook(`http://127.0.0.1:${port}/`, h.http));
    for (const bad of ['', 'job FAILED', 'job.FAILED\r\nX-Injected: 1', 'x'.repeat(201)]) {
      try {
        await h.q.enqueue('webhook:8', bad, {});
        assert.unreachable(`event ${JSON.stringify(bad)}`);
      } catch (err) {
        assert.ok(err instanceof FieldErrors);
        assert.equal(err.errors[0]!.field, 'event');
      }
    }
    await h.q.removeDestination('webhook:8');
    const q = await h.restart();
    assert.equal(q.destinations(), []);
  } finally {
    await h.done();
  }
});

test('a stored URL that is not http(s) fails its delivery for good, naming the field', async () => {
  const h = await harness();
  try {
    h.q.setDestination('webhook:9', webhookTransport({ url: 'file:///etc/passwd', secret: SECRET, urlField: 'webhook_update.url' }, h.http));
    await h.q.enqueue('webhook:9', 'job.FAILED', { job: { id: 1 } });
    await until(() => h.attempts.length === 1, 'the try');
    assert.equal(h.attempts[0]!.status, 'FAILED');
    assert.match(h.attempts[0]!.error ?? '', /^webhook_update\.url: Only http:\/\/ and https:\/\/ URLs are allowed/);
    assert.equal(h.clock.pending().length, 0);
  } finally {
    await h.done();
  }
});

test('a new URL for a failing webhook takes over, and retryNow sends at once', async () => {
  const port = await downPort();
  const rx = await HttpReceiver.start();
  const h = await harness();
  try {
    h.q.setDestination('webhook:10', hook(`http://127.0.0.1:${port}/`, h.http));
    const id = await h.q.enqueue('webhook:10', 'job.FAILED', { job: { id: 1 } });
    await until(() => h.attempts.length === 1 && h.clock.pending().length === 1, 'a failed try');
    h.q.setDestination('webhook:10', hook(rx, h.http));
    assert.equal(rx.received.length, 0);
    h.q.retryNow('webhook:10');
    await until(() => rx.received.length === 1, 'the delivery at the new URL');
    assert.equal(body(rx.received[0]!).delivery_id, id);
  } finally {
    await h.done();
    await rx.close();
  }
});

test.run();
