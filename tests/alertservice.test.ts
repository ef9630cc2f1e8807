// alertservice.* against a real daemon and real local receivers: an HTTP server for Webhook,
// Slack and Mattermost, an SMTP server (smtp-server) for Mail. Alerts raised by a module reach the
// services whose level they meet, at once (IMMEDIATELY) or as one digest when the hour ends
// (HOURLY, on a ManualClock); secrets are redacted in every answer and never logged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeAlertModule } from '../methods/alert.js';
import { coreModule } from '../methods/core.js';
import { ManualClock, verifySignedRequest } from '../methods/delivery/index.js';
import { alertTestModule } from './helpers/alert-test-module.js';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';
import { HttpReceiver, SmtpReceiver } from './helpers/delivery.js';
import { until } from './helpers/until.js';

const SECRET = 'webhook-signing-secret-0123';
const HEADER_TOKEN = 'Bearer header-token-xyz';
const SLACK_PATH = '/services/T000/B000/slack-secret-path';

let rx: HttpReceiver;
let smtp: SmtpReceiver;

test.before(async () => {
  rx = await HttpReceiver.start();
  smtp = await SmtpReceiver.start();
});
test.after(async () => {
  await rx.close();
  await smtp.close();
});
test.before.each(() => {
  rx.received.length = 0;
  rx.reply = () => ({ status: 200, body: 'ok' });
  smtp.mails.length = 0;
});

async function open(clock?: ManualClock): Promise<{ d: TestDaemon; c: Client }> {
  const d = await startDaemon({ modules: [coreModule, alertTestModule, makeAlertModule({ ...(clock ? { clock } : {}), services: { hostname: 'nas1.test' } })] });
  const c = await Client.connect(d.socketPath);
  return { d, c };
}

const webhook = (extra: Record<string, unknown> = {}) => ({
  name: 'ops hook', level: 'WARNING',
  attributes: { type: 'Webhook', url: rx.url('/alerts'), secret: SECRET, headers: { Authorization: HEADER_TOKEN } },
  ...extra,
});
const errorsOf = (m: Message) => (m.error?.data as { extra?: Array<[string, string, number]> } | undefined)?.extra ?? [];

