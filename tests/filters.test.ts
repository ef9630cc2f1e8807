// The query language of PROTOCOL.md 7: every operator and its case-insensitive variant, paths,
// validation errors, ordering, projection and the option pipeline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { CallError, MatchNotFound, ValidationErrors, errorData } from '../daemon/errors.js';
import { applyQuery, compileFilters, getPath, parseIsoTimestamp, project, sortEntries } from '../daemon/query/index.js';
import { QueryFilters, QueryOptions } from '../schemas/query.js';

type Entry = Record<string, unknown>;

const JOBS: Entry[] = [
  { id: 1, method: 'pool.create', state: 'SUCCESS', progress: { percent: 100 }, tags: ['a', 'b'], time_finished: 1718000000000, owner: 'Root' },
  { id: 2, method: 'core.bulk', state: 'RUNNING', progress: { percent: 35 }, tags: [], time_finished: null, owner: 'alice' },
  { id: 3, method: 'pool.scrub', state: 'FAILED', progress: { percent: 50 }, tags: ['B'], time_finished: { $date: 1718100000000 }, owner: null },
  { id: 4, method: 'core.bulk', state: 'ABORTED', progress: { percent: 100 }, tags: ['c'], time_finished: 1717000000000 },
];

function ids(filters: unknown, entries: Entry[] = JOBS): number[] {
  const match = compileFilters(filters).match;
  return entries.filter(match).map((e) => e.id as number);
}

function one(entry: unknown, field: string, op: string, value: unknown): boolean {
  return compileFilters([[field, op, value]]).match(entry);
}

function rejects(filters: unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    compileFilters(filters);
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, ValidationErrors, `expected ValidationErrors for ${JSON.stringify(filters)}`);
  const errors = (caught as ValidationErrors).errors;
  assert.is(errors.length, 1);
  assert.is(errors[0]![0], 'filters');
  assert.is(errors[0]![2], 22);
  if (typeof message === 'string') assert.is(errors[0]![1], message);
  else assert.match(errors[0]![1], message);
}

function throwsCallError(fn: () => unknown, errno: number): CallError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, CallError);
  assert.is((caught as CallError).errno, errno);
  return caught as CallError;
}

// --- operators -------------------------------------------------------------------------------

test('= and != compare deeply, with no coercion', () => {
  assert.equal(ids([['state', '=', 'FAILED']]), [3]);
  assert.equal(ids([['state', '!=', 'FAILED']]), [1, 2, 4]);
  assert.equal(ids([['progress', '=', { percent: 35 }]]), [2]);
  assert.equal(ids([['tags', '=', ['a', 'b']]]), [1]);
  assert.equal(ids([['tags', '=', ['b', 'a']]]), []);
  assert.equal(ids([['id', '=', '1']]), []);
  assert.ok(!one({ v: true }, 'v', '=', 1));
  assert.ok(one({ v: { a: 1, b: 2 } }, 'v', '=', { b: 2, a: 1 }));
});

test('ordered comparisons on numbers, strings and lists; mismatched types never match', () => {
  assert.equal(ids([['id', '>', 2]]), [3, 4]);
  assert.equal(ids([['id', '>=', 2]]), [2, 3, 4]);
  assert.equal(ids([['id', '<', 2]]), [1]);
  assert.equal(ids([['id', '<=', 2]]), [1, 2]);
  assert.equal(ids([['method', '>', 'pool']]), [1, 3]);
  assert.ok(one({ v: [1, 2] }, 'v', '<', [1, 3]));
  assert.ok(one({ v: [1, 2] }, 'v', '>', [1]));
  for (const op of ['>', '>=', '<', '<=']) {
    assert.ok(!one({ v: '5' }, 'v', op, 5), op);
    assert.ok(!one({ v: null }, 'v', op, 5), op);
  }
  // Code-point order (Python), not UTF-16 order: U+1F600 sorts after U+FF5E.
  assert.ok(one({ v: '\u{1F600}' }, 'v', '>', '\uFF5E'));
});

