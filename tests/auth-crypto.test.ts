// Credential crypto: scrypt password hashes and SCRAM-SHA-512 for API keys. The known-answer
// tests recompute every SCRAM step here with node:crypto primitives (and compare with a vector
// computed once with Python's hashlib), so a mistake in daemon/auth/scram.ts cannot hide behind
// client and server sharing the same bug.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { dummyVerify, hashPassword, isPasswordHash, verifyPassword } from '../daemon/auth/password.js';
import {
  decoyMaterial,
  deriveScramMaterial,
  isScramMaterial,
  parseClientFirst,
  RFC_STR_ATTRIBUTE,
  ScramExchange,
  scramClient,
  splitApiKey,
  verifyPlainSecret,
  type ScramMaterial,
} from '../daemon/auth/scram.js';
import { CallError, ERRNO, ScramClientError, ValidationErrors } from '../daemon/errors.js';

// Cheap parameters keep the suite fast; one test below uses the defaults.
const FAST = { N: 1024, r: 8, p: 1 };
const ITERS = 4096;
const SECRET = 'Qm3xVb7kLp0aZ9';

function expectInvalid(fn: () => unknown, fragment?: string, errno: number = ERRNO.EINVAL): ValidationErrors {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.instance(caught, ValidationErrors, 'expected ValidationErrors');
  const err = caught as ValidationErrors;
  assert.is(err.errors.length, 1);
  const [attr, msg, no] = err.errors[0]!;
  assert.is(attr, RFC_STR_ATTRIBUTE);
  assert.is(no, errno);
  if (fragment) assert.ok(msg.includes(fragment), `message ${JSON.stringify(msg)} lacks ${JSON.stringify(fragment)}`);
  return err;
}

// ------------------------------------------------------------------------------------------------
// Passwords

test('password: hash/verify round trip, per-hash salt, self-describing format', async () => {
  const a = await hashPassword('s3cret', FAST);
  const b = await hashPassword('s3cret', FAST);
  assert.not.equal(a, b, 'two hashes of one password must differ (random salt)');
  const parts = a.split('$');
  assert.is(parts.length, 6);
  assert.equal(parts.slice(0, 4), ['scrypt', '1024', '8', '1']);
  assert.is(Buffer.from(parts[4]!, 'base64').length, 16);
  assert.is(Buffer.from(parts[5]!, 'base64').length, 64);
  assert.ok(isPasswordHash(a));
  assert.ok(await verifyPassword('s3cret', a));
  assert.ok(await verifyPassword('s3cret', b));
  assert.not.ok(a.includes('s3cret'));
});

test('password: wrong, near-miss, empty and unicode passwords', async () => {
  const h = await hashPassword('pässwörd ✓', FAST);
  assert.ok(await verifyPassword('pässwörd ✓', h));
  assert.not.ok(await verifyPassword('passwörd ✓', h));
  assert.not.ok(await verifyPassword('pässwörd ✓ ', h));
  assert.not.ok(await verifyPassword('', h));
  const empty = await hashPassword('', FAST);
  assert.ok(await verifyPassword('', empty));
  assert.not.ok(await verifyPassword(' ', empty));
});

test('password: default parameters work', async () => {
  const h = await hashPassword('default-params');
  assert.ok(h.startsWith('scrypt$32768$8$3$'));
  assert.ok(await verifyPassword('default-params', h));
  assert.not.ok(await verifyPassword('default-param', h));
});

