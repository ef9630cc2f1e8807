// Job webhooks against a real daemon and a real local HTTP receiver. The webhook module runs on a
// ManualClock, so a day of retries takes milliseconds: 500, 500, 200 is three tries of one
// delivery, each validly signed; a 400 is not retried; a receiver down while the daemon restarts
// gets every delivery afterwards, in order; a day of failing raises WebhookFailing; progress is
// reported at most once a second; secrets appear in no answer and no log line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeAlertModule } from '../methods/alert.js';
import { coreModule } from '../methods/core.js';
import { ManualClock, verifySignedRequest } from '../methods/delivery/index.js';
import { jobsModule } from '../methods/jobs.js';
import { makeWebhookModule } from '../methods/webhook.js';
import { alertTestModule } from './helpers/alert-test-module.js';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';
import { HttpReceiver, type ReceivedRequest } from './helpers/delivery.js';
import { until } from './helpers/until.js';

const SECRET = 'job-webhook-secret-4f9a1c';
const ARG_SECRET = 'argument-secret-77';

type Delivery = { delivery_id: string; event: string; try: number; status: string; status_code: number | null; error: string | null; at: { $date: number } };
type Hook = { id: number; secret: string; headers: Record<string, string>; queue: { queued: number; next_try_at: { $date: number } | null; failing_since: { $date: number } | null } };
type Body = { event: string; delivery_id: string; timestamp: number; job: { id: number; method: string; state: string; arguments: unknown[]; error: string | null; progress: { percent: number } } };

let rx: HttpReceiver;
test.before(async () => {
  rx = await HttpReceiver.start();
});
test.after(async () => {
  await rx.close();
});
test.before.each(() => {
  rx.received.length = 0;
  rx.reply = () => ({ status: 200, body: 'ok' });
});

async function open(clock: ManualClock, dataDir?: string): Promise<{ d: TestDaemon; c: Client }> {
  const d = await startDaemon({ modules: [coreModule, jobsModule, alertTestModule, makeAlertModule(), makeWebhookModule({ clock })], ...(dataDir ? { dataDir } : {}) });
  const c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  return { d, c };
}

const body = (r: ReceivedRequest) => JSON.parse(r.body) as Body;
const hook = (c: Client, id: number) => c.call('webhook.get_instance', id) as Promise<Hook>;
const deliveries = (c: Client, id: number) => c.call('webhook.deliveries', id) as Promise<Delivery[]>;
const errorsOf = (m: Message) => (m.error?.data as { extra?: Array<[string, string, number]> } | undefined)?.extra ?? [];
const create = async (c: Client, extra: Record<string, unknown> = {}) => (await c.call('webhook.create', { name: 'ops', url: rx.url('/jobs'), secret: SECRET, methods: ['alerttest.*'], ...extra })) as Hook;

/** When the webhook's next retry is due, once the last try is recorded (a time still ahead). */
async function nextTry(c: Client, clock: ManualClock, id: number): Promise<number> {
  return until(async () => {
    const next = (await hook(c, id)).queue.next_try_at;
    return next !== null && next.$date > clock.now() ? next.$date : null;
  }, 'a retry to be due');
}

/** Moves the clock to the retry the webhook waits for. */
async function toNextTry(c: Client, clock: ManualClock, id: number): Promise<void> {
  clock.advanceTo(await nextTry(c, clock, id));
}

function verified(r: ReceivedRequest, clock: ManualClock): boolean {
  return verifySignedRequest({ secret: SECRET, body: r.body, signature: r.headers['x-midship-signature'], timestamp: r.headers['x-midship-timestamp'], nowSeconds: Math.floor(clock.now() / 1000) }).ok;
}