test('~ is anchored at the start, null is "", (?i) and Python syntax are understood', () => {
  assert.equal(ids([['method', '~', 'pool']]), [1, 3]);
  assert.equal(ids([['method', '~', 'create']]), []);
  assert.equal(ids([['method', '~', '.*create']]), [1]);
  assert.equal(ids([['method', '~', 'POOL']]), []);
  assert.equal(ids([['method', '~', '(?i)POOL\\.s']]), [3]);
  assert.ok(one({ v: null }, 'v', '~', '$'));
  assert.ok(!one({ v: null }, 'v', '~', 'x'));
  assert.ok(!one({ v: 5 }, 'v', '~', '5'));
  assert.ok(one({ v: 'ab\ncd' }, 'v', '~', '(?m)ab$'));
  assert.ok(!one({ v: 'x\nab' }, 'v', '~', '(?m)ab'), 'multiline must not unanchor the match');
  assert.ok(one({ v: 'abab' }, 'v', '~', '(?P<x>ab)ab\\Z'));
  assert.ok(!one({ v: 'ababc' }, 'v', '~', '(?P<x>ab)ab\\Z'));
  assert.ok(one({ v: 'ab\n' }, 'v', '~', '\\Aab'));
  assert.ok(one({ v: ']x' }, 'v', '~', '[]]x'));
  // The compiled regex is reused: repeated evaluation must not carry lastIndex over.
  const match = compileFilters([['v', '~', 'a']]).match;
  assert.ok(match({ v: 'a' }) && match({ v: 'a' }) && match({ v: 'ab' }));
});

test('~ runs in linear time: catastrophic-backtracking patterns answer at once', () => {
  // With a backtracking engine each of these takes longer than the universe has left; the
  // test would simply never end.
  const text = `${'a'.repeat(5000)}!`;
  for (const p of ['(.|.)*X', '(a|a)*X', '(a*)*$X', '(a|aa)+$', '((a+)+)+b', '(?s)(.*.*)*X']) {
    assert.ok(!one({ v: text }, 'v', '~', p), p);
  }
  assert.ok(one({ v: text }, 'v', '~', '(a|a)*!'));
});

test('in / nin', () => {
  assert.equal(ids([['state', 'in', ['FAILED', 'ABORTED']]]), [3, 4]);
  assert.equal(ids([['state', 'nin', ['FAILED', 'ABORTED']]]), [1, 2]);
  assert.equal(ids([['state', 'in', 'XSUCCESSX']]), [1]);
  assert.ok(one({ v: null }, 'v', 'in', [null]));
  assert.ok(!one({ v: null }, 'v', 'nin', [1]));
  assert.ok(!one({ v: 5 }, 'v', 'in', 'a5'));
  assert.ok(!one({ v: 5 }, 'v', 'nin', 'abc'));
  assert.ok(one({ v: [1] }, 'v', 'in', [[1], [2]]));
});

test('rin / rnin', () => {
  assert.equal(ids([['tags', 'rin', 'b']]), [1]);
  assert.equal(ids([['tags', 'rnin', 'b']]), [2, 3, 4]);
  assert.equal(ids([['method', 'rin', 'bulk']]), [2, 4]);
  assert.equal(ids([['owner', 'rnin', 'x']]), [1, 2], 'null owner and missing owner never match');
  assert.ok(!one({ v: 5 }, 'v', 'rin', 5));
  assert.ok(!one({ v: 5 }, 'v', 'rnin', 5));
});

test('^ !^ $ !$', () => {
  assert.equal(ids([['method', '^', 'pool.']]), [1, 3]);
  assert.equal(ids([['method', '!^', 'pool.']]), [2, 4]);
  assert.equal(ids([['method', '$', '.bulk']]), [2, 4]);
  assert.equal(ids([['method', '!$', '.bulk']]), [1, 3]);
  for (const op of ['^', '!^', '$', '!$']) {
    assert.ok(!one({ v: null }, 'v', op, 'a'), op);
    assert.ok(!one({ v: 12 }, 'v', op, '1'), op);
  }
});