test('password: tampered and garbage stored strings are rejected without throwing', async () => {
  const good = await hashPassword('pw', FAST);
  const parts = good.split('$');
  const hashB64 = parts[5]!;
  const flipped = (hashB64[0] === 'A' ? 'B' : 'A') + hashB64.slice(1);
  const saltB64 = parts[4]!;
  // Well-formed but tampered: still shaped like a hash, never matching.
  const tampered: string[] = [
    [...parts.slice(0, 5), flipped].join('$'),
    [parts[0], parts[1], parts[2], parts[3], (saltB64[0] === 'A' ? 'B' : 'A') + saltB64.slice(1), hashB64].join('$'),
    [parts[0], '2048', parts[2], parts[3], saltB64, hashB64].join('$'),
    [parts[0], parts[1], parts[2], '2', saltB64, hashB64].join('$'),
  ];
  for (const s of tampered) {
    assert.ok(isPasswordHash(s), s);
    assert.is(await verifyPassword('pw', s), false, `verifyPassword vs ${s}`);
  }
  // Malformed or out of bounds.
  const bad: string[] = [
    '',
    'pw',
    'scrypt',
    'scrypt$',
    'scrypt$1024$8$1$$',
    `bcrypt$1024$8$1$${saltB64}$${hashB64}`,
    `scrypt$1000$8$1$${saltB64}$${hashB64}`, // N not a power of two
    `scrypt$1073741824$8$1$${saltB64}$${hashB64}`, // N absurdly large
    `scrypt$65536$1$1$${saltB64}$${hashB64}`, // N >= 2^(16 r): OpenSSL would refuse
    `scrypt$1024$999$1$${saltB64}$${hashB64}`, // r out of bounds
    `scrypt$1024$8$0$${saltB64}$${hashB64}`, // p zero
    `scrypt$01024$8$1$${saltB64}$${hashB64}`, // leading zero
    `scrypt$1024$8$1$!!!!$${hashB64}`, // salt not base64
    `scrypt$1024$8$1$AAAA$${hashB64}`, // salt too short
    `scrypt$1024$8$1$${saltB64}$AAAA`, // hash too short
    `${good}$extra`,
  ];
  for (const s of bad) {
    assert.not.ok(isPasswordHash(s), `isPasswordHash(${JSON.stringify(s)})`);
    assert.is(await verifyPassword('pw', s), false, `verifyPassword vs ${JSON.stringify(s)}`);
  }
  // An untyped record may hand over null.
  assert.is(await verifyPassword('pw', null as unknown as string), false);
  // The untouched hash still verifies (so the failures above are due to the tampering).
  assert.ok(await verifyPassword('pw', good));
});

test('password: invalid parameters are refused at hashing time; dummyVerify resolves', async () => {
  for (const p of [{ N: 1000 }, { N: 1 << 22 }, { r: 0 }, { p: 100 }, { keylen: 8 }]) {
    let err: unknown = null;
    try {
      await hashPassword('x', { ...FAST, ...p });
    } catch (e) {
      err = e;
    }
    assert.instance(err, RangeError, JSON.stringify(p));
  }
  await dummyVerify();
  await dummyVerify();
});

// ------------------------------------------------------------------------------------------------
// SCRAM material

test('scram material: shape, randomness, and the secret is never in it', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS);
  assert.equal(Object.keys(m).sort(), ['iterations', 'salt', 'server_key', 'stored_key']);
  assert.is(m.iterations, ITERS);
  assert.is(Buffer.from(m.salt, 'base64').length, 16);
  assert.is(Buffer.from(m.stored_key, 'base64').length, 64);
  assert.is(Buffer.from(m.server_key, 'base64').length, 64);
  assert.ok(isScramMaterial(m));
  const json = JSON.stringify(m);
  assert.not.ok(json.includes(SECRET));
  assert.not.ok(json.includes(Buffer.from(SECRET).toString('base64')));
  assert.not.ok(json.includes(Buffer.from(SECRET).toString('hex')));
  // SaltedPassword is a password equivalent: it must not be stored either.
  const salted = pbkdf2Sync(SECRET, Buffer.from(m.salt, 'base64'), ITERS, 64, 'sha512');
  assert.not.ok(json.includes(salted.toString('base64')));
  const m2 = await deriveScramMaterial(SECRET, ITERS);
  assert.not.equal(m2.salt, m.salt);
  assert.not.equal(m2.stored_key, m.stored_key);
});

