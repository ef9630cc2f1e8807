// Argument handling (daemon/schema.ts) directly: positional arguments checked against their
// TypeBox schemas, defaults filled (and never shared between calls), every problem reported as a
// ValidationErrors entry naming the attribute path, in the reference's words.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { ERRNO, ValidationErrors } from '../daemon/errors.js';
import { SchemaCompiler, arg, argsJsonSchema, toValidationErrors } from '../daemon/schema.js';

const compiler = new SchemaCompiler();

function problems(fn: () => unknown): Array<[string | null, string]> {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ValidationErrors);
    return (err as ValidationErrors).errors.map(([a, m, e]) => (assert.is(e, ERRNO.EINVAL), [a, m]));
  }
  throw new Error('expected ValidationErrors');
}

const validate = compiler.compileArgs([
  arg('id', Type.Integer({ minimum: 1 })),
  arg('data', Type.Object({
    name: Type.String({ minLength: 2, maxLength: 5 }),
    mode: Type.Optional(Type.Union([Type.Literal('A'), Type.Literal('B')])),
    tags: Type.Array(Type.String(), { default: [], maxItems: 2 }),
    'a/b': Type.Optional(Type.Boolean()),
  }, { additionalProperties: false })),
  arg('options', Type.Object({ limit: Type.Integer({ default: 10 }) }), { default: {} as never }),
]);

test('valid arguments come back complete, nested and argument defaults filled', () => {
  assert.equal(validate([1, { name: 'abc' }]), [1, { name: 'abc', tags: [] }, { limit: 10 }]);
});

test('defaults are copies: a handler changing one does not change the next call', () => {
  const first = validate([1, { name: 'abc' }]) as [number, { tags: string[] }, { limit: number }];
  first[1].tags.push('changed');
  first[2].limit = 99;
  assert.equal(validate([1, { name: 'abc' }]), [1, { name: 'abc', tags: [] }, { limit: 10 }]);
});

test('every problem is reported with its attribute path, in one error', () => {
  assert.equal(problems(() => validate([0, { name: 'x', extra: 1, mode: 'C', tags: ['a', 'b', 'c'], 'a/b': 'yes' }])), [
    ['id', 'Input should be greater than or equal to 1'],
    ['data.extra', 'Extra inputs are not permitted'],
    ['data.name', 'String should have at least 2 characters'],
    ['data.mode', 'Input should be "A"'],
    ['data.mode', 'Input should be "B"'],
    ['data.mode', 'must match a schema in anyOf'],
    ['data.tags', 'List should have at most 2 items'],
    ['data.a/b', 'Input should be a valid boolean'],
  ]);
});

test('missing and surplus arguments', () => {
  assert.equal(problems(() => validate([])), [['id', 'Field required'], ['data', 'Field required']]);
  assert.equal(problems(() => validate([1, { name: 'abc' }, {}, 'surplus'])), [['', 'Too many arguments (expected 3, found 4)']]);
  assert.equal(problems(() => validate([1, {}])), [['data.name', 'Field required']]);
  assert.equal(problems(() => validate(['1', { name: 'abc' }])), [['id', 'Input should be a valid integer']], 'no type coercion');
});

test('toValidationErrors names the whole value when an error has no path of its own', () => {
  const v = compiler.compile(Type.Object({ n: Type.Integer() }));
  assert.not.ok(v('nope'));
  assert.equal(toValidationErrors(v.errors!, '', 'event').errors.map(([a]) => a), ['event']);
  assert.not.ok(v({ n: 'x' }));
  assert.equal(toValidationErrors(v.errors!, 'args', 'event').errors.map(([a]) => a), ['args.n']);
});

test('argsJsonSchema: one array schema, required arguments counted, defaults shown', () => {
  const s = argsJsonSchema([arg('a', Type.String()), arg('b', Type.Integer(), { default: 3 })]);
  assert.equal(s, {
    type: 'array',
    prefixItems: [{ type: 'string', title: 'a', _name_: 'a' }, { type: 'integer', title: 'b', _name_: 'b', default: 3 }],
    minItems: 1,
    maxItems: 2,
    items: false,
  });
});

test.run();
