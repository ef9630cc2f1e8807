// The dispatcher directly (daemon/dispatch.ts), with a real daemon's auth service and job engine
// behind it: authentication and roles before anything runs, the per-address limit on anonymous
// calls, argument validation, secrets in results shown only to the write role, result checks,
// the audit trail, and job methods answered by id or by result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import type { Credentials } from '../daemon/auth/credentials.js';
import { INTERNAL_CREDENTIALS } from '../daemon/auth/credentials.js';
import { Dispatcher, type CallOptions } from '../daemon/dispatch.js';
import { CallError, ERRNO, ValidationErrors } from '../daemon/errors.js';
import { REDACTED } from '../daemon/redact.js';
import { Registry, method, type ConnectionInfo } from '../daemon/registry.js';
import { arg, SchemaCompiler } from '../daemon/schema.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';

let d: TestDaemon;
let registry: Registry;
let dispatcher: Dispatcher;

const user = (roles: string[]): Credentials => ({ type: 'LOGIN_PASSWORD', username: 'pat', userId: 5, roles, loginId: 'l5', loginAt: 0 });

/** A client connection as the dispatcher sees it (no socket behind it: nothing is sent). */
function connection(address: string, transport: 'tcp' | 'unix' = 'tcp'): ConnectionInfo {
  return {
    id: `conn-${address}`,
    options: { legacy_jobs: false, private_methods: false, py_exceptions: false },
    protocol: 'jsonrpc',
    credentials: null,
    close: () => undefined,
    transport,
    remoteAddress: address,
    origin: address,
  };
}

const call = (name: string, params: unknown[], o: Partial<CallOptions>): Promise<unknown> =>
  dispatcher.call(registry.get(name)!, params, { connection: null, credentials: null, messageId: null, legacyJobs: false, parentJob: null, authorize: true, ...o });

async function failure(p: Promise<unknown>): Promise<CallError | ValidationErrors> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CallError || err instanceof ValidationErrors) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule] });
  const compiler = new SchemaCompiler();
  registry = new Registry(compiler, true);
  registry.addService({ name: 'vault', type: 'crud', rolePrefix: 'VAULT' });
  registry.addMethod(method('vault.ping', { description: 'open', args: [], result: Type.Literal('pong'), noAuth: true, handler: () => 'pong' as const }));
  registry.addMethod(method('vault.me', { description: 'any session', args: [], result: Type.String(), authOnly: true, handler: (ctx) => ctx.credentials!.username }));
  registry.addMethod(method('vault.query', {
    description: 'a read with a secret in its result',
    args: [arg('limit', Type.Integer({ minimum: 1 }), { default: 10 })],
    result: Type.Object({ limit: Type.Integer(), key: Type.String({ secret: true }) }),
    handler: (_ctx, limit) => ({ limit, key: 'k-123' }),
  }));
  registry.addMethod(method('vault.create', {
    description: 'a write with a secret argument',
    args: [arg('data', Type.Object({ name: Type.String(), password: Type.String({ secret: true }) }))],
    result: Type.Boolean(),
    handler: (_ctx, data) => {
      if (data.name === 'fail') throw new CallError('Refused on purpose', ERRNO.EEXIST);
      if (data.name === 'crash') throw new TypeError('broken on purpose');
      return true;
    },
  }));
  registry.addMethod(method('vault.lie', { description: 'a result its schema refuses', args: [], result: Type.Integer(), handler: () => 'not a number' }));
  registry.addMethod(method('vault.wait', {
    description: 'a job that runs until aborted',
    args: [],
    result: Type.Integer(),
    job: { abortable: true },
    handler: (_ctx, job) => new Promise<number>((resolve) => job.signal.addEventListener('abort', () => resolve(0))),
  }));
  registry.addMethod(method('vault.seal', { description: 'a job', args: [arg('n', Type.Integer())], result: Type.Integer(), job: {}, handler: (_ctx, _job, n) => n * 2 }));
  dispatcher = new Dispatcher({ anonCallsPerMinute: 2, log: d.daemon.log, auth: d.daemon.auth, jobs: d.daemon.jobs });
});
test.after(() => d.cleanup());

test('who may call: anyone a no-auth method, any session an auth-only one, the rest by role', async () => {
  assert.is(await call('vault.ping', [], { connection: connection('10.0.0.1') }), 'pong');
  const anon = await failure(call('vault.me', [], {}));
  assert.equal([(anon as CallError).errno, (anon as CallError).errmsg], [ERRNO.ENOTAUTHENTICATED, 'Not authenticated']);
  assert.is(await call('vault.me', [], { credentials: user([]) }), 'pat');
  const denied = await failure(call('vault.query', [], { credentials: user(['OTHER_READ']) }));
  assert.equal([(denied as CallError).errno, (denied as CallError).errmsg], [ERRNO.EACCES, 'Not authorized']);
  assert.equal(await call('vault.query', [], { credentials: user(['VAULT_READ']) }), { limit: 10, key: REDACTED });
  // Internal calls skip the check unless asked (core.bulk asks, on behalf of its caller).
  assert.equal(await call('vault.query', [3], { credentials: user([]), authorize: false }), { limit: 3, key: REDACTED });
});