test('scram material: bad iterations or secret are refused', async () => {
  for (const [secret, iters] of [[SECRET, 1000], [SECRET, 6_000_000], [SECRET, 4096.5], ['', ITERS]] as const) {
    let err: unknown = null;
    try {
      await deriveScramMaterial(secret, iters);
    } catch (e) {
      err = e;
    }
    assert.instance(err, RangeError, `${secret}/${iters}`);
  }
});

test('scram plain: verifyPlainSecret accepts the secret only; bad material is false, not a throw', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS);
  assert.ok(await verifyPlainSecret(SECRET, m));
  assert.not.ok(await verifyPlainSecret(SECRET + 'x', m));
  assert.not.ok(await verifyPlainSecret('', m));
  assert.not.ok(await verifyPlainSecret(SECRET, { ...m, iterations: 4097 }));
  assert.not.ok(await verifyPlainSecret(SECRET, { ...m, stored_key: m.server_key }));
  const broken: unknown[] = [
    { ...m, stored_key: 'AAAA' },
    { ...m, salt: '***' },
    { ...m, iterations: 10 },
    { ...m, iterations: 50_000_000 },
    { ...m, iterations: '4096' },
    null,
    {},
  ];
  for (const b of broken) {
    assert.not.ok(isScramMaterial(b));
    assert.is(await verifyPlainSecret(SECRET, b as ScramMaterial), false, JSON.stringify(b));
  }
  assert.not.ok(await verifyPlainSecret(SECRET, decoyMaterial('admin', 7, ITERS)));
});

test('splitApiKey', () => {
  assert.equal(splitApiKey('7-Qm3abc'), { keyId: 7, secret: 'Qm3abc' });
  assert.equal(splitApiKey('12-a-b'), null);
  assert.equal(splitApiKey('x-abc'), null);
  assert.equal(splitApiKey('7-'), null);
  assert.equal(splitApiKey('7-abc!'), null);
});

// ------------------------------------------------------------------------------------------------
// SCRAM known answers

// Computed once with Python hashlib/hmac from the same inputs (secret, salt 00..0f, 4096 rounds).
const KAT = {
  salt: Buffer.from([...Array(16).keys()]),
  clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
  serverNonce: '3rfcNHYJY1ZVvWVs7j',
  storedKey: '0nHPJRGC0HIJ5Z2Vo9cbc55BvNZfsL3j6VrnuLJlOldNcBT3McNp7ksZwoAKZTOk3qdjwkxnh4gCciP71x7rEw==',
  serverKey: 'y6vve7ruAnIrrJaG9p2DBFv8znAnGkheQXHf4NW+W3AX2jLl7y59GgWdk0KwoGVIyBr/0Bs/NfsGNCdpkWzyPw==',
  clientFinal:
    'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=CYNVh1yUUt4QwyRHBAQTkKn/ZXS8i56ECH4Dnjvpden1WgqcMcLTBRxi/JmipGTqgwjYbkMxwVBHUuMpz4hohA==',
  serverFinal: 'v=NoW9tE1vyiQwQs7MdJrUSanyb7gzRDdsDCwSnMZ22ZzTDLvNnKlh1nG4ho2NSGOKX7OFnWYkhNMRCR1kOqFN0Q==',
};

const H = (b: Buffer): Buffer => createHash('sha512').update(b).digest();
const HMAC = (k: Buffer, d: string): Buffer => createHmac('sha512', k).update(d).digest();

test('scram known answer: material matches an independent step-by-step computation', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS, KAT.salt);
  const salted = pbkdf2Sync(Buffer.from(SECRET), KAT.salt, ITERS, 64, 'sha512');
  const clientKey = HMAC(salted, 'Client Key');
  assert.is(m.salt, KAT.salt.toString('base64'));
  assert.is(m.stored_key, H(clientKey).toString('base64'));
  assert.is(m.server_key, HMAC(salted, 'Server Key').toString('base64'));
  assert.is(m.stored_key, KAT.storedKey);
  assert.is(m.server_key, KAT.serverKey);
});

