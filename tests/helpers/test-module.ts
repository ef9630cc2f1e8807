// A method module used only by tests: it exercises the registry the way a real module does.
import { once } from 'node:events';
import { arg, CallError, ERRNO, method, Type, ValidationErrors, type App, type ModuleDef } from '#midship/module-api';

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
      method('test.job', {
        description: 'A job that logs, reports progress over `steps` steps of `delay` ms, then returns `result` or fails.',
        args: [arg('o', Type.Object({
          steps: Type.Integer({ minimum: 0, default: 3 }),
          delay: Type.Integer({ minimum: 0, default: 10 }),
          fail: Type.Optional(Type.Union([Type.Literal('call'), Type.Literal('validation'), Type.Literal('unexpected')])),
          result: Type.Optional(Type.Unknown()),
          password: Type.Optional(Type.String({ secret: true })),
        }), { default: { steps: 3, delay: 10 } })],
        result: Type.Unknown(),
        job: { logs: true, abortable: true, description: (args) => `Test job with ${args[0].steps} steps` },
        handler: async (_ctx, job, o) => {
          for (let i = 0; i < o.steps; i++) {
            job.signal.throwIfAborted();
            job.log(`step ${i + 1} of ${o.steps}\n`);
            job.setProgress(Math.floor((100 * i) / o.steps), `Step ${i + 1}`);
            await new Promise((r) => setTimeout(r, o.delay));
          }
          if (o.fail === 'call') throw new CallError('Target nightly does not exist', ERRNO.ENOENT);
          if (o.fail === 'validation') throw new ValidationErrors([['o.steps', 'too few steps', ERRNO.EINVAL]]);
          if (o.fail === 'unexpected') throw new RangeError('unexpected failure');
          return o.result ?? { steps: o.steps };
        },
      }),
      method('test.stubborn', {
        description: 'A job that ignores abort and returns after ms.',
        args: [arg('ms', Type.Integer({ minimum: 0 }))],
        result: Type.Integer(),
        job: { abortable: true },
        handler: (_ctx, _job, ms) => new Promise<number>((r) => setTimeout(() => r(ms), ms)),
      }),
      method('test.until_aborted', {
        description: 'A job that reports nothing and runs until it is aborted.',
        args: [],
        result: Type.Null(),
        job: { abortable: true },
        handler: (_ctx, job) => new Promise<null>((resolve) => {
          if (job.signal.aborted) resolve(null);
          job.signal.addEventListener('abort', () => resolve(null));
        }),
      }),
      method('test.fixed', {
        description: 'A job that cannot be aborted.',
        args: [arg('ms', Type.Integer({ minimum: 0 }))],
        result: Type.Integer(),
        job: {},
        handler: (_ctx, _job, ms) => new Promise<number>((r) => setTimeout(() => r(ms), ms)),
      }),
      method('test.locked', {
        description: 'A job under lock L (queue size 2).',
        args: [arg('tag', Type.String()), arg('ms', Type.Integer({ minimum: 0 }), { default: 50 })],
        result: Type.String(),
        job: { lock: 'L', lockQueueSize: 2, abortable: true },
        handler: (_ctx, _job, tag, ms) => new Promise<string>((r) => setTimeout(() => r(tag), ms)),
      }),
      method('test.exclusive', {
        description: 'A job under lock X that refuses a second one while running (queue size 0).',
        args: [arg('ms', Type.Integer({ minimum: 0 }))],
        result: Type.Integer(),
        job: { lock: () => 'X', lockQueueSize: 0 },
        handler: (_ctx, _job, ms) => new Promise<number>((r) => setTimeout(() => r(ms), ms)),
      }),
      method('test.flood', {
        description: 'Calls setProgress n times as fast as it can.',
        args: [arg('n', Type.Integer({ minimum: 0 }))],
        result: Type.Integer(),
        job: {},
        handler: async (_ctx, job, n) => {
          for (let i = 0; i < n; i++) {
            job.setProgress(Math.floor((i * 100) / n), `item ${i}`);
            if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
          }
          return n;
        },
      }),
      method('test.bad_result', {
        description: 'A job whose result JSON cannot encode.',
        args: [],
        result: Type.Unknown(),
        job: {},
        handler: () => ({ n: 1n }),
      }),
      method('test.export', {
        description: 'A downloadable job writing n lines to its output (waiting whenever the pipe says so).',
        args: [arg('n', Type.Integer({ minimum: 0 }))],
        result: Type.Integer(),
        job: { downloadable: true },
        handler: async (_ctx, job, n) => {
          const out = job.output;
          for (let i = 0; i < n && out !== null; i++) {
            if (!out.write(`line ${i}\n`)) await once(out, 'drain', { signal: job.signal });
          }
          return n;
        },
      }),
      method('test.query', {
        description: 'A read method whose result carries a secret.',
        args: [],
        result: Type.Object({ name: Type.String(), secret: Type.String({ secret: true }) }),
        handler: () => ({ name: 'visible', secret: 's3cr3t-value' }),
      }),
      method('test.noop', {
        description: 'A trivial job.',
        args: [],
        result: Type.Null(),
        job: {},
        handler: () => null,
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