test('case-insensitive variants fold both sides', () => {
  const e = { s: 'Straße', l: ['Foo', 'BAR'], n: 3 };
  assert.ok(one(e, 's', 'C=', 'STRASSE'));
  assert.ok(!one(e, 's', '=', 'STRASSE'));
  assert.ok(one(e, 's', 'C!=', 'strasse x'));
  assert.ok(!one(e, 's', 'C!=', 'STRASSE'));
  assert.ok(one(e, 's', 'C>', 'STRASSA'));
  assert.ok(one(e, 's', 'C>=', 'STRASSE'));
  assert.ok(one(e, 's', 'C<', 'STRASSF'));
  assert.ok(one(e, 's', 'C<=', 'STRASSE'));
  assert.ok(!one(e, 's', '>', 'a'), 'without C, upper case sorts first');
  assert.ok(one(e, 's', 'C>', 'a'));
  assert.ok(one(e, 's', 'Cin', ['x', 'STRASSE']));
  assert.ok(one(e, 's', 'Cin', 'THE STRASSE'));
  assert.ok(!one(e, 's', 'Cnin', ['STRASSE']));
  assert.ok(one(e, 's', 'Cnin', ['x']));
  assert.ok(one(e, 'l', 'Crin', 'bar'));
  assert.ok(!one(e, 'l', 'rin', 'bar'));
  assert.ok(one(e, 'l', 'Crnin', 'baz'));
  assert.ok(!one(e, 'l', 'Crnin', 'FOO'));
  assert.ok(one(e, 's', 'C^', 'STR'));
  assert.ok(!one(e, 's', 'C!^', 'STR'));
  assert.ok(one(e, 's', 'C$', 'SSE'));
  assert.ok(!one(e, 's', 'C!$', 'SSE'));
  assert.ok(one(e, 'n', 'C=', 3), 'non-strings are unaffected by folding');
  assert.equal(ids([['owner', 'C=', 'root']]), [1]);
});

// --- fields ----------------------------------------------------------------------------------

test('a missing field is false for every operator, including negations', () => {
  const ops: Array<[string, unknown]> = [
    ['=', 1], ['!=', 1], ['>', 1], ['>=', 1], ['<', 1], ['<=', 1], ['~', '.*'], ['in', [1]], ['nin', [1]],
    ['rin', 1], ['rnin', 1], ['^', 'a'], ['!^', 'a'], ['$', 'a'], ['!$', 'a'], ['C=', 'a'], ['C!=', 'a'],
    ['Cnin', ['a']], ['Crnin', 'a'], ['C!^', 'a'], ['C!$', 'a'],
  ];
  for (const [op, v] of ops) {
    assert.ok(!one({ other: 1 }, 'missing', op, v), op);
    assert.ok(!one({ a: { b: 1 } }, 'a.c', op, v), `${op} nested`);
    assert.ok(!one({ a: null }, 'a.b', op, v), `${op} through null`);
    assert.ok(!one({ a: 5 }, 'a.b', op, v), `${op} through scalar`);
  }
  assert.equal(ids([['owner', '!=', 'alice']]), [1, 3], 'entry 4 has no owner: excluded');
  assert.ok(!one({}, 'constructor', '!=', 1), 'prototype members are not fields');
  assert.ok(!one({}, 'toString', '~', '.*'));
});

test('explicit null exists and compares normally', () => {
  assert.equal(ids([['owner', '=', null]]), [3]);
  assert.equal(ids([['time_finished', '=', null]]), [2]);
  assert.equal(ids([['owner', '!=', null]]), [1, 2]);
});

