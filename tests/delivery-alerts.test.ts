// Alert-service senders against real local receivers: an HTTP server for Webhook, Slack and
// Mattermost, an SMTP server (smtp-server) for Mail in each TLS mode; attribute validation and
// redaction; single-alert and digest formatting; HOURLY/DAILY grouping driven by a ManualClock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DeliveryQueue, DigestBuffer, FieldErrors, HttpSender, ManualClock, REDACTED, SECRET_ATTRIBUTES,
  alertEvent, alertServiceTransport, formatAlertMessage, keepRedactedSecrets, redactAttributes,
  testAlertService, validateAlertServiceAttributes, verifySignedRequest,
  type AlertMessage, type AlertServiceAttributes, type AlertSummary, type DeliveryAttempt, type MailAttributes,
} from '../methods/delivery/index.js';
import { HttpReceiver, SmtpReceiver, TempDb } from './helpers/delivery.js';
import { until } from './helpers/until.js';

const HOST = 'nas1.example';
let rx: HttpReceiver;
let http: HttpSender;

test.before(async () => {
  rx = await HttpReceiver.start();
  http = new HttpSender({ timeoutMs: 10_000 });
});

test.after(async () => {
  await http.close();
  await rx.close();
});

test.before.each(() => {
  rx.received.length = 0;
  rx.reply = () => ({ status: 200, body: 'ok' });
});

function fieldErrors(fn: () => unknown): Array<[string, string]> {
  try {
    fn();
  } catch (err) {
    if (err instanceof FieldErrors) return err.errors.map((e) => [e.field, e.message]);
    throw err;
  }
  throw new Error('expected FieldErrors');
}

const alert = (uuid: string, level: AlertSummary['level'], formatted: string, datetime = Date.UTC(2025, 0, 1, 3, 0)): AlertSummary =>
  ({ uuid, klass: 'VolumeStatus', level, formatted, text: '%(volume)s is %(state)s', datetime });

const one = (a: AlertSummary): AlertMessage => ({ kind: 'IMMEDIATE', hostname: HOST, raised: [a], cleared: [], period: null, omitted: 0 });