test('scram known answer: full exchange reproduces every message', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS, KAT.salt);
  // The username has a ',' to exercise the =2C escape.
  const client = scramClient('ad,min', 7, SECRET, { clientNonce: KAT.clientNonce });
  assert.is(client.clientFirst, `n,,n=ad=2Cmin:7,r=${KAT.clientNonce}`);

  const first = parseClientFirst(client.clientFirst);
  assert.equal(first, {
    username: 'ad,min',
    keyId: 7,
    clientNonce: KAT.clientNonce,
    clientFirstBare: `n=ad=2Cmin:7,r=${KAT.clientNonce}`,
    gs2Header: 'n,,',
  });
  const server = new ScramExchange(first, m, KAT.serverNonce);
  const serverFirst = `r=${KAT.clientNonce}${KAT.serverNonce},s=${KAT.salt.toString('base64')},i=${ITERS}`;
  assert.is(server.serverFirst, serverFirst);

  const clientFinal = await client.clientFinal(server.serverFirst);
  assert.is(clientFinal, KAT.clientFinal);

  // Recompute the proof and server signature by hand from the RFC 5802 definitions.
  const salted = pbkdf2Sync(Buffer.from(SECRET), KAT.salt, ITERS, 64, 'sha512');
  const clientKey = HMAC(salted, 'Client Key');
  const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${KAT.clientNonce}${KAT.serverNonce}`;
  const authMessage = `${first.clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = HMAC(H(clientKey), authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
  assert.is(clientFinal, `${withoutProof},p=${proof.toString('base64')}`);

  const serverFinal = server.finish(clientFinal);
  assert.is(serverFinal, `v=${HMAC(HMAC(salted, 'Server Key'), authMessage).toString('base64')}`);
  assert.is(serverFinal, KAT.serverFinal);
  assert.ok(client.verifyServerFinal(serverFinal!));
});

// ------------------------------------------------------------------------------------------------
// SCRAM exchanges

async function exchange(username: string, keyId: number, secret: string, material: ScramMaterial) {
  const client = scramClient(username, keyId, secret);
  const server = new ScramExchange(parseClientFirst(client.clientFirst), material);
  const clientFinal = await client.clientFinal(server.serverFirst);
  return { client, server, clientFinal };
}

test('scram: random exchange succeeds both ways; escaped usernames round-trip', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS);
  const { client, server, clientFinal } = await exchange('we=ird,name', 12, SECRET, m);
  const first = parseClientFirst(client.clientFirst);
  assert.is(first.username, 'we=ird,name');
  assert.is(first.keyId, 12);
  const final = server.finish(clientFinal);
  assert.type(final, 'string');
  assert.ok(client.verifyServerFinal(final!));
  // A server that does not hold ServerKey cannot forge the final message.
  assert.not.ok(client.verifyServerFinal('v=' + Buffer.alloc(64, 1).toString('base64')));
  assert.not.ok(client.verifyServerFinal('v=garbage'));
  assert.not.ok(client.verifyServerFinal(''));
});

test('scram: wrong secret and tampered proof give null; an exchange finishes once', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS);
  const wrong = await exchange('admin', 7, SECRET + 'X', m);
  assert.is(wrong.server.finish(wrong.clientFinal), null);

  const ok = await exchange('admin', 7, SECRET, m);
  const at = ok.clientFinal.indexOf(',p=') + 3;
  const proof = Buffer.from(ok.clientFinal.slice(at), 'base64');
  proof[0]! ^= 1;
  assert.is(ok.server.finish(ok.clientFinal.slice(0, at) + proof.toString('base64')), null);
  // No second try on the same nonce, even with the right proof.
  let err: unknown = null;
  try {
    ok.server.finish(ok.clientFinal);
  } catch (e) {
    err = e;
  }
  assert.instance(err, CallError);
});