test('create, query, update, delete: secrets redacted in every answer and event, kept on update, never logged; bad attributes named', async () => {
  const { d, c } = await open();
  try {
    await c.call('core.subscribe', 'alertservice.query');
    const created = (await c.call('alertservice.create', webhook())) as { id: number; attributes: Record<string, unknown>; type__title: string; enabled: boolean };
    assert.equal(created.attributes, { type: 'Webhook', url: rx.url('/alerts'), secret: '********', headers: { Authorization: '********' } });
    assert.is(created.type__title, 'Webhook');
    assert.is(created.enabled, true);
    assert.equal(await c.call('alertservice.query', [['id', '=', created.id]], { get: true }), created);
    await c.waitFor((m) => (m.params as { collection?: string } | undefined)?.collection === 'alertservice.query');

    // Sent back as shown: the stored secret stays (the signature below proves it).
    const updated = (await c.call('alertservice.update', created.id, { name: 'renamed', attributes: created.attributes })) as typeof created;
    assert.equal(updated.attributes, created.attributes);
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 1, error: 'boom' });
    const req = await until(() => rx.received.find((r) => r.url === '/alerts'), 'the webhook delivery');
    const v = verifySignedRequest({ secret: SECRET, body: req.body, signature: req.headers['x-midship-signature'], timestamp: req.headers['x-midship-timestamp'], nowSeconds: Math.floor(Date.now() / 1000) });
    assert.ok(v.ok, JSON.stringify(v));
    assert.is(req.headers.authorization, HEADER_TOKEN);

    const mailBad = await c.request('alertservice.create', [{ name: 'm', level: 'INFO', attributes: { type: 'Mail', host: 'smtp.example', from: 'not-an-address', to: [], password: 'pw' } }]);
    assert.equal(errorsOf(mailBad).map((e) => e[0]).sort(), ['alert_service_create.attributes.to']);
    const mailBad2 = await c.request('alertservice.create', [{ name: 'm', level: 'INFO', attributes: { type: 'Mail', host: 'smtp.example', from: 'nope', to: ['ops@example.com'], password: 'hunter2-password' } }]);
    assert.equal(errorsOf(mailBad2).map((e) => e[0]).sort(), ['alert_service_create.attributes.from', 'alert_service_create.attributes.username']);
    const urlBad = await c.request('alertservice.create', [{ name: 'x', level: 'INFO', attributes: { type: 'Slack', url: 'file:///etc/passwd' } }]);
    assert.equal(errorsOf(urlBad), [['alert_service_create.attributes.url', 'Only http:// and https:// URLs are allowed (got file:)', 22]]);
    const typeBad = await c.request('alertservice.create', [{ name: 'x', level: 'INFO', attributes: { type: 'Pager' } }]);
    assert.ok(errorsOf(typeBad).some((e) => e[0] === 'alert_service_create.attributes.type'), JSON.stringify(errorsOf(typeBad)));
    assert.equal(errorsOf(await c.request('alertservice.update', [999, { name: 'x' }])), [[null, 'Alert service 999 does not exist', 2]] as never);

    assert.is(await c.call('alertservice.delete', created.id), true);
    assert.equal(await c.call('alertservice.query'), []);
    const events = c.received.filter((m) => (m.params as { collection?: string } | undefined)?.collection === 'alertservice.query');
    await c.waitFor((m) => (m.params as { collection?: string; msg?: string } | undefined)?.collection === 'alertservice.query' && (m.params as { msg: string }).msg === 'removed');
    assert.ok(events.length >= 2);
    const audit = d.logs.find((l) => l.audit === true && l.method === 'alertservice.create') as { args: Array<{ attributes: Record<string, unknown> }> } | undefined;
    assert.ok(audit, 'the create is in the audit trail');
    assert.is(audit!.args[0]!.attributes.secret, '********');
    const everything = JSON.stringify(c.received) + JSON.stringify(d.logs);
    for (const secret of [SECRET, HEADER_TOKEN, 'hunter2-password']) assert.not.ok(everything.includes(secret), `${secret} leaked into an answer, event or log line`);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('IMMEDIATELY: each type gets the alerts at or above its level, raised and cleared', async () => {
  const { d, c } = await open();
  try {
    await c.call('alertservice.create', webhook({ level: 'ERROR' }));
    await c.call('alertservice.create', { name: 'slack', level: 'WARNING', attributes: { type: 'Slack', url: rx.url(SLACK_PATH) } });
    await c.call('alertservice.create', { name: 'mm', level: 'WARNING', attributes: { type: 'Mattermost', url: rx.url('/mattermost'), username: 'midship', channel: 'ops' } });
    await c.call('alertservice.create', { name: 'mail', level: 'WARNING', attributes: { type: 'Mail', host: '127.0.0.1', port: smtp.port, security: 'PLAIN', from: 'midship@example.com', to: ['ops@example.com'] } });
    const off = (await c.call('alertservice.create', { name: 'off', level: 'INFO', enabled: false, attributes: { type: 'Slack', url: rx.url('/disabled') } })) as { id: number };

    // WARNING: under the webhook's ERROR level.
    await c.call('alerttest.set', [{ name: 'disk temp', value: 55 }]);
    await c.call('alert.process_alerts', ['TestReadings']);
    await until(() => rx.received.some((r) => r.url === '/mattermost') && rx.received.some((r) => r.url === SLACK_PATH) && smtp.mails.length > 0, 'slack, mattermost and mail');
    assert.not.ok(rx.received.some((r) => r.url === '/alerts'), 'a WARNING is below the webhook\'s ERROR level');
    const slack = JSON.parse(rx.received.find((r) => r.url === SLACK_PATH)!.body) as { text: string };
    assert.match(slack.text, /^\*\[nas1\.test\] WARNING: disk temp is 55, above 10\*\nAlerts on nas1\.test\n\nNew alerts \(1\):\nWARNING \(1\):\n\* disk temp is 55, above 10 \(since \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
    const mm = JSON.parse(rx.received.find((r) => r.url === '/mattermost')!.body) as Record<string, string>;
    assert.equal([mm.username, mm.channel], ['midship', 'ops']);
    assert.match(mm.text!, /^\*\[nas1\.test\] WARNING: disk temp is 55, above 10\*/);
    assert.is(smtp.mails[0]!.subject, '[nas1.test] WARNING: disk temp is 55, above 10');
    assert.equal(smtp.mails[0]!.to, ['ops@example.com']);
    assert.match(smtp.mails[0]!.text, /New alerts \(1\):\nWARNING \(1\):\n\* disk temp is 55, above 10/);

    // ERROR reaches the webhook too, signed, with the alert in `raised`.
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 4, error: 'exit 3' });
    const hook = await until(() => rx.received.find((r) => r.url === '/alerts'), 'the webhook');
    const body = JSON.parse(hook.body) as { event: string; kind: string; hostname: string; raised: Array<{ klass: string; level: string; formatted: string }>; cleared: unknown[] };
    assert.equal([body.event, body.kind, body.hostname], ['alert.immediate', 'IMMEDIATE', 'nas1.test']);
    assert.equal(body.raised.map((a) => [a.klass, a.level, a.formatted]), [['TestTaskFailed', 'ERROR', 'Task 4 failed: exit 3']]);

    // Cleared: the services hear of it as well.
    await c.call('alerttest.set', []);
    await c.call('alert.process_alerts', ['TestReadings']);
    await until(() => smtp.mails.some((m) => m.subject === '[nas1.test] Cleared: disk temp is 55, above 10'), 'the cleared mail');
    assert.not.ok(rx.received.some((r) => r.url === '/disabled'), 'a disabled service gets nothing');
    assert.ok(off.id > 0);

    // alertservice.test: true when accepted, false otherwise; nothing stored.
    assert.is(await c.call('alertservice.test', { name: 't', level: 'INFO', attributes: { type: 'Slack', url: rx.url('/test-ok') } }), true);
    rx.reply = (r) => (r.url === '/test-bad' ? { status: 500, body: 'down' } : { status: 200 });
    assert.is(await c.call('alertservice.test', { name: 't', level: 'INFO', attributes: { type: 'Slack', url: rx.url('/test-bad') } }), false);
    assert.is(await c.call('alertservice.test', { name: 't', level: 'INFO', attributes: { type: 'Mail', host: '127.0.0.1', port: smtp.port, security: 'PLAIN', from: 'a@example.com', to: ['b@example.com'] } }), true);
    assert.ok(smtp.mails.some((m) => m.subject === '[nas1.test] Test alert'));
    assert.is((await c.call('alertservice.query') as unknown[]).length, 5);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('HOURLY: alerts of the hour go out as one digest when the hour ends (a ManualClock), not before', async () => {
  const clock = new ManualClock(Date.UTC(2025, 2, 3, 10, 15));
  const { d, c } = await open(clock);
  try {
    await c.call('alertclasses.update', { classes: { TestTaskFailed: { policy: 'HOURLY' }, TestTooHigh: { policy: 'HOURLY' } } });
    await c.call('alertservice.create', webhook({ level: 'INFO' }));
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 1, error: 'a' });
    clock.advance(10 * 60_000);
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 2, error: 'b' });
    await c.call('alerttest.set', [{ name: 'fan', value: 99 }]);
    await c.call('alert.process_alerts', ['TestReadings']);
    await c.call('alerttest.clear', 'TestTaskFailed', { id: 1 });
    // An IMMEDIATELY class still goes at once.
    await c.call('alerttest.raise', 'TestNotice', 'now');
    await until(() => rx.received.length === 1, 'the immediate delivery');
    assert.is(JSON.parse(rx.received[0]!.body).kind, 'IMMEDIATE');

    clock.advanceTo(Date.UTC(2025, 2, 3, 10, 59, 59));
    // Let anything mistakenly due run: the immediate delivery is the only one.
    await c.call('alert.list');
    assert.is(rx.received.length, 1, 'nothing before the hour ends');

    clock.advanceTo(Date.UTC(2025, 2, 3, 11, 0));
    const digest = await until(() => rx.received.find((r) => JSON.parse(r.body).kind === 'HOURLY'), 'the hourly digest');
    const body = JSON.parse(digest.body) as { event: string; period: { from: number; to: number }; raised: Array<{ formatted: string }>; cleared: Array<{ formatted: string }> };
    assert.is(body.event, 'alert.hourly');
    assert.equal(body.period, { from: Date.UTC(2025, 2, 3, 10), to: Date.UTC(2025, 2, 3, 11) });
    assert.equal(body.raised.map((a) => a.formatted).sort(), ['Task 1 failed: a', 'Task 2 failed: b', 'fan is 99, above 10']);
    assert.equal(body.cleared.map((a) => a.formatted), ['Task 1 failed: a']);
    assert.is(verifySignedRequest({ secret: SECRET, body: digest.body, signature: digest.headers['x-midship-signature'], nowSeconds: Math.floor(clock.now() / 1000) }).ok, true);
    assert.is(rx.received.length, 2, 'one digest for the hour');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test.run();