test('attributes: defaults filled, every bad field named under the caller\'s prefix', () => {
  const mail = validateAlertServiceAttributes({ type: 'Mail', host: 'smtp.example', from: 'nas@example.com', to: ['ops@example.com'] }) as MailAttributes;
  assert.equal([mail.port, mail.security, mail.verify_certificate], [25, 'TLS', true]);
  const hook = validateAlertServiceAttributes({ type: 'Webhook', url: 'https://hooks.example/x', secret: 's'.repeat(16) });
  assert.equal(hook.type === 'Webhook' && hook.headers, {});
  const mm = validateAlertServiceAttributes({ type: 'Mattermost', url: 'https://mm.example/hooks/abc', username: 'midship' });
  assert.equal(mm.type === 'Mattermost' && [mm.channel, mm.icon_url], ['', '']);

  assert.equal(fieldErrors(() => validateAlertServiceAttributes({ url: 'x' })), [['attributes.type', 'Must be one of Webhook, Slack, Mattermost, Mail']]);
  assert.equal(fieldErrors(() => validateAlertServiceAttributes('nope', 'alertservice_create.attributes')), [['alertservice_create.attributes', 'Must be an object']]);
  const e1 = fieldErrors(() => validateAlertServiceAttributes({ type: 'Webhook', url: 'ftp://x/', secret: 'short', extra: 1 }, 'alertservice_create.attributes'));
  assert.equal(e1.map(([f]) => f).sort(), ['alertservice_create.attributes.extra', 'alertservice_create.attributes.secret']);
  const e2 = fieldErrors(() => validateAlertServiceAttributes({ type: 'Webhook', url: 'ftp://x/', secret: 's'.repeat(16), headers: { 'Content-Type': 'text/plain', 'X-Midship-Signature': 'forged', 'bad name': 'v', 'X-Ok': 'a\r\nInjected: 1' } }));
  assert.equal(e2.map(([f]) => f), ['attributes.url', 'attributes.headers.Content-Type', 'attributes.headers.X-Midship-Signature', 'attributes.headers.bad name', 'attributes.headers.X-Ok']);
  assert.match(e2[0]![1], /Only http:\/\/ and https:\/\//);
  assert.equal(fieldErrors(() => validateAlertServiceAttributes({ type: 'Slack', url: 'javascript:alert(1)' }))[0]![0], 'attributes.url');
  assert.equal(fieldErrors(() => validateAlertServiceAttributes({ type: 'Mattermost', url: 'https://mm/', username: 'm', icon_url: 'file:///x' }))[0]![0], 'attributes.icon_url');
  const e3 = fieldErrors(() => validateAlertServiceAttributes({ type: 'Mail', host: 'smtp.example', port: 70000, security: 'STARTTLS', from: 'nas@example.com', to: ['ops@example.com'] }));
  assert.equal(e3.map(([f]) => f), ['attributes.port', 'attributes.security']);
  const e4 = fieldErrors(() => validateAlertServiceAttributes({ type: 'Mail', host: 'smtp.example', from: 'not-an-address', to: ['ops@example.com', 'x@y\r\nBcc: z@w'], username: 'alice' }));
  assert.equal(e4.map(([f]) => f), ['attributes.from', 'attributes.to.1', 'attributes.password']);
  assert.equal(fieldErrors(() => validateAlertServiceAttributes({ type: 'Mail', host: 'smtp.example', from: 'a@b.c', to: [] }))[0]![0], 'attributes.to');
});

test('secret attributes are listed per type and redacted; sending REDACTED back keeps the stored secret', () => {
  assert.equal(SECRET_ATTRIBUTES, { Webhook: ['secret', 'headers.*'], Slack: ['url'], Mattermost: ['url'], Mail: ['password'] });
  const stored = validateAlertServiceAttributes({ type: 'Webhook', url: 'https://h.example/', secret: 'the-real-secret-value', headers: { Authorization: 'Bearer t0k3n' } });
  const shown = redactAttributes(stored);
  assert.equal(shown, { type: 'Webhook', url: 'https://h.example/', secret: REDACTED, headers: { Authorization: REDACTED } });
  assert.not.match(JSON.stringify(shown), /real-secret|t0k3n/);
  const back = validateAlertServiceAttributes(keepRedactedSecrets({ ...shown, url: 'https://h2.example/' }, stored));
  assert.equal(back, { ...stored, url: 'https://h2.example/' });
  const mail = validateAlertServiceAttributes({ type: 'Mail', host: 'h', from: 'a@b.c', to: ['d@e.f'], username: 'u', password: 'pw' });
  assert.equal((redactAttributes(mail) as MailAttributes).password, REDACTED);
  assert.equal(redactAttributes(validateAlertServiceAttributes({ type: 'Slack', url: 'https://hooks.slack.example/T/B/secret' })), { type: 'Slack', url: REDACTED });
  // A changed type does not inherit the old secrets.
  assert.equal(keepRedactedSecrets({ type: 'Slack', url: REDACTED }, stored), { type: 'Slack', url: REDACTED });
});

test('one alert and a digest read as a person expects', () => {
  const single = formatAlertMessage(one(alert('u1', 'CRITICAL', 'Pool tank state is DEGRADED')));
  assert.equal(single.subject, '[nas1.example] CRITICAL: Pool tank state is DEGRADED');
  assert.equal(single.text, 'Alerts on nas1.example\n\nNew alerts (1):\nCRITICAL (1):\n* Pool tank state is DEGRADED (since 2025-01-01 03:00 UTC)');
  const cleared = formatAlertMessage({ ...one(alert('u1', 'CRITICAL', 'Pool tank state is DEGRADED')), raised: [], cleared: [alert('u1', 'CRITICAL', 'Pool tank state is DEGRADED')] });
  assert.equal(cleared.subject, '[nas1.example] Cleared: Pool tank state is DEGRADED');
  const digest = formatAlertMessage({
    kind: 'DAILY', hostname: HOST, period: { from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 0, 2) }, omitted: 2,
    raised: [alert('a', 'WARNING', 'Disk sda has 3 read errors', Date.UTC(2025, 0, 1, 9)), alert('b', 'CRITICAL', 'Pool tank is 91% full', Date.UTC(2025, 0, 1, 8)), alert('c', 'WARNING', 'Cron job 4 failed', Date.UTC(2025, 0, 1, 7))],
    cleared: [alert('d', 'INFO', 'Scrub of tank finished')],
  });
  assert.equal(digest.subject, '[nas1.example] Daily alert digest: 3 new, 1 cleared');
  assert.equal(digest.text, [
    'Alerts on nas1.example from 2025-01-01 00:00 UTC to 2025-01-02 00:00 UTC',
    '',
    'New alerts (3):',
    'CRITICAL (1):',
    '* Pool tank is 91% full (since 2025-01-01 08:00 UTC)',
    'WARNING (2):',
    '* Cron job 4 failed (since 2025-01-01 07:00 UTC)',
    '* Disk sda has 3 read errors (since 2025-01-01 09:00 UTC)',
    '',
    'Cleared alerts (1):',
    'INFO (1):',
    '* Scrub of tank finished (since 2025-01-01 03:00 UTC)',
    '',
    '2 more alert change(s) in this period are not listed.',
  ].join('\n'));
});