test('secrets in results: shown to holders of the write role and to the daemon itself, redacted for readers', async () => {
  assert.equal(await call('vault.query', [], { credentials: user(['VAULT_WRITE']) }), { limit: 10, key: 'k-123' });
  assert.equal(await call('vault.query', [], { credentials: INTERNAL_CREDENTIALS }), { limit: 10, key: 'k-123' });
  assert.equal(await call('vault.query', [], { credentials: user(['READONLY_ADMIN']) }), { limit: 10, key: REDACTED });
});

test('arguments are validated before the handler runs; a result its schema refuses is an error, logged', async () => {
  const bad = await failure(call('vault.query', [0], { credentials: user(['VAULT_READ']) }));
  assert.equal((bad as ValidationErrors).errors, [['limit', 'Input should be greater than or equal to 1', ERRNO.EINVAL]]);
  let thrown: unknown;
  try {
    await call('vault.lie', [], { credentials: INTERNAL_CREDENTIALS });
  } catch (err) {
    thrown = err;
  }
  assert.match((thrown as Error).message, /Result of vault.lie does not match its schema/);
  assert.ok(d.logs.some((l) => l.msg === 'result does not match its schema' && l.method === 'vault.lie'));
});

test('the audit trail: one line per state-changing client call, arguments redacted, success or not', async () => {
  const conn = connection('10.0.0.2');
  const c = user(['VAULT_WRITE']);
  assert.is(await call('vault.create', [{ name: 'a', password: 'hunter2' }], { credentials: c, connection: conn }), true);
  const refused = await failure(call('vault.create', [{ name: 'fail', password: 'hunter2' }], { credentials: c, connection: conn }));
  assert.is((refused as CallError).errno, ERRNO.EEXIST);
  await call('vault.query', [], { credentials: c, connection: conn });
  await call('vault.create', [{ name: 'internal', password: 'x' }], { credentials: INTERNAL_CREDENTIALS, connection: conn });
  const audit = d.logs.filter((l) => l.audit === true && l.conn === conn.id);
  assert.equal(audit.map((l) => [l.method, l.ok, l.args]), [
    ['vault.create', true, [{ name: 'a', password: REDACTED }]],
    ['vault.create', false, [{ name: 'fail', password: REDACTED }]],
  ], 'reads and the daemon\'s own calls are not audited');
  assert.not.ok(JSON.stringify(d.logs).includes('hunter2'), 'the secret never reaches the log');
});

test('unexpected errors are logged with their stack; expected ones are not', async () => {
  const c = user(['VAULT_WRITE']);
  await failure(call('vault.create', [{ name: 'fail', password: 'x' }], { credentials: c }));
  let thrown: unknown;
  try {
    await call('vault.create', [{ name: 'crash', password: 'x' }], { credentials: c });
  } catch (err) {
    thrown = err;
  }
  assert.instance(thrown, TypeError);
  const logged = d.logs.filter((l) => l.msg === 'method raised an unexpected error' && l.method === 'vault.create');
  assert.is(logged.length, 1);
  assert.match(String((logged[0]!.err as { stack?: string }).stack), /broken on purpose/);
});

test('job methods: legacy callers get the id at once, new-style ones the result; onJob learns the id', async () => {
  let seen: number | null = null;
  const id = (await call('vault.seal', [21], { credentials: INTERNAL_CREDENTIALS, legacyJobs: true, onJob: (jid) => (seen = jid) })) as number;
  assert.ok(Number.isInteger(id));
  assert.is(seen, id);
  assert.is(await call('vault.seal', [21], { credentials: INTERNAL_CREDENTIALS }), 42);
  const stored = await d.daemon.jobs.getRecord(id);
  assert.is(stored?.method, 'vault.seal');
  let waiting = 0;
  const answer = call('vault.wait', [], { credentials: INTERNAL_CREDENTIALS, onJob: (jid) => (waiting = jid) });
  await until(() => waiting > 0, 'the job id');
  await d.daemon.jobs.abort(waiting, INTERNAL_CREDENTIALS);
  assert.is(await answer, null, 'an aborted job answers null, whatever its result schema says');
});

test('anonymous TCP peers get a few no-auth calls a minute per method and address; others are not counted', async () => {
  const peer = connection('10.9.9.9');
  assert.is(await call('vault.ping', [], { connection: peer }), 'pong');
  assert.is(await call('vault.ping', [], { connection: peer }), 'pong');
  // Refused after a delay of 1 to 10 s (a flood must not be answered at its own pace).
  const limited = await failure(call('vault.ping', [], { connection: peer }));
  assert.equal([(limited as CallError).errno, (limited as CallError).errmsg], [ERRNO.EBUSY, 'Rate Limit Exceeded']);
  assert.is(await call('vault.ping', [], { connection: connection('10.9.9.10') }), 'pong', 'another address has its own count');
  assert.is(await call('vault.ping', [], { connection: peer, credentials: user([]) }), 'pong', 'a logged-in peer is not limited');
  assert.is(await call('vault.ping', [], { connection: connection('unix', 'unix') }), 'pong');
});

test.run();
