// Signed fleet requests without a server: every refusal reason, the replay cache's bounds, and the
// key files. The clock is a variable, so "stale" and "expired" are exact, never waited for.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FleetInputError, generateSigningKey, loadSignerFile, MalformedRequestError, parseEnvelope, parseTrustedKeys, publicKeyLine,
  ReplayCache, ReplayCacheFullError, ReplayedRequestError, RequestVerifier, rpcSubject, signRequest, StaleRequestError,
  TamperedRequestError, UnknownSignerError, type RequestRefusedError,
} from '../methods/fleet/index.js';
import { signerFileText } from '../methods/fleet/keys.js';
import { parseCredentials } from '../methods/fleet/creds.js';
import { createUser } from '@nats-io/nkeys';

const signer = generateSigningKey();
const stranger = generateSigningKey();
const trusted = parseTrustedKeys(`# the fleet's signer\n${publicKeyLine(signer.keyId)} main\n`);
const T0 = 1_800_000_000_000;
const subject = rpcSubject('h1', 'core.get_jobs');
const body = new TextEncoder().encode(JSON.stringify([[['state', '=', 'RUNNING']]]));

function setup(capacity?: number) {
  const clock = { now: T0 };
  const v = new RequestVerifier({ trusted, now: () => clock.now, replayCapacity: capacity });
  const sign = (o: Partial<Parameters<typeof signRequest>[0]> = {}) =>
    signRequest({ key: signer, subject, body, user: 'alice', roles: ['READONLY_ADMIN'], now: clock.now, ...o });
  return { clock, v, sign };
}

function refusal(fn: () => unknown): RequestRefusedError {
  try {
    fn();
  } catch (e) {
    return e as RequestRefusedError;
  }
  throw new Error('expected a refusal');
}

test('a request signed by a trusted signer verifies with its user and roles', () => {
  const { v, sign } = setup();
  const r = v.verify(subject, body, sign());
  assert.is(r.user, 'alice');
  assert.equal(r.roles, ['READONLY_ADMIN']);
  assert.is(r.signer, signer.keyId);
});

test('a changed body is refused as tampered', () => {
  const { v, sign } = setup();
  const header = sign();
  const other = new TextEncoder().encode(JSON.stringify([[['state', '=', 'FAILED']]]));
  const e = refusal(() => v.verify(subject, other, header));
  assert.instance(e, TamperedRequestError);
  assert.is(e.reason, 'tampered');
  assert.match(e.message, /body/);
});

test('a request moved to another host or method, or given other roles, is refused as tampered', () => {
  const { v, sign } = setup();
  const header = sign();
  assert.instance(refusal(() => v.verify(rpcSubject('h2', 'core.get_jobs'), body, header)), TamperedRequestError);
  assert.instance(refusal(() => v.verify(rpcSubject('h1', 'core.job_abort'), body, header)), TamperedRequestError);
  // Re-encode the envelope with FULL_ADMIN instead of READONLY_ADMIN, keeping the signature.
  const env = parseEnvelope(header);
  const forged = Buffer.from(JSON.stringify({ ...env, roles: ['FULL_ADMIN'] })).toString('base64url');
  assert.instance(refusal(() => v.verify(subject, body, forged)), TamperedRequestError);
  const otherUser = Buffer.from(JSON.stringify({ ...env, user: 'root' })).toString('base64url');
  assert.instance(refusal(() => v.verify(subject, body, otherUser)), TamperedRequestError);
  // A different timestamp (to revive an old request) breaks the signature too.
  const later = Buffer.from(JSON.stringify({ ...env, ts: env.ts + 1 })).toString('base64url');
  assert.instance(refusal(() => v.verify(subject, body, later)), TamperedRequestError);
});

test('timestamps more than 60 s away either way are refused as stale; 60 s exactly is accepted', () => {
  const { clock, v, sign } = setup();
  const old = sign({ now: T0 - 60_001 });
  const ahead = sign({ now: T0 + 60_001 });
  const edge = sign({ now: T0 - 60_000 });
  const e = refusal(() => v.verify(subject, body, old));
  assert.instance(e, StaleRequestError);
  assert.is(e.reason, 'stale');
  assert.instance(refusal(() => v.verify(subject, body, ahead)), StaleRequestError);
  v.verify(subject, body, edge);
  // The same request an instant later has left the window.
  clock.now += 1;
  assert.instance(refusal(() => v.verify(subject, body, sign({ now: T0 - 60_000 }))), StaleRequestError);
});

test('a replayed nonce is refused, also after other requests, until it has left the window', () => {
  const { clock, v, sign } = setup();
  const header = sign({ nonce: 'nonce-aaaaaaaaaaaaaaa' });
  v.verify(subject, body, header);
  for (let i = 0; i < 10; i++) v.verify(subject, body, sign());
  const e = refusal(() => v.verify(subject, body, header));
  assert.instance(e, ReplayedRequestError);
  assert.is(e.reason, 'replayed');
  clock.now += 59_000;
  assert.instance(refusal(() => v.verify(subject, body, header)), ReplayedRequestError);
  // Out of the window the same request is stale, and its nonce is gone from the cache.
  clock.now += 2_000;
  assert.instance(refusal(() => v.verify(subject, body, header)), StaleRequestError);
  v.verify(subject, body, sign());
  assert.is(v.remembered, 1);
});

