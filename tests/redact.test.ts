// Redaction by schema (daemon/redact.ts): a property marked `secret: true` reads "********"
// wherever the value sits (nested objects, arrays, tuples, records, any branch of a union), null
// and absent secrets stay as they are, and a schema without secrets leaves values untouched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { REDACTED, redactBySchema } from '../daemon/redact.js';

const Secret = Type.String({ secret: true });

test('a secret property, nested objects and arrays of them', () => {
  const r = redactBySchema(Type.Object({
    name: Type.String(),
    password: Secret,
    nested: Type.Object({ token: Secret, keep: Type.Integer() }),
    keys: Type.Array(Type.Object({ id: Type.Integer(), key: Secret })),
  }));
  const value = { name: 'n', password: 'p', nested: { token: 't', keep: 1 }, keys: [{ id: 1, key: 'a' }, { id: 2, key: 'b' }], extra: 'x' };
  assert.equal(r(value), { name: 'n', password: REDACTED, nested: { token: REDACTED, keep: 1 }, keys: [{ id: 1, key: REDACTED }, { id: 2, key: REDACTED }], extra: 'x' });
  assert.equal(value.password, 'p', 'the value itself is not changed');
});

test('null and absent secrets stay as they are; values of the wrong shape pass through', () => {
  const r = redactBySchema(Type.Object({ password: Type.Union([Secret, Type.Null()]) }));
  assert.equal(r({ password: null }), { password: null });
  assert.equal(r({}), {});
  assert.is(r('not an object'), 'not an object');
  assert.equal(r([1, 2]), [1, 2]);
});

test('records, pattern properties and every branch of a union', () => {
  const env = redactBySchema(Type.Record(Type.String(), Secret));
  assert.equal(env({ A: '1', B: '2' }), { A: REDACTED, B: REDACTED });
  const pattern = redactBySchema(Type.Object({}, { patternProperties: { '^pw_': Secret } }));
  assert.equal(pattern({ pw_a: 'x', other: 'y' }), { pw_a: REDACTED, other: 'y' });
  // A field secret in any shape of a union is secret in all of them.
  const union = redactBySchema(Type.Union([Type.Object({ kind: Type.Literal('a'), key: Secret }), Type.Object({ kind: Type.Literal('b'), token: Secret })]));
  assert.equal(union({ kind: 'a', key: 'k' }), { kind: 'a', key: REDACTED });
  assert.equal(union({ kind: 'b', token: 't' }), { kind: 'b', token: REDACTED });
});

test('positional arguments: one schema per argument, a whole secret argument, tuples', () => {
  const args = redactBySchema([Type.String(), Secret, Type.Object({ secret: Secret })]);
  assert.equal(args(['user', 'hunter2', { secret: 's' }]), ['user', REDACTED, { secret: REDACTED }]);
  assert.equal(args(['only one']), ['only one'], 'missing arguments are not invented');
  const tuple = redactBySchema(Type.Tuple([Type.Integer(), Secret]));
  assert.equal(tuple([1, 'x']), [1, REDACTED]);
});

test('a schema without secrets gives back the very value (no copy on the hot path)', () => {
  const r = redactBySchema(Type.Object({ a: Type.Array(Type.Object({ b: Type.String() })) }));
  const value = { a: [{ b: 'x' }] };
  assert.is(r(value), value);
});

test.run();
