// Job webhook signing: what a receiver gets and how it checks it (docs/webhooks.md).
import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildSignedRequest, signature, verifySignedRequest } from '../methods/delivery/index.js';

const SECRET = 'a-webhook-secret-of-some-length';
const NOW = 1_750_000_000;

function signed(timestamp = NOW) {
  return buildSignedRequest({ secret: SECRET, event: 'job.FAILED', deliveryId: 'd-1', timestamp, data: { job: { id: 5, state: 'FAILED', arguments: ['********'] } } });
}

test('the body carries event, delivery id, timestamp and the job; the signature is the HMAC of the raw body', () => {
  const r = signed();
  const body = JSON.parse(r.body) as Record<string, unknown>;
  assert.equal(body, { event: 'job.FAILED', delivery_id: 'd-1', timestamp: NOW, job: { id: 5, state: 'FAILED', arguments: ['********'] } });
  const expected = `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`;
  assert.equal(r.headers['x-midship-signature'], expected);
  assert.equal(signature(SECRET, r.body), expected);
  assert.equal(r.headers['x-midship-timestamp'], String(NOW));
  assert.equal(r.headers['x-midship-delivery'], 'd-1');
  assert.equal(r.headers['x-midship-event'], 'job.FAILED');
});

test('a fractional timestamp is sent in whole seconds, the same in body and header', () => {
  const r = signed(NOW + 0.75);
  assert.equal((JSON.parse(r.body) as { timestamp: number }).timestamp, NOW);
  assert.equal(r.headers['x-midship-timestamp'], String(NOW));
});

test('data may not replace the envelope fields', () => {
  assert.throws(() => buildSignedRequest({ secret: SECRET, event: 'e', deliveryId: 'd', timestamp: NOW, data: { timestamp: 1 } }), /envelope key "timestamp"/);
});

test('verify accepts the request as sent, within the window either way', () => {
  const r = signed();
  for (const now of [NOW, NOW + 300, NOW - 300]) {
    const v = verifySignedRequest({ secret: SECRET, body: r.body, signature: r.headers['x-midship-signature'], timestamp: r.headers['x-midship-timestamp'], nowSeconds: now });
    assert.ok(v.ok, `now=${now}`);
    if (v.ok) assert.equal(v.payload.delivery_id, 'd-1');
  }
  // Buffers (the raw bytes a server reads) work the same.
  assert.ok(verifySignedRequest({ secret: SECRET, body: Buffer.from(r.body), signature: r.headers['x-midship-signature'], nowSeconds: NOW }).ok);
});

test('verify refuses a changed body, a wrong secret, a bad header, a stale or future timestamp, a header that disagrees', () => {
  const r = signed();
  const sig = r.headers['x-midship-signature'];
  const reason = (v: ReturnType<typeof verifySignedRequest>) => (v.ok ? 'accepted' : v.reason);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: r.body.replace('"id":5', '"id":6'), signature: sig, nowSeconds: NOW })), /does not match/);
  assert.match(reason(verifySignedRequest({ secret: 'another-secret-entirely', body: r.body, signature: sig, nowSeconds: NOW })), /does not match/);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: r.body, signature: undefined, nowSeconds: NOW })), /missing or malformed/);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: r.body, signature: 'sha1=abc', nowSeconds: NOW })), /missing or malformed/);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: r.body, signature: sig, nowSeconds: NOW + 301 })), /stale or replayed/);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: r.body, signature: sig, nowSeconds: NOW - 301 })), /stale or replayed/);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: r.body, signature: sig, nowSeconds: NOW + 30, toleranceSeconds: 10 })), /more than 10 s/);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: r.body, signature: sig, timestamp: String(NOW + 1), nowSeconds: NOW })), /header does not match/);
  // Re-signing a replay with a fresh timestamp needs the secret: moving the timestamp breaks the signature.
  const moved = r.body.replace(`"timestamp":${NOW}`, `"timestamp":${NOW + 1000}`);
  assert.match(reason(verifySignedRequest({ secret: SECRET, body: moved, signature: sig, nowSeconds: NOW + 1000 })), /does not match/);
});

test.run();