test('scram: decoy and corrupt material fail quietly; decoy salt is stable per user', async () => {
  const d1 = decoyMaterial('ghost', 3, ITERS);
  const d2 = decoyMaterial('ghost', 3, ITERS);
  assert.ok(isScramMaterial(d1));
  assert.is(d1.salt, d2.salt);
  assert.not.equal(decoyMaterial('ghost', 4, ITERS).salt, d1.salt);
  const decoy = await exchange('ghost', 3, SECRET, d1);
  assert.is(decoy.server.finish(decoy.clientFinal), null);

  const m = await deriveScramMaterial(SECRET, ITERS);
  const corrupt = { ...m, stored_key: 'not base64!' };
  const client = scramClient('admin', 7, SECRET);
  const server = new ScramExchange(parseClientFirst(client.clientFirst), corrupt);
  // Corrupt material is replaced by a decoy (default iterations): cap the client's work instead.
  assert.match(server.serverFirst, /,i=500000$/);
  const anyProof = Buffer.alloc(64, 9).toString('base64');
  assert.is(server.finish(`c=biws,r=${server.combinedNonce},p=${anyProof}`), null);
});

test('scram: nonce, c= and channel-binding tampering name the attribute', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS);
  const proofOf = (s: string) => s.slice(s.indexOf(',p='));

  const a = await exchange('admin', 7, SECRET, m);
  const r = /,r=([^,]+)/.exec(a.clientFinal)![1]!;
  expectInvalid(() => a.server.finish(a.clientFinal.replace(`r=${r}`, `r=${r}x`)), 'nonce');

  const b = await exchange('admin', 7, SECRET, m);
  const bNonce = /,r=([^,]+)/.exec(b.clientFinal)![1]!;
  // Client-nonce part only: the server part must be echoed too.
  expectInvalid(() => b.server.finish(`c=biws,r=${bNonce.slice(0, 10)}${proofOf(b.clientFinal)}`), 'nonce');

  const c = await exchange('admin', 7, SECRET, m);
  // 'eSws' is base64("y,,"): does not match the "n,," the client started with.
  expectInvalid(() => c.server.finish(c.clientFinal.replace('c=biws', 'c=eSws')), 'GS2 header');

  const d = await exchange('admin', 7, SECRET, m);
  const cbind = Buffer.from('p=tls-server-end-point,,' + 'x'.repeat(32)).toString('base64');
  expectInvalid(() => d.server.finish(d.clientFinal.replace('c=biws', `c=${cbind}`)), 'channel binding', ERRNO.EOPNOTSUPP);

  expectInvalid(
    () => parseClientFirst('p=tls-server-end-point,,n=admin:7,r=abcdef'),
    'channel binding',
    ERRNO.EOPNOTSUPP,
  );
});

test('scram: "y,," header is accepted and must be echoed', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS);
  const client = scramClient('admin', 7, SECRET);
  const yFirst = client.clientFirst.replace(/^n,,/, 'y,,');
  const parsed = parseClientFirst(yFirst);
  assert.is(parsed.gs2Header, 'y,,');
  // Build a matching client-final by hand for the "y,," header.
  const server = new ScramExchange(parsed, m);
  const [rAttr, sAttr] = server.serverFirst.split(',');
  const salted = pbkdf2Sync(Buffer.from(SECRET), Buffer.from(sAttr!.slice(2), 'base64'), ITERS, 64, 'sha512');
  const clientKey = HMAC(salted, 'Client Key');
  const withoutProof = `c=${Buffer.from('y,,').toString('base64')},${rAttr}`;
  const authMessage = `${parsed.clientFirstBare},${server.serverFirst},${withoutProof}`;
  const sig = HMAC(H(clientKey), authMessage);
  const proof = Buffer.from(clientKey.map((x, i) => x ^ sig[i]!));
  assert.type(server.finish(`${withoutProof},p=${proof.toString('base64')}`), 'string');
});