test('Slack and Mattermost receive their incoming-webhook JSON; the test send reports the outcome', async () => {
  const slack = validateAlertServiceAttributes({ type: 'Slack', url: rx.url('/services/T0/B0/xyz') });
  const deps = { http, hostname: HOST };
  const r1 = await testAlertService(slack, deps);
  assert.equal([r1.verdict, r1.statusCode], ['delivered', 200]);
  const t1 = JSON.parse(rx.received[0]!.body) as { text: string };
  assert.equal(Object.keys(t1), ['text']);
  assert.match(t1.text, /^\*\[nas1\.example\] Test alert\*\nThis is a test alert from Midship/);

  const transport = alertServiceTransport(slack, deps);
  const out = await transport.send(
    { destination: 's', id: 'd1', event: alertEvent('IMMEDIATE'), payload: one(alert('u', 'ERROR', 'Cron <job> & "friends" failed')), queuedAt: 0, tries: 0 },
    { signal: new AbortController().signal, now: Date.now() },
  );
  assert.equal(out.verdict, 'delivered');
  const t2 = JSON.parse(rx.received[1]!.body) as { text: string };
  assert.match(t2.text, /ERROR: Cron &lt;job&gt; &amp; "friends" failed/);

  const mm = validateAlertServiceAttributes({ type: 'Mattermost', url: rx.url('/hooks/mm'), username: 'midship', channel: 'ops', icon_url: 'https://icons.example/m.png' });
  await testAlertService(mm, deps);
  const m = JSON.parse(rx.received[2]!.body) as Record<string, string>;
  assert.equal(rx.received[2]!.url, '/hooks/mm');
  assert.equal([m.username, m.channel, m.icon_url], ['midship', 'ops', 'https://icons.example/m.png']);
  assert.match(m.text!, /Test alert/);

  rx.reply = () => ({ status: 404, body: 'no_service' });
  const r404 = await testAlertService(slack, deps);
  assert.equal([r404.verdict, r404.statusCode, r404.error], ['reject', 404, 'HTTP 404: no_service']);
});

test('the Webhook alert service is signed like job webhooks', async () => {
  const attrs = validateAlertServiceAttributes({ type: 'Webhook', url: rx.url('/alerts'), secret: 'alert-hook-secret-123', headers: { 'X-Team': 'storage' } });
  const clock = new ManualClock(Date.UTC(2025, 5, 1, 12));
  const r = await testAlertService(attrs, { http, hostname: HOST }, clock);
  assert.equal(r.verdict, 'delivered');
  const got = rx.received[0]!;
  assert.equal(got.headers['x-team'], 'storage');
  const v = verifySignedRequest({ secret: 'alert-hook-secret-123', body: got.body, signature: got.headers['x-midship-signature'], timestamp: got.headers['x-midship-timestamp'], nowSeconds: clock.now() / 1000 });
  assert.ok(v.ok);
  if (v.ok) {
    assert.equal(v.payload.event, 'alert.test');
    assert.equal(v.payload.timestamp, clock.now() / 1000);
    assert.equal(v.payload.kind, 'TEST');
    assert.equal(v.payload.hostname, HOST);
  }
});

