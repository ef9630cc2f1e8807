// A method module used only by tests: it exercises the registry the way a real module does.
import { Type } from '@sinclair/typebox';
import type { App } from '../../daemon/app.js';
import { CallError, ERRNO, ValidationErrors } from '../../daemon/errors.js';
import { method, type ModuleDef } from '../../daemon/registry.js';
import { arg } from '../../daemon/schema.js';

export function testModule(app: App): ModuleDef {
  return {
    services: [{ name: 'test', type: 'service', rolePrefix: 'TEST' }],
    methods: [
      method('test.echo', {
        description: 'Returns its argument.',
        args: [arg('value', Type.Object({ name: Type.String(), count: Type.Integer({ minimum: 0 }), secret: Type.Optional(Type.String({ secret: true })) }, { additionalProperties: false }))],
        result: Type.Unknown(),
        handler: (_ctx, value) => value,
      }),
      method('test.unexpected', {
        description: 'Throws an unexpected error.',
        args: [],
        result: Type.Null(),
        handler: () => {
          throw new TypeError('boom: something broke');
        },
      }),
      method('test.call_error', {
        description: 'Throws a CallError.',
        args: [],
        result: Type.Null(),
        handler: () => {
          throw new CallError('Pool tank not found', ERRNO.ENOENT);
        },
      }),
      method('test.sleep', {
        description: 'Waits ms milliseconds.',
        args: [arg('ms', Type.Integer({ minimum: 0 }))],
        result: Type.Integer(),
        handler: (_ctx, ms) => new Promise<number>((r) => setTimeout(() => r(ms), ms)),
      }),
      method('test.emit', {
        description: 'Emits n test.tick events of size bytes each, coalescing on key when given.',
        args: [arg('n', Type.Integer({ minimum: 0 })), arg('size', Type.Integer({ minimum: 0 }), { default: 10 }), arg('key', Type.Union([Type.String(), Type.Null()]), { default: null })],
        result: Type.Integer(),
        handler: (_ctx, n, size, key) => {
          const pad = 'x'.repeat(size);
          for (let i = 0; i < n; i++) app.events.emit('test.tick', 'changed', i, { i, pad }, { coalesceKey: key });
          return n;
        },
      }),
      method('test.unencodable', {
        description: 'Returns a BigInt, which JSON cannot encode.',
        args: [],
        result: Type.Unknown(),
        handler: () => ({ big: 10n }),
      }),
    ],
    events: [
      { name: 'test.tick', description: 'Emitted by test.emit.', roles: ['TEST_READ'] },
      {
        name: 'test.counter',
        description: 'Counts from 1 to n, one event per tick, then ends.',
        roles: ['TEST_READ'],
        source: {
          args: Type.Object({ n: Type.Integer({ minimum: 0, maximum: 1000 }), fail: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
          run: async (ctx, raw) => {
            const args = raw as { n: number; fail?: boolean };
            for (let i = 1; i <= args.n; i++) {
              if (ctx.signal.aborted) return;
              ctx.emit('added', i, { i });
              await new Promise((r) => setTimeout(r, 1));
            }
            if (args.fail) throw new ValidationErrors([['n', 'counter failed on purpose', ERRNO.EINVAL]]);
          },
        },
      },
      {
        name: 'test.forever',
        description: 'Emits until unsubscribed.',
        roles: ['TEST_READ'],
        source: {
          args: Type.Null(),
          run: (ctx) => new Promise<void>((resolve) => {
            const t = setInterval(() => ctx.emit('changed', 1, { at: Date.now() }), 20);
            ctx.signal.addEventListener('abort', () => (clearInterval(t), resolve()));
          }),
        },
      },
    ],
  };
}