test('dotted paths, array indices, escaped dots', () => {
  assert.equal(ids([['progress.percent', '<', 100]]), [2, 3]);
  assert.equal(ids([['tags.0', '=', 'a']]), [1]);
  assert.equal(ids([['tags.1', '=', 'b']]), [1]);
  assert.equal(ids([['tags.5', '!=', 'zzz']]), [], 'out of range index is missing');
  const e = { 'foo.bar': 1, foo: { bar: 2 }, groups: [{ name: 'wheel' }, { name: 'staff' }], m: { '0': 'zero' } };
  assert.ok(one(e, 'foo\\.bar', '=', 1));
  assert.ok(one(e, 'foo.bar', '=', 2));
  assert.ok(one(e, 'groups.1.name', '=', 'staff'));
  assert.ok(!one(e, 'groups.2.name', '!=', 'x'));
  assert.ok(one(e, 'm.0', '=', 'zero'), 'a numeric segment on an object is a key');
  assert.equal(getPath(e, 'foo\\.bar'), 1);
  assert.equal(getPath(e, 'groups.0.name'), 'wheel');
  assert.is(getPath(e, 'groups.x'), undefined);
});

test('* matches any element and may repeat', () => {
  const e = { list: [{ number: 1 }, { number: 5 }, { other: 3 }], a: [{ b: [{ c: 1 }, { c: 2 }] }, { b: [{ c: 9 }] }] };
  assert.ok(one(e, 'list.*.number', '=', 5));
  assert.ok(!one(e, 'list.*.number', '=', 3));
  assert.ok(one(e, 'list.*.number', '!=', 1), 'any element that differs');
  assert.ok(one(e, 'a.*.b.*.c', '=', 9));
  assert.ok(!one(e, 'a.*.b.*.c', '>', 9));
  assert.ok(!one({ list: [] }, 'list.*', '!=', 1), 'no elements: missing');
  assert.equal(ids([['tags.*', '=', 'c']]), [4]);
  assert.equal(getPath(e, 'a.*.b.*.c'), [1, 2, 9]);
  assert.is(getPath({ list: [] }, 'list.*'), undefined);
});

// --- OR --------------------------------------------------------------------------------------

test('OR: single conditions, AND lists and nested ORs as branches', () => {
  const filters = [
    ['state', 'in', ['FAILED', 'ABORTED', 'RUNNING']],
    ['OR', [['method', '^', 'pool.'], [['method', '=', 'core.bulk'], ['progress.percent', '<', 100]]]],
  ];
  assert.equal(ids(filters), [2, 3]);
  assert.equal(ids([['OR', [['id', '=', 1], ['OR', [['id', '=', 4], ['id', '=', 3]]]]]]), [1, 3, 4]);
  assert.equal(ids([['OR', [[['id', '>', 1], ['id', '<', 4]]]]]), [2, 3]);
  assert.equal(ids([]), [1, 2, 3, 4]);
});

test('OR nesting: 3 levels accepted, 4 rejected', () => {
  const nest = (levels: number): unknown[] => {
    let cond: unknown[] = ['id', '=', 1];
    for (let i = 0; i < levels; i++) cond = ['OR', [cond]];
    return [cond];
  };
  assert.equal(ids(nest(3)), [1]);
  rejects(nest(4), 'query-filters max recursion depth exceeded');
  rejects([['OR', [[['OR', [[['OR', [['OR', [['id', '=', 1]]]]]]]]]]]], 'query-filters max recursion depth exceeded');
});

// --- .$date ----------------------------------------------------------------------------------