function mailAttrs(port: number, extra: Record<string, unknown> = {}): MailAttributes {
  return validateAlertServiceAttributes({ type: 'Mail', host: '127.0.0.1', port, from: 'nas@example.com', to: ['ops@example.com', 'oncall@example.com'], ...extra }) as MailAttributes;
}

test('Mail (PLAIN): the SMTP server gets the alert with its subject, body and a Message-ID from the delivery id', async () => {
  const smtp = await SmtpReceiver.start({ hideSTARTTLS: true });
  try {
    const attrs = mailAttrs(smtp.port, { security: 'PLAIN' });
    const transport = alertServiceTransport(attrs, { http, hostname: HOST });
    const out = await transport.send(
      { destination: 'alertservice:1', id: 'delivery-42', event: alertEvent('IMMEDIATE'), payload: one(alert('u1', 'CRITICAL', 'Pool tank state is DEGRADED')), queuedAt: 0, tries: 0 },
      { signal: new AbortController().signal, now: Date.now() },
    );
    await transport.close?.();
    assert.equal([out.verdict, out.statusCode], ['delivered', 250]);
    const m = smtp.mails[0]!;
    assert.equal(m.from, 'nas@example.com');
    assert.equal(m.to, ['ops@example.com', 'oncall@example.com']);
    assert.equal(m.subject, '[nas1.example] CRITICAL: Pool tank state is DEGRADED');
    assert.equal(m.text, 'Alerts on nas1.example\n\nNew alerts (1):\nCRITICAL (1):\n* Pool tank state is DEGRADED (since 2025-01-01 03:00 UTC)');
    assert.equal(m.headers['message-id'], '<delivery-42@nas1.example>');
    assert.equal(m.headers['x-midship-delivery'], 'delivery-42');
    assert.not.ok(m.secure);
  } finally {
    await smtp.close();
  }
});

test('Mail TLS modes: STARTTLS and SSL with a self-signed certificate when told to accept it, refused otherwise; auth', async () => {
  const starttls = await SmtpReceiver.start({ users: { alice: 'wonderland' } });
  const ssl = await SmtpReceiver.start({ secure: true });
  const deps = { http, hostname: HOST };
  try {
    const ok = await testAlertService(mailAttrs(starttls.port, { security: 'TLS', verify_certificate: false, username: 'alice', password: 'wonderland' }), deps);
    assert.equal(ok.verdict, 'delivered', ok.error ?? '');
    assert.ok(starttls.mails[0]!.secure);
    assert.equal(starttls.mails[0]!.user, 'alice');
    assert.equal(starttls.mails[0]!.subject, '[nas1.example] Test alert');

    const untrusted = await testAlertService(mailAttrs(starttls.port, { security: 'TLS', username: 'alice', password: 'wonderland' }), deps);
    // Not sent; retried when queued, since the server's admin can fix the certificate.
    assert.equal(untrusted.verdict, 'retry');
    assert.match(untrusted.error ?? '', /certificate/i);

    const badLogin = await testAlertService(mailAttrs(starttls.port, { security: 'TLS', verify_certificate: false, username: 'alice', password: 'guess' }), deps);
    assert.equal([badLogin.verdict, badLogin.statusCode], ['reject', 535]);

    const viaSsl = await testAlertService(mailAttrs(ssl.port, { security: 'SSL', verify_certificate: false }), deps);
    assert.equal(viaSsl.verdict, 'delivered', viaSsl.error ?? '');
    assert.ok(ssl.mails[0]!.secure);
    assert.equal(starttls.mails.length, 1);
  } finally {
    await starttls.close();
    await ssl.close();
  }
});

