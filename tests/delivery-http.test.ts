// Outbound HTTP of the delivery engine against a real local server: URL refusal naming the field,
// timeouts, connection errors, capped response bodies, and concurrency caps overall and per
// destination (a hanging receiver holds its own slots, not anybody else's).
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FieldErrors, HttpSender, checkHttpUrl } from '../methods/delivery/index.js';
import { HttpReceiver } from './helpers/delivery.js';
import { until } from './helpers/until.js';

let rx: HttpReceiver;
let other: HttpReceiver;

test.before(async () => {
  rx = await HttpReceiver.start();
  other = await HttpReceiver.start();
});

test.after(async () => {
  await rx.close();
  await other.close();
});

test.before.each(() => {
  for (const r of [rx, other]) {
    r.received.length = 0;
    r.maxOpen = 0;
    r.reply = () => ({ status: 200, body: 'ok' });
  }
});

async function refusal(p: Promise<unknown>): Promise<FieldErrors> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FieldErrors) return err;
    throw err;
  }
  throw new Error('expected the URL to be refused');
}

test('non-http(s) URLs are refused with an error naming the field, before anything is sent', async () => {
  const http = new HttpSender();
  try {
    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'data:text/plain,hi', 'javascript:alert(1)', 'gopher://127.0.0.1:25/', 'ws://127.0.0.1/']) {
      const err = await refusal(http.send({ url, urlField: 'webhook_create.url', body: '{}' }));
      assert.equal(err.errors.length, 1);
      assert.equal(err.errors[0]!.field, 'webhook_create.url', url);
      assert.match(err.errors[0]!.message, /Only http:\/\/ and https:\/\/ URLs are allowed/);
    }
    const bad = await refusal(http.send({ url: 'not a url', body: '{}' }));
    assert.equal(bad.errors[0]!.field, 'url');
    const creds = await refusal(http.send({ url: `http://user:pw@127.0.0.1:${rx.port}/`, body: '{}' }));
    assert.match(creds.errors[0]!.message, /must not contain a user name or password/);
    assert.throws(() => checkHttpUrl(42, 'attributes.url'), (e: unknown) => e instanceof FieldErrors && e.errors[0]!.field === 'attributes.url');
    assert.equal(rx.received.length, 0);
  } finally {
    await http.close();
  }
});

test('a 2xx answer is a success with code, duration and body; other codes are failures of kind http', async () => {
  const http = new HttpSender();
  try {
    rx.reply = (r) => (r.url === '/fine' ? { status: 204 } : { status: 503, body: 'down for maintenance', headers: { 'retry-after': '30' } });
    const ok = await http.send({ url: rx.url('/fine'), body: '{"a":1}', headers: { 'x-extra': 'yes' } });
    assert.equal(ok.statusCode, 204);
    assert.equal(ok.failure, null);
    assert.equal(ok.error, null);
    assert.ok(ok.durationMs >= 0);
    assert.equal(rx.received[0]!.body, '{"a":1}');
    assert.equal(rx.received[0]!.headers['x-extra'], 'yes');
    assert.equal(rx.received[0]!.headers['content-type'], 'application/json');
    const bad = await http.send({ url: rx.url('/down'), body: '{}' });
    assert.equal(bad.statusCode, 503);
    assert.equal(bad.failure, 'http');
    assert.equal(bad.retryAfter, '30');
    assert.equal(bad.error, 'HTTP 503: down for maintenance');
  } finally {
    await http.close();
  }
});

test('response bodies are read only up to the cap', async () => {
  const http = new HttpSender({ maxResponseBytes: 100 });
  try {
    rx.reply = () => ({ status: 200, body: 'x'.repeat(1_000_000) });
    const r = await http.send({ url: rx.url(), body: '{}' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body.length, 100);
    assert.ok(r.bodyTruncated);
    rx.reply = () => ({ status: 200, body: 'short' });
    const s = await http.send({ url: rx.url(), body: '{}' });
    assert.equal(s.body, 'short');
    assert.not.ok(s.bodyTruncated);
  } finally {
    await http.close();
  }
});

test('a receiver that never answers ends in a timeout; a closed port in a connection error', async () => {
  const http = new HttpSender({ timeoutMs: 300 });
  try {
    rx.reply = () => 'hang';
    const slow = await http.send({ url: rx.url(), body: '{}' });
    assert.equal(slow.failure, 'timeout');
    assert.equal(slow.statusCode, null);
    assert.match(slow.error ?? '', /timed out after 300 ms/);
    rx.release();

    // A port that accepts connections and never speaks HTTP: the deadline covers it too.
    const sockets: Socket[] = [];
    const silent: NetServer = createNetServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as AddressInfo).port;
    const mute = await http.send({ url: `http://127.0.0.1:${silentPort}/`, body: '{}' });
    assert.equal(mute.failure, 'timeout');
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));

    const refused = await http.send({ url: `http://127.0.0.1:${silentPort}/`, body: '{}' });
    assert.equal(refused.failure, 'connection');
    assert.match(refused.error ?? '', /ECONNREFUSED/);
  } finally {
    await http.close();
  }
});