test('.$date compares epoch-ms numbers and {"$date": ms} against an ISO string', () => {
  assert.equal(ids([['time_finished.$date', '>=', '2024-06-10T00:00:00Z']]), [1, 3]);
  assert.equal(ids([['time_finished.$date', '<', '2024-06-10T00:00:00Z']]), [4]);
  assert.equal(ids([['time_finished.$date', '=', '2024-06-11T10:00:00Z']]), [3]);
  assert.equal(ids([['time_finished.$date', '!=', '2024-06-11T10:00:00Z']]), [1, 4], 'null is not a timestamp');
  assert.equal(ids([['time_finished.$date', '>=', '2024-06-10T08:13:20.000+02:00']]), [1, 3]);
  assert.equal(ids([['time_finished.$date', '>', '2024-06-10T08:13:20.000+02:00']]), [3]);
  assert.equal(ids([['time_finished.$date', '<=', '2024-06-10 06:13:20']]), [1, 4]);
  assert.ok(one({ t: new Date(5000) }, 't.$date', '=', '1970-01-01T00:00:05Z'));
  assert.ok(!one({ t: '2024-06-10' }, 't.$date', '=', '2024-06-10'), 'strings are not timestamps');
  assert.ok(one({ 'x.$date': 1 }, 'x\\.$date', '=', 1), 'an escaped dot makes it a plain key');
  assert.is(parseIsoTimestamp('2024-06-10'), Date.UTC(2024, 5, 10));
  assert.is(parseIsoTimestamp('2024-06-10T01:02:03.4567-01:30'), Date.UTC(2024, 5, 10, 2, 32, 3, 456));
  assert.is(parseIsoTimestamp('0050-01-01T00:00:00Z'), -60589296000000);
  for (const bad of ['2024-13-01', '2024-02-30', '2023-02-29T00:00', '2024-06-10T24:00', 'yesterday', '2024-06-10Z', '']) {
    assert.is(parseIsoTimestamp(bad), undefined, bad);
  }
  assert.is(parseIsoTimestamp('2024-02-29T23:59:59'), Date.UTC(2024, 1, 29, 23, 59, 59));
});

// --- validation ------------------------------------------------------------------------------