test('a refused request does not spend its nonce (no one can burn a signer\'s nonces)', () => {
  const { v, sign } = setup();
  const good = sign({ nonce: 'nonce-bbbbbbbbbbbbbbb' });
  const env = parseEnvelope(good);
  const forged = Buffer.from(JSON.stringify({ ...env, sig: env.sig.replace(/^./, env.sig[0] === 'A' ? 'B' : 'A') })).toString('base64url');
  assert.instance(refusal(() => v.verify(subject, body, forged)), TamperedRequestError);
  v.verify(subject, body, good);
});

test('a signer the host does not trust is refused, however valid its signature', () => {
  const { v } = setup();
  const header = signRequest({ key: stranger, subject, body, user: 'alice', roles: [], now: T0 });
  const e = refusal(() => v.verify(subject, body, header));
  assert.instance(e, UnknownSignerError);
  assert.is(e.reason, 'unknown_signer');
});

test('malformed envelopes are refused naming what is wrong', () => {
  const { v, sign } = setup();
  const env = parseEnvelope(sign());
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const cases: Array<[string | undefined, RegExp]> = [
    [undefined, /no Midship-Auth/],
    ['not base64 !', /base64url/],
    [enc([1, 2]), /not an object/],
    [enc({ ...env, v: 2 }), /version/],
    [enc({ ...env, kid: 'short' }), /kid/],
    [enc({ ...env, user: '' }), /user/],
    [enc({ ...env, user: 'a\nb' }), /user/],
    [enc({ ...env, roles: 'FULL_ADMIN' }), /roles/],
    [enc({ ...env, roles: ['full admin'] }), /roles/],
    [enc({ ...env, ts: '1' }), /ts/],
    [enc({ ...env, nonce: 'x' }), /nonce/],
    [enc({ ...env, body_sha256: 'abc' }), /body_sha256/],
    [enc({ ...env, sig: 'abc' }), /sig/],
  ];
  for (const [header, re] of cases) {
    const e = refusal(() => v.verify(subject, body, header));
    assert.instance(e, MalformedRequestError, String(header));
    assert.is(e.reason, 'malformed');
    assert.match(e.message, re);
  }
});

test('signing refuses a bad user or roles with a field name', () => {
  try {
    signRequest({ key: signer, subject, body, user: 'alice', roles: ['lower'], now: T0 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, FleetInputError);
    assert.is((e as FleetInputError).field, 'roles');
  }
});

test('the replay cache refuses new nonces when full of live ones, and frees expired ones', () => {
  const c = new ReplayCache(3);
  c.use('a', T0 + 1000, T0);
  c.use('b', T0 + 1000, T0);
  c.use('c', T0 + 5000, T0);
  assert.throws(() => c.use('d', T0 + 1000, T0), (e: unknown) => e instanceof ReplayCacheFullError && (e as ReplayCacheFullError).reason === 'busy');
  assert.throws(() => c.use('a', T0 + 1000, T0), (e: unknown) => e instanceof ReplayedRequestError);
  // Two seconds on, a and b have expired: room for d, while c is still remembered.
  c.use('d', T0 + 4000, T0 + 2000);
  assert.is(c.size, 2);
  assert.throws(() => c.use('c', T0 + 5000, T0 + 2000), (e: unknown) => e instanceof ReplayedRequestError);
});

test('trust files: comments and labels allowed, anything else refused with its line', () => {
  const keys = parseTrustedKeys(`\n# two signers\n${publicKeyLine(signer.keyId)}\n${publicKeyLine(stranger.keyId)} backup signer\n`);
  assert.equal([...keys.keys()].sort(), [signer.keyId, stranger.keyId].sort());
  assert.throws(() => parseTrustedKeys('# nothing\n'), /holds no public key/);
  assert.throws(() => parseTrustedKeys(`${publicKeyLine(signer.keyId)}\nssh-ed25519 AAAA\n`, 'trust'), /trust:2/);
});

test('signer.key round-trips, must be 0600, and a key not matching its public half is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-fleet-keys-'));
  try {
    const seed = new TextDecoder().decode(createUser().getSeed());
    const path = join(dir, 'signer.key');
    await writeFile(path, signerFileText(signer, seed), { mode: 0o600 });
    const loaded = await loadSignerFile(path);
    assert.is(loaded.signingKey.keyId, signer.keyId);
    assert.is(loaded.natsSeed, seed);
    // Its NATS half works as credentials too (midclt gives one file).
    assert.is(parseCredentials(signerFileText(signer, seed)).kind, 'nkey');
    await chmod(path, 0o644);
    try {
      await loadSignerFile(path);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, FleetInputError);
      assert.match((e as Error).message, /0644.*0600/);
    }
    const text = JSON.parse(signerFileText(signer, seed)) as Record<string, string>;
    text.public_key = publicKeyLine(stranger.keyId);
    await writeFile(join(dir, 'mixed.key'), JSON.stringify(text), { mode: 0o600 });
    try {
      await loadSignerFile(join(dir, 'mixed.key'));
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, /does not belong/);
    }
    assert.throws(() => parseCredentials('hello\n', 'x.creds'), /x.creds: holds no NATS user nkey seed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