test('an aborted request ends as aborted, not as a failure of the receiver', async () => {
  const http = new HttpSender();
  try {
    rx.reply = () => 'hang';
    const ac = new AbortController();
    const p = http.send({ url: rx.url(), body: '{}', signal: ac.signal });
    await until(() => rx.received.length === 1, 'the request to arrive');
    ac.abort();
    const r = await p;
    assert.equal(r.failure, 'aborted');
  } finally {
    rx.release();
    await http.close();
  }
});

test('requests in flight are capped per destination, and a hanging destination does not hold up another', async () => {
  const http = new HttpSender({ maxPerDestination: 2, maxConcurrent: 4, timeoutMs: 30_000 });
  try {
    rx.reply = () => 'hang';
    const stuck = Array.from({ length: 6 }, () => http.send({ url: rx.url(), body: '{}' }));
    await until(() => rx.received.length === 2, 'two requests to reach the hanging receiver');
    assert.equal(http.load.running, 2);
    assert.equal(http.load.waiting, 4);
    // Another destination still gets through while the first one's slots are all taken.
    const r = await http.send({ url: other.url(), body: '{}' });
    assert.equal(r.statusCode, 200);
    assert.equal(rx.received.length, 2);
    assert.equal(rx.maxOpen, 2);
    // Answering lets the waiting ones through, never more than two at a time.
    rx.reply = () => ({ status: 200 });
    rx.release();
    const all = await Promise.all(stuck);
    assert.ok(all.every((o) => o.statusCode === 200));
    assert.equal(rx.received.length, 6);
    assert.ok(rx.maxOpen <= 2, `at most 2 at once, saw ${rx.maxOpen}`);
  } finally {
    await http.close();
  }
});

test('the overall cap holds across destinations', async () => {
  const http = new HttpSender({ maxPerDestination: 4, maxConcurrent: 3, timeoutMs: 30_000 });
  try {
    rx.reply = () => 'hang';
    other.reply = () => 'hang';
    const a = Array.from({ length: 2 }, () => http.send({ url: rx.url(), body: '{}' }));
    const b = Array.from({ length: 2 }, () => http.send({ url: other.url(), body: '{}' }));
    await until(() => http.load.running === 3 && http.load.waiting === 1, 'three running, one waiting');
    rx.reply = () => ({ status: 200 });
    other.reply = () => ({ status: 200 });
    rx.release();
    other.release();
    await Promise.all([...a, ...b]);
    assert.equal(rx.received.length + other.received.length, 4);
  } finally {
    await http.close();
  }
});

test('a receiver that trickles its body forever is cut off at the deadline', async () => {
  const trickle = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('.'), 20);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', () => r()));
  const http = new HttpSender({ timeoutMs: 300 });
  try {
    const r = await http.send({ url: `http://127.0.0.1:${(trickle.address() as AddressInfo).port}/`, body: '{}' });
    assert.equal(r.failure, 'timeout');
  } finally {
    await http.close();
    trickle.closeAllConnections();
    await new Promise<void>((r) => trickle.close(() => r()));
  }
});

test('a request that cannot be made (a header value with a line break) is invalid, not a network failure', async () => {
  const http = new HttpSender();
  try {
    const r = await http.send({ url: rx.url(), body: '{}', headers: { 'x-bad': 'a\r\nx-injected: 1' } });
    assert.equal(r.failure, 'invalid');
    assert.equal(rx.received.length, 0);
  } finally {
    await http.close();
  }
});

test.run();