test('every structural problem is a ValidationErrors naming `filters`', () => {
  rejects([['state', 'like', 'x']], 'Invalid operation: like');
  rejects([['state', 'C', 'x']], 'Invalid operation: C');
  rejects([['state', 'CC=', 'x']], 'Invalid operation: CC=');
  rejects([['state', 5, 'x']], 'Invalid operation: 5');
  rejects([['state', 'C~', 'x']], 'Invalid case-insensitive operation: C~');
  rejects([['state', '=']], "Invalid filter ['state', '=']");
  rejects([['state', '=', 1, 2]], /^Invalid filter /);
  rejects([[]], 'Invalid filter []');
  rejects(['state'], "Invalid filter 'state'");
  rejects([[5, '=', 1]], /field must be a string/);
  rejects([['OR', []]], 'OR filter requires at least one branch.');
  rejects([['OR', 'x']], /OR takes a list of branches/);
  rejects([['OR', [[]]]], 'Invalid OR branch []');
  rejects([['OR', ['x']]], "Invalid OR branch 'x'");
  rejects([['OR', [['id', 'like', 1]]]], 'Invalid operation: like');
  rejects([['OR', [[['id', '=', 1], 'junk']]]], "Invalid filter 'junk'");
  rejects({ state: 'x' }, /expected a list of conditions/);
  rejects([['v', '~', '(']], /^Invalid regular expression '\('/);
  rejects([['v', '~', '(?x)a b']], /unsupported inline flag 'x'/);
  // The engine is linear-time (RE2): what it cannot do is refused, saying so, never run.
  rejects([['v', '~', '(?P<x>ab)(?P=x)']], /backreference \(\?P=x\) is not supported: filters use a linear-time regex engine/);
  rejects([['v', '~', '(a)\\1']], /backreference \\1 is not supported/);
  rejects([['v', '~', 'a(?=b)']], /lookaround \(\?=b.*not supported/);
  rejects([['v', '~', '(?<!a)b']], /lookaround \(\?<!.*not supported/);
  rejects([['v', '~', 'x'.repeat(1001)]], /pattern longer than 1000 characters/);
  rejects([['v', '~', 5]], /regular expression must be a string/);
  rejects([['t.$date', 'in', ['2024-06-10']]], 'in: invalid timestamp operation.');
  rejects([['t.$date', '^', '2024']], '^: invalid timestamp operation.');
  rejects([['t.$date', '>', 'soon']], 'soon: must be an ISO-8601 formatted timestamp string');
  rejects([['t.$date', '>', 1718000000000]], '1718000000000: must be an ISO-8601 formatted timestamp string');
  rejects([['t.$date', '>', null]], 'None: must be an ISO-8601 formatted timestamp string');
  // compileFilters validates too.
  assert.throws(() => compileFilters([['a', 'like', 1]]), (e: unknown) => e instanceof ValidationErrors);
  compileFilters([]);
  compileFilters(undefined);
  rejects(null, /expected a list of conditions/);
  compileFilters([['t.$date', 'C>=', '2024-06-10']]);
});

// --- ordering --------------------------------------------------------------------------------

test('order_by: ascending, descending, several keys (first primary), dotted, stable', () => {
  const by = (orderBy: string[], entries: Entry[] = JOBS): number[] => sortEntries(entries, orderBy).map((e) => e.id as number);
  assert.equal(by(['method']), [2, 4, 1, 3]);
  assert.equal(by(['-method']), [3, 1, 2, 4], 'stable: equal keys keep input order');
  assert.equal(by(['-progress.percent']), [1, 4, 3, 2]);
  assert.equal(by(['-progress.percent', 'method']), [4, 1, 3, 2]);
  assert.equal(by(['method', '-id']), [4, 2, 1, 3]);
  assert.equal(by([]), [1, 2, 3, 4]);
  assert.equal(by(['tags.0']), [2, 3, 1, 4], 'missing sorts like null (smallest); B < a < c');
  const input = JOBS.slice();
  sortEntries(input, ['-id']);
  assert.equal(input.map((e) => e.id), [1, 2, 3, 4], 'input is not reordered');
});

test('order_by: null placement and timestamps', () => {
  const rows: Entry[] = [{ id: 1, v: 2 }, { id: 2, v: null }, { id: 3, v: 1 }, { id: 4 }, { id: 5, v: 3 }];
  const by = (orderBy: string[]): number[] => sortEntries(rows, orderBy).map((e) => e.id as number);
  assert.equal(by(['v']), [2, 4, 3, 1, 5], 'nulls smallest');
  assert.equal(by(['-v']), [5, 1, 3, 2, 4], 'nulls smallest, so last when descending');
  assert.equal(by(['nulls_last:v']), [3, 1, 5, 2, 4]);
  assert.equal(by(['nulls_first:-v']), [2, 4, 5, 1, 3]);
  assert.equal(by(['nulls_last:-v']), [5, 1, 3, 2, 4]);
  assert.equal(by(['nulls_first:v']), [2, 4, 3, 1, 5]);
  assert.equal(sortEntries(JOBS, ['time_finished']).map((e) => e.id), [2, 4, 1, 3], '{"$date"} and ms sort together');
  const mixed: Entry[] = [{ id: 1, v: 'a' }, { id: 2, v: 1 }, { id: 3, v: true }, { id: 4, v: [1] }];
  assert.equal(sortEntries(mixed, ['v']).map((e) => e.id), [3, 2, 1, 4], 'mixed types do not throw');
});

// --- select ----------------------------------------------------------------------------------

test('select: fields, nesting rebuilt, renames, absent left out, nulls kept', () => {
  const e = { id: 1, progress: { percent: 35, description: 'x' }, owner: null, 'a.b': 7, list: [{ n: 1 }] };
  assert.equal(project(e, ['id', 'progress.percent']), { id: 1, progress: { percent: 35 } });
  assert.equal(project(e, [['progress.percent', 'pct'], 'owner']), { pct: 35, owner: null });
  assert.equal(project(e, ['missing', 'progress.missing', ['missing', 'x']]), {});
  assert.equal(project(e, ['a\\.b']), { 'a.b': 7 });
  assert.equal(project(e, ['progress.percent', 'progress.description']), { progress: { percent: 35, description: 'x' } });
  assert.equal(project(e, ['list.0.n']), {}, 'select does not index arrays');
  assert.is(project(e, []), e);
  // Widening a selected object must not write into the caller's entry.
  const out = project(e, ['progress', 'progress.percent']) as Entry;
  assert.equal(out, { progress: { percent: 35, description: 'x' } });
  assert.equal(Object.keys(e.progress), ['percent', 'description']);
  const safe = project(JSON.parse('{"__proto__": {"x": 1}}'), ['__proto__.x']) as Entry;
  assert.equal(Object.getPrototypeOf(safe), Object.prototype);
  assert.equal(JSON.stringify(safe), '{"__proto__":{"x":1}}');
});

test('select: malformed items are CallError EINVAL', () => {
  for (const bad of [[['a']], [['a', 'b', 'c']], [['a', 5]], [5], [{ a: 1 }], [null]]) {
    throwsCallError(() => project({ a: 1 }, bad), 22);
    throwsCallError(() => applyQuery([{ a: 1 }], [], { select: bad }), 22);
  }
});

// --- pipeline --------------------------------------------------------------------------------

test('applyQuery: filter, order, offset, limit, select', () => {
  const q = (filters: unknown, options: Parameters<typeof applyQuery>[2]) => applyQuery(JOBS, filters, options);
  assert.equal((q([], {}) as Entry[]).map((e) => e.id), [1, 2, 3, 4]);
  assert.equal((q([['method', '=', 'core.bulk']], {}) as Entry[]).map((e) => e.id), [2, 4]);
  assert.equal((q([], { order_by: ['-id'], offset: 1, limit: 2 }) as Entry[]).map((e) => e.id), [3, 2]);
  assert.equal((q([], { offset: 3 }) as Entry[]).map((e) => e.id), [4]);
  assert.equal((q([], { offset: 9 }) as Entry[]), []);
  assert.equal((q([], { limit: 2 }) as Entry[]).map((e) => e.id), [1, 2]);
  assert.equal((q([['id', '>', 1]], { offset: 1, limit: 1 }) as Entry[]).map((e) => e.id), [3]);
  assert.equal(q([['id', '<', 3]], { order_by: ['-id'], select: ['id', ['progress.percent', 'pct']] }), [
    { id: 2, pct: 35 },
    { id: 1, pct: 100 },
  ]);
  // Ordering uses fields that select drops (projection happens last).
  assert.equal(q([], { order_by: ['-progress.percent', '-id'], select: ['id'], limit: 2 }), [{ id: 4 }, { id: 1 }]);
  // Results are the entries themselves, not copies.
  assert.is((q([['id', '=', 1]], {}) as Entry[])[0], JOBS[0]);
});

test('applyQuery: count ignores limit and offset', () => {
  assert.is(applyQuery(JOBS, [['method', '^', 'pool.']], { count: true }), 2);
  assert.is(applyQuery(JOBS, [], { count: true, limit: 1, offset: 3 }), 4);
  assert.is(applyQuery(JOBS, [['id', '>', 10]], { count: true }), 0);
  assert.is(applyQuery(JOBS, [], { count: true, get: true }), 4);
});

test('applyQuery: get returns the first entry after ordering', () => {
  assert.is(applyQuery(JOBS, [['method', '=', 'core.bulk']], { get: true }), JOBS[1]);
  assert.is(applyQuery(JOBS, [['method', '=', 'core.bulk']], { get: true, order_by: ['-id'] }), JOBS[3]);
  assert.is(applyQuery(JOBS, [], { get: true, limit: 1 }), JOBS[0]);
  assert.equal(applyQuery(JOBS, [['id', '=', 3]], { get: true, select: ['state'] }), { state: 'FAILED' });
});

test('applyQuery: get with no match raises MatchNotFound', () => {
  let caught: unknown;
  try {
    applyQuery(JOBS, [['id', '=', 99]], { get: true });
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, MatchNotFound);
  assert.is((caught as Error).constructor.name, 'MatchNotFound');
  assert.is((caught as Error).message, 'MatchNotFound()');
  const data = errorData(caught);
  assert.is(data.error, 22);
  assert.is(data.reason, 'MatchNotFound()');
  assert.is(data.trace?.class, 'MatchNotFound');
});

test('applyQuery: get with offset or limit > 1 is CallError EINVAL, even with no entries', () => {
  throwsCallError(() => applyQuery(JOBS, [], { get: true, offset: 1 }), 22);
  throwsCallError(() => applyQuery([], [], { get: true, limit: 2 }), 22);
});

test('applyQuery: invalid filters are ValidationErrors; entries from any iterable, read lazily', () => {
  assert.throws(() => applyQuery(JOBS, [['id', 'like', 1]], {}), (e: unknown) => e instanceof ValidationErrors);
  let pulled = 0;
  function* gen(): Generator<Entry> {
    for (let i = 0; i < 1000; i++) {
      pulled++;
      yield { id: i };
    }
  }
  assert.equal((applyQuery(gen(), [['id', '>=', 10]], { limit: 3 }) as Entry[]).map((e) => e.id), [10, 11, 12]);
  assert.is(pulled, 13, 'unordered queries stop once the page is full');
  pulled = 0;
  assert.equal((applyQuery(gen(), [], { order_by: ['-id'], limit: 1 }) as Entry[]).map((e) => e.id), [999]);
  assert.is(pulled, 1000);
});

// --- hints -----------------------------------------------------------------------------------

test('index hints: top-level = and in on plain fields only', () => {
  const h = compileFilters([
    ['state', 'in', ['FAILED', 'ABORTED', 'FAILED']],
    ['method', '=', 'core.bulk'],
    ['progress.percent', '=', 5],
    ['tags.*', '=', 'a'],
    ['a\\.b', '=', 1],
    ['owner', 'C=', 'root'],
    ['id', '>', 3],
    ['desc', 'in', 'some text'],
    ['OR', [['id', '=', 1], ['id', '=', 2]]],
    ['t.$date', '=', '2024-06-10'],
  ]).equals;
  assert.equal([...h.keys()].sort(), ['method', 'state']);
  assert.equal(h.get('state'), ['FAILED', 'ABORTED']);
  assert.equal(h.get('method'), ['core.bulk']);
  const both = compileFilters([['state', 'in', ['A', 'B', 'C']], ['state', 'in', ['C', 'B', 'D']]]).equals;
  assert.equal(both.get('state'), ['B', 'C']);
  const none = compileFilters([['state', '=', 'A'], ['state', '=', 'B']]).equals;
  assert.equal(none.get('state'), [], 'contradictory conditions: nothing can match');
  assert.equal(compileFilters([['v', '=', null]]).equals.get('v'), [null]);
  assert.is(compileFilters(undefined).equals.size, 0);
  // The hint must never exclude an entry the predicate accepts.
  const filters = [['state', 'in', ['FAILED', 'RUNNING']], ['progress.percent', '<', 100]];
  const compiled = compileFilters(filters);
  const allowed = compiled.equals.get('state')!;
  for (const e of JOBS.filter(compiled.match)) assert.ok(allowed.includes(e.state));
});

test('a compiled Filter is used as it is: compileFilters and applyQuery do not compile it again', () => {
  const compiled = compileFilters([['state', '=', 'FAILED']]);
  assert.is(compileFilters(compiled), compiled);
  assert.equal((applyQuery(JOBS, compiled) as Entry[]).map((e) => e.id), ids([['state', '=', 'FAILED']]));
});

// --- schemas ---------------------------------------------------------------------------------

test('QueryOptions schema fills defaults and rejects unknown keys and bad values', () => {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
  const validate = ajv.compile(QueryOptions);
  const opts: Record<string, unknown> = {};
  assert.ok(validate(opts));
  assert.equal(opts, { order_by: [], limit: 0, offset: 0, count: false, get: false, select: [], extra: {} });
  assert.ok(validate({ force_sql_filters: true, extra: { raw_result: true }, select: ['a', ['b', 'c']] }));
  assert.not.ok(validate({ bogus: 1 }));
  assert.not.ok(validate({ limit: 10001 }));
  assert.not.ok(validate({ limit: -1 }));
  assert.not.ok(validate({ limit: 1.5 }));
  assert.not.ok(validate({ offset: -1 }));
  assert.not.ok(validate({ count: 'yes' }));
  assert.not.ok(validate({ order_by: [1] }));
  assert.ok(validate({ limit: 10000 }));
  const vf = ajv.compile(QueryFilters);
  assert.ok(vf([['a', '=', 1], ['OR', []]]), 'structure is checked in code, not by the schema');
  assert.not.ok(vf({}));
});

test.run();
