// The registry directly: roles derived from a service's role prefix, which calls change state
// (audit, read-only roles), the one authorization rule (mayCall), refusals of bad definitions,
// and the core.get_methods metadata of PROTOCOL.md 6.10.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import type { Credentials } from '../daemon/auth/credentials.js';
import { Registry, mayCall, method, type MethodDef } from '../daemon/registry.js';
import { arg, SchemaCompiler } from '../daemon/schema.js';

const plain = (name: string, extra: Partial<Parameters<typeof method>[1]> = {}): MethodDef =>
  method(name, { description: `${name}.`, args: [], result: Type.Null(), handler: () => null, ...extra } as Parameters<typeof method>[1]);

function registry(): Registry {
  const r = new Registry(new SchemaCompiler(), true);
  r.addService({ name: 'pool', type: 'crud', rolePrefix: 'POOL' });
  r.addService({ name: 'core', type: 'service' });
  return r;
}

const user = (roles: string[]): Credentials => ({ type: 'LOGIN_PASSWORD', username: 'u', userId: 7, roles, loginId: 'l', loginAt: 0 });

test('roles come from the role prefix: reads need <PREFIX>_READ, everything else <PREFIX>_WRITE', () => {
  const r = registry();
  for (const name of ['pool.query', 'pool.get_instance', 'pool.config', 'pool.create', 'pool.update', 'pool.delete', 'pool.scrub', 'pool.type_choices']) r.addMethod(plain(name));
  const roles = (n: string) => r.get(n)!.roles;
  assert.equal(roles('pool.query'), ['POOL_READ']);
  assert.equal(roles('pool.get_instance'), ['POOL_READ']);
  assert.equal(roles('pool.type_choices'), ['POOL_READ']);
  assert.equal(roles('pool.create'), ['POOL_WRITE']);
  assert.equal(roles('pool.scrub'), ['POOL_WRITE'], 'a verb that is not a read writes');
  assert.equal(roles('pool.config'), ['POOL_READ']);
  r.addMethod(plain('pool.export', { roles: ['POOL_READ', 'SHARING_ADMIN'] }));
  assert.equal(roles('pool.export'), ['POOL_READ', 'SHARING_ADMIN'], 'declared roles are kept as they are');
  r.addMethod(plain('core.restart'));
  assert.equal(roles('core.restart'), [], 'no prefix: full admins only');
  r.addMethod(plain('nowhere.thing'));
  assert.equal(roles('nowhere.thing'), [], 'no service at all: full admins only');
});

test('which calls change state: reads, *_choices and read-only roles do not; no-auth and auth-only calls only when they say so', () => {
  const r = registry();
  r.addMethod(plain('pool.query'));
  r.addMethod(plain('pool.create'));
  r.addMethod(plain('pool.disk_choices'));
  r.addMethod(plain('pool.status', { roles: ['POOL_READ'] }));
  r.addMethod(plain('core.ping', { noAuth: true }));
  r.addMethod(plain('core.whoami', { authOnly: true }));
  r.addMethod(plain('core.terminate', { authOnly: true, audit: true }));
  const writes = (n: string) => r.get(n)!.writes;
  assert.equal([writes('pool.query'), writes('pool.disk_choices'), writes('pool.status')], [false, false, false]);
  assert.ok(writes('pool.create'));
  assert.equal([writes('core.ping'), writes('core.whoami'), writes('core.terminate')], [false, false, true]);
  assert.is(r.get('pool.query')!.writeRole, 'POOL_WRITE');
  assert.is(r.get('core.ping')!.writeRole, null);
});

test('mayCall: no-auth for anyone, auth-only for any session, the rest by role (FULL_ADMIN, READONLY_ADMIN, WRITE grants READ)', () => {
  const r = registry();
  for (const m of [plain('core.ping', { noAuth: true }), plain('core.me', { authOnly: true }), plain('pool.query'), plain('pool.create'), plain('core.restart')]) r.addMethod(m);
  const m = (n: string) => r.get(n)!;
  assert.ok(mayCall(null, m('core.ping')));
  assert.not.ok(mayCall(null, m('core.me')));
  assert.ok(mayCall(user([]), m('core.me')));
  assert.not.ok(mayCall(user([]), m('pool.query')));
  assert.ok(mayCall(user(['POOL_READ']), m('pool.query')));
  assert.ok(mayCall(user(['POOL_WRITE']), m('pool.query')), 'WRITE grants READ');
  assert.ok(mayCall(user(['READONLY_ADMIN']), m('pool.query')));
  assert.not.ok(mayCall(user(['READONLY_ADMIN']), m('pool.create')));
  assert.not.ok(mayCall(user(['POOL_READ']), m('pool.create')));
  assert.not.ok(mayCall(user(['POOL_WRITE']), m('core.restart')), 'no roles: full admin only');
  assert.ok(mayCall(user(['FULL_ADMIN']), m('core.restart')));
  assert.ok(mayCall({ ...user([]), type: 'INTERNAL' }, m('core.restart')), 'the daemon itself may call anything');
});

test('bad definitions are refused when registered', () => {
  const r = registry();
  r.addMethod(plain('pool.query'));
  assert.throws(() => r.addMethod(plain('pool.query')), /registered twice/);
  assert.throws(() => r.addMethod(plain('query')), /no namespace/);
  r.addEvent({ name: 'pool.query', description: 'changes' });
  assert.throws(() => r.addEvent({ name: 'pool.query', description: 'again' }), /registered twice/);
});

test('describe: the core.get_methods entry, with plain JSON schemas of the arguments and the result', () => {
  const r = registry();
  r.addMethod(method('pool.scrub', {
    description: 'Scrub a pool.\nMore words.',
    args: [arg('id', Type.Integer({ minimum: 1 })), arg('action', Type.String(), { default: 'START' })],
    result: Type.Object({ ok: Type.Boolean() }),
    job: { lock: 'scrub', downloadable: true },
    handler: () => ({ ok: true }),
  }));
  const d = r.describe(r.get('pool.scrub')!);
  assert.is(d.description, 'Scrub a pool.\nMore words.');
  assert.is(d.cli_description, 'Scrub a pool.');
  assert.equal([d.job, d.downloadable, d.check_pipes, d.no_auth_required, d.no_authz_required], [true, true, true, false, false]);
  assert.equal(d.roles, ['POOL_WRITE']);
  const accepts = d.accepts as { prefixItems: Array<Record<string, unknown>>; minItems: number; maxItems: number; items: boolean };
  assert.equal([accepts.minItems, accepts.maxItems, accepts.items], [1, 2, false]);
  assert.equal(accepts.prefixItems.map((a) => [a._name_, a.title, a.default]), [['id', 'id', undefined], ['action', 'action', 'START']]);
  // Served as JSON: TypeBox's symbol keys are gone, the schema is what JSON.stringify keeps.
  assert.equal(d.returns, JSON.parse(JSON.stringify(Type.Object({ ok: Type.Boolean() }))));
  assert.equal(Object.getOwnPropertySymbols(d.returns as object), []);
});

test.run();