test('Mail through the queue: a 451 is retried, a 550 is not', async () => {
  const smtp = await SmtpReceiver.start({ hideSTARTTLS: true });
  const tdb = await TempDb.create();
  const clock = new ManualClock();
  const attempts: DeliveryAttempt[] = [];
  const q = new DeliveryQueue({ db: tdb.sublevel('delivery'), clock, random: () => 0.5, onAttempt: (_, a) => attempts.push(a) });
  await q.open();
  try {
    q.setDestination('alertservice:2', alertServiceTransport(mailAttrs(smtp.port, { security: 'PLAIN' }), { http, hostname: HOST }));
    smtp.rejectWith = { code: 451, message: 'Try again later' };
    await q.enqueue('alertservice:2', alertEvent('IMMEDIATE'), one(alert('u1', 'WARNING', 'Disk sda is hot')));
    await until(() => attempts.length === 1 && clock.pending().length === 1, 'the first try');
    assert.equal([attempts[0]!.status, attempts[0]!.status_code], ['RETRYING', 451]);
    smtp.rejectWith = null;
    clock.advance(10_000);
    await until(() => attempts.length === 2, 'the retry');
    assert.equal([attempts[1]!.status, attempts[1]!.status_code], ['SUCCESS', 250]);
    assert.equal(smtp.mails.map((m) => m.subject), ['[nas1.example] WARNING: Disk sda is hot']);

    smtp.rejectWith = { code: 550, message: 'Mailbox unavailable' };
    await q.enqueue('alertservice:2', alertEvent('IMMEDIATE'), one(alert('u2', 'WARNING', 'Disk sdb is hot')));
    await until(() => attempts.length === 3, 'the refused try');
    assert.equal([attempts[2]!.status, attempts[2]!.status_code], ['FAILED', 550]);
    assert.equal(clock.pending().length, 0);
  } finally {
    await q.close();
    await tdb.destroy();
    await smtp.close();
  }
});

test('HOURLY digest: alerts of an hour go out as one message when the hour ends, grouped by level', async () => {
  const smtp = await SmtpReceiver.start({ hideSTARTTLS: true });
  const tdb = await TempDb.create();
  const clock = new ManualClock(Date.UTC(2025, 2, 3, 10, 5));
  const q = new DeliveryQueue({ db: tdb.sublevel('delivery'), clock });
  await q.open();
  const deliver = async (service: string, message: AlertMessage) => {
    await q.enqueue(service, alertEvent(message.kind), message);
  };
  let digests = new DigestBuffer({ db: tdb.sublevel('digest'), clock, hostname: HOST, deliver });
  await digests.open();
  try {
    q.setDestination('alertservice:3', alertServiceTransport(mailAttrs(smtp.port, { security: 'PLAIN' }), { http, hostname: HOST }));
    const at = (h: number, m: number) => Date.UTC(2025, 2, 3, h, m);
    await digests.add('alertservice:3', 'HOURLY', 'raised', alert('a', 'WARNING', 'Cron job 4 failed', at(10, 5)));
    clock.advanceTo(at(10, 20));
    await digests.add('alertservice:3', 'HOURLY', 'raised', alert('b', 'CRITICAL', 'Pool tank is DEGRADED', at(10, 20)));
    await digests.add('alertservice:3', 'HOURLY', 'cleared', alert('c', 'INFO', 'Scrub of tank finished', at(9, 0)));
    clock.advanceTo(at(10, 50));
    // The same alert raised again within the hour (it flapped) is listed once.
    await digests.add('alertservice:3', 'HOURLY', 'raised', alert('a', 'WARNING', 'Cron job 4 failed', at(10, 5)));
    await digests.add('alertservice:3', 'HOURLY', 'raised', alert('d', 'WARNING', 'Disk sda has 3 read errors', at(10, 50)));
    assert.equal(digests.status('alertservice:3', 'HOURLY'), { count: 4, omitted: 0, dueAt: at(11, 0) });

    clock.advanceTo(at(10, 59) + 59_999);
    await q.flush();
    assert.equal(smtp.mails.length, 0, 'nothing before the hour ends');
    clock.advanceTo(at(11, 0));
    await until(() => smtp.mails.length === 1, 'the hourly digest');
    const m = smtp.mails[0]!;
    assert.equal(m.subject, '[nas1.example] Hourly alert digest: 3 new, 1 cleared');
    assert.equal(m.text.split('\n'), [
      'Alerts on nas1.example from 2025-03-03 10:00 UTC to 2025-03-03 11:00 UTC',
      '',
      'New alerts (3):',
      'CRITICAL (1):',
      '* Pool tank is DEGRADED (since 2025-03-03 10:20 UTC)',
      'WARNING (2):',
      '* Cron job 4 failed (since 2025-03-03 10:05 UTC)',
      '* Disk sda has 3 read errors (since 2025-03-03 10:50 UTC)',
      '',
      'Cleared alerts (1):',
      'INFO (1):',
      '* Scrub of tank finished (since 2025-03-03 09:00 UTC)',
    ]);
    await until(() => digests.status('alertservice:3', 'HOURLY') === null, 'the window to be emptied');

    // A quiet hour sends nothing; the next alert opens a new window.
    clock.advanceTo(at(12, 30));
    assert.equal(smtp.mails.length, 1);
    await digests.add('alertservice:3', 'HOURLY', 'raised', alert('e', 'ERROR', 'API key "ci" expires tomorrow', at(12, 30)));
    // Collected alerts survive a restart; the window that ended meanwhile is sent at open.
    await digests.close();
    await q.close();
    await tdb.reopen();
    clock.advanceTo(at(14, 0));
    const q2 = new DeliveryQueue({ db: tdb.sublevel('delivery'), clock });
    await q2.open();
    q2.setDestination('alertservice:3', alertServiceTransport(mailAttrs(smtp.port, { security: 'PLAIN' }), { http, hostname: HOST }));
    digests = new DigestBuffer({ db: tdb.sublevel('digest'), clock, hostname: HOST, deliver: async (s, msg) => { await q2.enqueue(s, alertEvent(msg.kind), msg); } });
    await digests.open();
    await until(() => smtp.mails.length === 2, 'the digest of the window that ended during the restart');
    assert.equal(smtp.mails[1]!.subject, '[nas1.example] Hourly alert digest: 1 new');
    assert.match(smtp.mails[1]!.text, /from 2025-03-03 12:00 UTC to 2025-03-03 13:00 UTC/);
    await digests.close();
    await q2.close();
  } finally {
    await digests.close();
    await q.close();
    await tdb.destroy();
    await smtp.close();
  }
});