test('scram: malformed client-first messages are ValidationErrors on login_data.rfc_str', () => {
  const cases: Array<[unknown, string]> = [
    ['', 'empty'],
    [42, 'string'],
    ['x'.repeat(5000), 'longer'],
    ['n,', 'GS2 header'],
    ['n=admin:7,r=abc', 'GS2 header'],
    ['q,,n=admin:7,r=abc', 'flag'],
    ['n,a=bob,n=admin:7,r=abc', 'authorization identity'],
    ['n,,m=ext,n=admin:7,r=abc', 'mandatory extensions'],
    ['n,,r=abc', 'n=<user>'],
    ['n,,n=admin:7', 'r=<nonce>'],
    ['n,,n=admin:7,x=abc', 'r=<nonce>'],
    ['n,,n=admin,r=abc', '<api key id>'],
    ['n,,n=admin:seven,r=abc', 'decimal'],
    ['n,,n=admin:,r=abc', 'decimal'],
    ['n,,n=:7,r=abc', 'empty'],
    ['n,,n=ad=2Xmin:7,r=abc', 'escape'],
    ['n,,n=ad=min:7,r=abc', 'escape'],
    ['n,,n=admin:7,r=', 'nonce'],
    ['n,,n=admin:7,r=ab\u0001c', 'nonce'],
    ['n,,n=admin:7,r=abé', 'nonce'],
  ];
  for (const [msg, fragment] of cases) expectInvalid(() => parseClientFirst(msg as string), fragment);
  // A caller may name another attribute.
  let err: unknown = null;
  try {
    parseClientFirst('n,,r=abc', 'rfc_str');
  } catch (e) {
    err = e;
  }
  assert.instance(err, ValidationErrors);
  assert.is((err as ValidationErrors).errors[0]![0], 'rfc_str');
  // Extensions after the nonce are tolerated and kept in the bare message.
  assert.is(parseClientFirst('n,,n=admin:7,r=abc,x=1').clientFirstBare, 'n=admin:7,r=abc,x=1');
});

test('scram: malformed client-final messages are ValidationErrors on login_data.rfc_str', async () => {
  const m = await deriveScramMaterial(SECRET, ITERS);
  const base = await exchange('admin', 7, SECRET, m);
  const r = /,r=([^,]+)/.exec(base.clientFinal)![1]!;
  const goodProof = base.clientFinal.slice(base.clientFinal.indexOf(',p=') + 3);
  const cases: Array<[string, string]> = [
    [`c=biws,r=${r}`, 'proof'],
    [`c=biws,r=${r},p=***`, 'proof'],
    [`c=biws,r=${r},p=AAAA`, 'proof'],
    [`r=${r},p=${goodProof}`, 'c='],
    [`c=biws,p=${goodProof}`, 'r='],
    [`c=b!ws,r=${r},p=${goodProof}`, 'base64'],
    ['', 'empty'],
  ];
  for (const [msg, fragment] of cases) {
    const fresh = new ScramExchange(parseClientFirst(base.client.clientFirst), m);
    expectInvalid(() => fresh.finish(msg.replace(r, fresh.combinedNonce)), fragment);
  }
});

test('scram client: refuses a misbehaving server', async () => {
  const expectClientError = async (serverFirst: string, fragment: string) => {
    const client = scramClient('admin', 7, SECRET, { clientNonce: 'abcdef', maxIterations: 10_000 });
    let err: unknown = null;
    try {
      await client.clientFinal(serverFirst);
    } catch (e) {
      err = e;
    }
    assert.instance(err, ScramClientError, serverFirst);
    assert.ok((err as Error).message.includes(fragment), `${(err as Error).message} / ${fragment}`);
  };
  const salt = Buffer.alloc(16, 7).toString('base64');
  await expectClientError(`r=zzzzzz123,s=${salt},i=4096`, 'extend');
  await expectClientError(`r=abcdef,s=${salt},i=4096`, 'extend');
  await expectClientError(`r=abcdef123,s=${salt},i=20000`, 'iterations');
  await expectClientError(`r=abcdef123,s=${salt},i=100`, 'iterations');
  await expectClientError(`r=abcdef123,s=!!,i=4096`, 'salt');
  await expectClientError('e=other-error', 'other-error');
  await expectClientError('garbage', 'r=');

  const client = scramClient('admin', 7, SECRET);
  let early: unknown = null;
  try {
    client.verifyServerFinal('v=AAAA');
  } catch (e) {
    early = e;
  }
  assert.instance(early, ScramClientError);
});

test.run();
