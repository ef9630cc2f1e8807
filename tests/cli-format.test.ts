// midclt's pure parts: how results and errors print, argument parsing, bulk input, schema text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArg, parseBulkLines, InputError } from '../cli/args.js';
import { ClientError, fromErrorData, fromJsonRpcError, ValidationError } from '../cli/errors.js';
import { errorLines, formatDuration, formatResult, pyJson, table } from '../cli/format.js';
import { argumentsText } from '../cli/schema-text.js';
import { jobError, type Job } from '../cli/jobs.js';
import { parseUri, UriError } from '../cli/uri.js';

test('results print as midclt prints them', () => {
  assert.is(formatResult('pong'), 'pong');
  assert.is(formatResult(42), '42');
  assert.is(formatResult(true), 'True');
  assert.is(formatResult(false), 'False');
  assert.is(formatResult(null), 'null');
  assert.is(formatResult(1.5), '1.5');
  assert.is(formatResult({ a: [1, 'x', null], b: { $date: 1000 } }), '{"a": [1, "x", null], "b": {"$date": 1000}}');
  assert.is(pyJson([]), '[]');
  assert.is(pyJson({}), '{}');
});

test('arguments: JSON when they parse, else strings', () => {
  assert.is(parseArg('70'), 70);
  assert.is(parseArg('true'), true);
  assert.equal(parseArg('{"a": 1}'), { a: 1 });
  assert.is(parseArg('hello'), 'hello');
  assert.is(parseArg('"quoted"'), 'quoted');
  assert.equal(parseBulkLines('[1]\n\n# comment\n[2, "x"]\n'), [[1], [2, 'x']]);
  assert.throws(() => parseBulkLines('[1]\n{"a": 1}\n'), (e: unknown) => e instanceof InputError && /line 2/.test((e as Error).message));
});

test('errors: validation lines with ALL for a null attribute; traces only when they add something', () => {
  const v = fromJsonRpcError({ code: -32602, message: 'Invalid params', data: { error: 22, errname: 'EINVAL', reason: 'x', trace: null, extra: [['a.b', 'bad', 22], [null, 'gone', 2]] } });
  assert.ok(v instanceof ValidationError);
  assert.equal(errorLines(v), ['[EINVAL] a.b: bad', '[ENOENT] ALL: gone']);
  const c = fromJsonRpcError({ code: -32001, message: 'Method call error', data: { error: 2, errname: 'ENOENT', reason: '[ENOENT] nope', trace: { class: 'CallError', formatted: 'CallError: [ENOENT] nope\n', repr: '' }, extra: null } });
  assert.equal(errorLines(c), ['[ENOENT] nope']);
  const t = fromErrorData({ error: 14, reason: 'boom', trace: { class: 'X', formatted: 'Traceback:\n  line 1\nX: boom' }, extra: { k: 1 } });
  assert.equal(errorLines(t), ['boom', 'Traceback:\n  line 1\nX: boom', '{"k": 1}']);
  const m = fromJsonRpcError({ code: -32601, message: 'Method does not exist' });
  assert.ok(m instanceof ClientError);
  assert.equal(errorLines(m), ['Method does not exist']);
});

test('a finished job becomes the error it stands for', () => {
  const base = { id: 1, method: 'm', arguments: [], message_ids: [], description: null, progress: { percent: 0, description: '', extra: null }, result: null, logs_path: null, logs_excerpt: null, time_started: null, time_finished: null };
  assert.is(jobError({ ...base, state: 'SUCCESS', error: null, exception: null, exc_info: null } as Job), null);
  const v = jobError({ ...base, state: 'FAILED', error: '[EINVAL] o: bad', exception: 'tb', exc_info: { type: 'VALIDATION', errno: 22, extra: [['o', 'bad', 22]] } } as Job);
  assert.ok(v instanceof ValidationError);
  const c = jobError({ ...base, state: 'FAILED', error: '[ENOENT] x', exception: 'Traceback\nCallError: x', exc_info: { type: 'CallError', errno: 2, extra: null } } as Job)!;
  assert.is(c.errno, 2);
  assert.is(c.trace?.formatted, 'Traceback\nCallError: x');
  assert.match(jobError({ ...base, state: 'ABORTED', error: null, exception: null, exc_info: null } as Job)!.message, /aborted/);
});

test('URIs: unix sockets (relative ones resolved), TCP, legacy', () => {
  const u = parseUri('ws+unix://./data/middlewared.sock');
  assert.is(u.socketPath, `${process.cwd()}/data/middlewared.sock`);
  assert.is(u.wsAddress, `ws+unix:${process.cwd()}/data/middlewared.sock:/api/current`);
  assert.is(u.legacy, false);
  assert.is(parseUri('ws+unix:///run/m.sock').socketPath, '/run/m.sock');
  const t = parseUri('ws://nas:6000');
  assert.is(t.wsAddress, 'ws://nas:6000/api/current');
  assert.is(t.httpBase, 'http://nas:6000');
  assert.is(parseUri('ws://nas/websocket').legacy, true);
  assert.is(parseUri('wss://nas/api/current').httpBase, 'https://nas');
  assert.throws(() => parseUri('http://nas'), (e: unknown) => e instanceof UriError);
});

test('durations, tables and argument schemas read well', () => {
  assert.is(formatDuration(400), '0.4s');
  assert.is(formatDuration(75_000), '1m15s');
  assert.is(formatDuration(3_725_000), '1h02m');
  assert.is(table(['A', 'LONG'], [['xx', 'y'], ['z', 'w']]), 'A   LONG\nxx  y\nz   w');
  const text = argumentsText({
    type: 'array',
    prefixItems: [
      { _name_: 'filters', type: 'array', items: { type: 'array' }, default: [] },
      { _name_: 'o', type: 'object', properties: { n: { type: 'integer', minimum: 1 }, mode: { anyOf: [{ const: 'a' }, { const: 'b' }] } }, required: ['n'], additionalProperties: false },
    ],
    minItems: 0,
  });
  assert.equal(text, [
    '  1. filters: array of array, default []',
    '  2. o: object',
    '       n: integer, >= 1, required',
    '       mode: "a" | "b"',
    '       (no other keys)',
  ]);
});

test.run();