test('DAILY digest to Slack: one message at midnight UTC, capped with the rest counted', async () => {
  const tdb = await TempDb.create();
  const clock = new ManualClock(Date.UTC(2025, 6, 14, 8));
  const q = new DeliveryQueue({ db: tdb.sublevel('delivery'), clock });
  await q.open();
  const digests = new DigestBuffer({
    db: tdb.sublevel('digest'), clock, hostname: HOST, maxAlertsPerDigest: 3,
    deliver: async (service, message) => { await q.enqueue(service, alertEvent(message.kind), message); },
  });
  await digests.open();
  try {
    const slack: AlertServiceAttributes = validateAlertServiceAttributes({ type: 'Slack', url: rx.url('/services/daily') });
    q.setDestination('alertservice:4', alertServiceTransport(slack, { http, hostname: HOST }));
    for (let n = 1; n <= 5; n++) {
      await digests.add('alertservice:4', 'DAILY', 'raised', alert(`u${n}`, n === 5 ? 'CRITICAL' : 'NOTICE', `Event number ${n}`, clock.now()));
      clock.advance(3_600_000);
    }
    assert.equal(digests.status('alertservice:4', 'DAILY'), { count: 3, omitted: 2, dueAt: Date.UTC(2025, 6, 15) });
    clock.advanceTo(Date.UTC(2025, 6, 15) - 1);
    assert.equal(rx.received.length, 0);
    clock.advanceTo(Date.UTC(2025, 6, 15));
    await until(() => rx.received.length === 1, 'the daily digest');
    const text = (JSON.parse(rx.received[0]!.body) as { text: string }).text;
    assert.match(text, /^\*\[nas1\.example\] Daily alert digest: 3 new\*/);
    assert.match(text, /NOTICE \(3\):\n\* Event number 1 .*\n\* Event number 2 .*\n\* Event number 3 /);
    assert.match(text, /2 more alert change\(s\) in this period are not listed\./);
    assert.equal(rx.received[0]!.url, '/services/daily');
  } finally {
    await digests.close();
    await q.close();
    await tdb.destroy();
  }
});

test.run();