test('500, 500, 200: three tries of one delivery, same delivery id, each validly signed with its own timestamp; the history shows them', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const { d, c } = await open(clock);
  try {
    rx.reply = (_r, i) => (i < 2 ? { status: 500, body: 'busy' } : { status: 200 });
    const h = await create(c);
    const failed = await c.request('alerttest.work', [0, 0, 'the disk broke', ARG_SECRET]);
    assert.ok(failed.error);
    await until(() => rx.received.length === 1, 'the first try');
    await toNextTry(c, clock, h.id);
    await until(() => rx.received.length === 2, 'the second try');
    await toNextTry(c, clock, h.id);
    await until(() => rx.received.length === 3, 'the third try');

    const ids = rx.received.map((r) => r.headers['x-midship-delivery']);
    assert.equal(new Set(ids).size, 1, 'one delivery id');
    assert.equal(rx.received.map((r) => body(r).delivery_id), ids);
    for (const r of rx.received) assert.ok(verified(r, clock), 'a valid signature');
    const stamps = rx.received.map((r) => body(r).timestamp);
    assert.ok(stamps[0]! < stamps[1]! && stamps[1]! < stamps[2]!, `each try signed anew: ${stamps}`);
    assert.equal(stamps.map(String), rx.received.map((r) => r.headers['x-midship-timestamp']));
    const b = body(rx.received[0]!);
    assert.equal([b.event, b.job.method, b.job.state], ['job.FAILED', 'alerttest.work', 'FAILED']);
    assert.match(b.job.error!, /the disk broke/);
    assert.equal(b.job.arguments, [0, 0, 'the disk broke', '********'], 'arguments redacted');

    await until(async () => (await deliveries(c, h.id)).length === 3, 'three history entries');
    assert.equal((await deliveries(c, h.id)).map((x) => [x.try, x.status, x.status_code, x.delivery_id]), [
      [3, 'SUCCESS', 200, ids[0]], [2, 'RETRYING', 500, ids[0]], [1, 'RETRYING', 500, ids[0]],
    ]);
    assert.equal((await hook(c, h.id)).queue, { queued: 0, next_try_at: null, failing_since: null });
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('a 400 is not retried (the next delivery goes out); a webhook failing for a day raises WebhookFailing, its next success clears it', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const { d, c } = await open(clock);
  try {
    rx.reply = (_r, i) => (i === 0 ? { status: 400, body: 'bad payload' } : { status: 200 });
    const h = await create(c, { states: ['SUCCESS'] });
    await c.call('alerttest.work', 0);
    await c.call('alerttest.work', 0);
    await until(() => rx.received.length === 2, 'both deliveries');
    clock.advance(2 * 86_400_000);
    await c.call('alerttest.work', 0);
    await until(() => rx.received.length === 3, 'the next one');
    assert.equal((await deliveries(c, h.id)).map((x) => [x.status, x.status_code, x.error]).reverse(), [
      ['FAILED', 400, 'HTTP 400: bad payload'], ['SUCCESS', 200, null], ['SUCCESS', 200, null],
    ]);
    assert.equal(new Set(rx.received.map((r) => r.headers['x-midship-delivery'])).size, 3, 'the 400 was tried once');

    // Down for a day: every try a 503 until the day is over.
    rx.reply = () => ({ status: 503, body: 'maintenance' });
    await c.call('alerttest.work', 0);
    const start = clock.now();
    const failingAlert = async () => ((await c.call('alert.list')) as Array<{ klass: string; formatted: string }>).find((a) => a.klass === 'WebhookFailing');
    for (;;) {
      assert.ok(clock.now() - start < 25 * 3_600_000, 'WebhookFailing within a day of failing');
      const tries = rx.received.length;
      const next = await until(async () => ((await failingAlert()) ? 'raised' : (await hook(c, h.id)).queue.next_try_at?.$date ?? 0) || null, 'a retry or the alert');
      if (next === 'raised') break;
      if (next <= clock.now()) continue; // the last try is not recorded yet
      clock.advanceTo(next);
      await until(() => rx.received.length > tries, 'the retry');
    }
    const alert = await until(failingAlert, 'WebhookFailing');
    assert.is(alert.formatted, `Webhook "ops" (id ${h.id}) has failed to deliver for a day; deliveries wait for it: HTTP 503: maintenance`);
    assert.ok(clock.now() - start >= 86_400_000);
    rx.reply = () => ({ status: 200 });
    await c.call('alerttest.work', 0);
    await until(async () => (await failingAlert()) === undefined, 'the success to clear WebhookFailing');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('a receiver down while the daemon restarts gets every delivery afterwards, in order', async () => {
  const down = await HttpReceiver.start();
  const port = down.port;
  await down.close();
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  let { d, c } = await open(clock);
  let back: HttpReceiver | null = null;
  try {
    const h = (await c.call('webhook.create', { name: 'later', url: `http://127.0.0.1:${port}/jobs`, secret: SECRET, methods: ['alerttest.work'], states: ['SUCCESS', 'FAILED'] })) as Hook;
    const jobIds: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await c.request('alerttest.work', [0, 0, i === 2 ? 'third fails' : null]);
      assert.ok(r.error || r.result === 0);
    }
    for (const j of (await c.call('core.get_jobs', [['method', '=', 'alerttest.work']], { order_by: ['id'] })) as Array<{ id: number }>) jobIds.push(j.id);
    await until(async () => (await deliveries(c, h.id)).some((x) => x.status === 'RETRYING'), 'the first try to fail');
    assert.is((await hook(c, h.id)).queue.queued, 5);
    await c.close();
    await d.stop();

    back = await HttpReceiver.start(port);
    ({ d, c } = await open(new ManualClock(clock.now() + 60_000), d.dataDir));
    await until(() => back!.received.length === 5, 'all five deliveries');
    assert.equal(back.received.map((r) => body(r).job.id), jobIds, 'in the order the jobs ended');
    assert.equal(back.received.map((r) => body(r).event), ['job.SUCCESS', 'job.SUCCESS', 'job.FAILED', 'job.SUCCESS', 'job.SUCCESS']);
    assert.equal(new Set(back.received.map((r) => r.headers['x-midship-delivery'])).size, 5);
    assert.is((await deliveries(c, h.id)).filter((x) => x.status === 'SUCCESS').length, 5);
  } finally {
    await back?.close();
    await c.close();
    await d.cleanup();
  }
});

test('which events: method patterns and states; progress at most once a second (the newest when the second is up)', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const { d, c } = await open(clock);
  try {
    const h = await create(c, { methods: ['alerttest.w*'], states: ['RUNNING', 'SUCCESS'], progress: true });
    await create(c, { name: 'cron only', url: rx.url('/cron'), methods: ['cronjob.*'], states: ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'] });
    // 200 progress changes within one second of the webhook clock: one progress delivery.
    assert.is(await c.call('alerttest.work', 200, 1), 200);
    await until(() => rx.received.some((r) => body(r).event === 'job.SUCCESS'), 'the end');
    assert.equal(rx.received.map((r) => body(r).event), ['job.RUNNING', 'job.progress', 'job.SUCCESS']);
    assert.not.ok(rx.received.some((r) => r.url === '/cron'), 'cronjob.* does not match');

    // A job still running when the second is up: the newest progress goes out then.
    rx.received.length = 0;
    c.send({ jsonrpc: '2.0', id: 'slow', method: 'alerttest.work', params: [100, 50] });
    await until(() => rx.received.some((r) => body(r).event === 'job.progress'), 'the first progress');
    const first = body(rx.received.find((r) => body(r).event === 'job.progress')!).job.progress.percent;
    await until(async () => ((await c.call('core.get_jobs', [['method', '=', 'alerttest.work'], ['state', '=', 'RUNNING']])) as Array<{ progress: { percent: number } }>)[0]?.progress.percent! > first + 5, 'more progress');
    clock.advance(1000);
    await until(() => rx.received.filter((r) => body(r).event === 'job.progress').length === 2, 'the trailing progress');
    const second = body(rx.received.filter((r) => body(r).event === 'job.progress')[1]!).job.progress.percent;
    assert.ok(second > first, `${second} > ${first}`);
    await c.waitFor((m) => m.id === 'slow');
    await until(() => rx.received.some((r) => body(r).event === 'job.SUCCESS'), 'the end');
    assert.is(rx.received.filter((r) => body(r).event === 'job.progress').length, 2, 'no more than one a second');
    assert.ok(h.id > 0);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('secrets: never in answers, events or logs; kept when sent back as ********; bad settings named; webhook.test signs', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const { d, c } = await open(clock);
  try {
    await c.call('core.subscribe', 'webhook.query');
    const h = await create(c, { headers: { Authorization: 'Bearer header-secret-99' } });
    assert.is(h.secret, '********');
    assert.equal(h.headers, { Authorization: '********' });
    const again = (await c.call('webhook.update', h.id, { name: 'renamed', secret: '********', headers: { Authorization: '********' } })) as Hook;
    assert.is(again.secret, '********');
    const t = (await c.call('webhook.test', h.id)) as { ok: boolean; status_code: number; delivery_id: string };
    assert.equal([t.ok, t.status_code], [true, 200]);
    const sent = await until(() => rx.received.find((r) => r.headers['x-midship-delivery'] === t.delivery_id), 'the test delivery');
    assert.ok(verified(sent, clock), 'signed with the secret kept');
    assert.is(sent.headers.authorization, 'Bearer header-secret-99', 'the header value kept');
    assert.is(body(sent).event, 'webhook.test');
    rx.reply = () => ({ status: 404, body: 'no such hook' });
    assert.equal(Object.values(await c.call('webhook.test', h.id) as object).slice(0, 1), [false]);

    assert.equal(errorsOf(await c.request('webhook.create', [{ name: 'x', url: 'gopher://127.0.0.1/', secret: SECRET }])), [['webhook_create.url', 'Only http:// and https:// URLs are allowed (got gopher:)', 22]]);
    assert.equal(errorsOf(await c.request('webhook.create', [{ name: 'x', url: rx.url(), secret: SECRET, headers: { Host: 'evil' } }])), [['webhook_create.headers.Host', 'This header is set by the sender and cannot be configured', 22]]);
    assert.ok(errorsOf(await c.request('webhook.create', [{ name: 'x', url: rx.url(), secret: 'short' }])).some((e) => e[0] === 'webhook_create.secret'));
    assert.ok(errorsOf(await c.request('webhook.update', [h.id, { secret: 'short' }])).some((e) => e[0] === 'webhook_update.secret'));
    assert.ok(errorsOf(await c.request('webhook.create', [{ name: 'x', url: rx.url(), secret: SECRET, states: ['DONE'] }])).some((e) => String(e[0]).startsWith('webhook_create.states')));
    assert.equal(errorsOf(await c.request('webhook.deliveries', [99])), [[null, 'Webhook 99 does not exist', 2]] as never);

    assert.ok((await c.request('alerttest.work', [0, 0, 'fails', ARG_SECRET])).error);
    await until(() => rx.received.some((r) => body(r).event === 'job.FAILED'), 'the FAILED delivery');
    assert.is(await c.call('webhook.delete', h.id), true);
    const everything = JSON.stringify(c.received) + JSON.stringify(d.logs) + JSON.stringify(await c.call('core.get_jobs'));
    for (const s of [SECRET, 'header-secret-99', ARG_SECRET]) assert.not.ok(everything.includes(s), `${s} leaked`);
    assert.ok(d.logs.some((l) => l.audit === true && l.method === 'webhook.create'), 'the audit trail was looked at');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test.run();
