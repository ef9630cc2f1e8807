// A module that uses the alert framework as any module does, for the alert tests: it declares
// classes and a source through ModuleDef.alerts and raises and clears through App.alerts. What
// its source finds is set by a method (`alerttest.set`), so a test decides the condition; it also
// raises one alert from its own start(), before the alert module serves (handed over later).
import { arg, alertSource, method, Type, type App, type ModuleDef } from '#midship/module-api';

export interface Reading {
  name: string;
  value: number;
}

export function alertTestModule(app: App): ModuleDef {
  let readings: Reading[] = [];
  let failWith: string | null = null;
  return {
    services: [{ name: 'alerttest', type: 'service' }],
    methods: [
      method('alerttest.set', {
        description: 'What the source finds from now on; `fail`: its next runs throw this.',
        args: [arg('readings', Type.Array(Type.Object({ name: Type.String(), value: Type.Number() }))), arg('fail', Type.Union([Type.String(), Type.Null()]), { default: null })],
        result: Type.Null(),
        handler: (_ctx, r, fail) => {
          readings = r;
          failWith = fail;
          return null;
        },
      }),
      method('alerttest.hold', {
        description: 'A job holding lock `hold` until aborted (the next one WAITS behind it).',
        args: [],
        result: Type.Null(),
        job: { lock: () => 'hold', lockQueueSize: null, abortable: true },
        handler: (_ctx, job) => new Promise<null>((_resolve, reject) => {
          job.signal.addEventListener('abort', () => reject(job.signal.reason), { once: true });
        }),
      }),
      method('alerttest.work', {
        description: 'A job: `steps` progress changes `pause_ms` apart, then success, or failure with `fail` as its error; `secret` is an argument to redact.',
        args: [
          arg('steps', Type.Integer({ minimum: 0, maximum: 10_000 })),
          arg('pause_ms', Type.Integer({ minimum: 0, maximum: 10_000 }), { default: 0 }),
          arg('fail', Type.Union([Type.String(), Type.Null()]), { default: null }),
          arg('secret', Type.String({ secret: true }), { default: '' }),
        ],
        result: Type.Integer(),
        job: { abortable: true },
        handler: async (_ctx, job, steps, pauseMs, fail) => {
          for (let i = 1; i <= steps; i++) {
            job.setProgress((100 * i) / steps, `step ${i} of ${steps}`);
            if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
          }
          if (fail !== null) throw new Error(fail);
          return steps;
        },
      }),
      method('alerttest.raise', {
        description: 'app.alerts.raise(klass, args).',
        args: [arg('klass', Type.String()), arg('args', Type.Unknown())],
        result: Type.Null(),
        handler: async (_ctx, klass, args) => {
          await app.alerts.raise(klass, args);
          return null;
        },
      }),
      method('alerttest.clear', {
        description: 'app.alerts.clear(klass, args).',
        args: [arg('klass', Type.String()), arg('args', Type.Unknown())],
        result: Type.Null(),
        handler: async (_ctx, klass, args) => {
          await app.alerts.clear(klass, args);
          return null;
        },
      }),
    ],
    alerts: {
      classes: [
        { name: 'TestTaskFailed', category: 'TASKS', level: 'ERROR', title: 'Test Task Failed', text: 'Task %(id)d failed: %(error)s', oneShot: true, key: (a) => (a as { id: number }).id },
        { name: 'TestTooHigh', category: 'SYSTEM', level: 'WARNING', title: 'Reading Too High', text: '%(name)s is %(value)d, above %(limit)d', key: (a) => (a as Reading).name },
        { name: 'TestWayTooHigh', category: 'SYSTEM', level: 'CRITICAL', title: 'Reading Far Too High', text: '%(name)s is %(value)d', key: (a) => (a as Reading).name },
        { name: 'TestNotice', category: 'STORAGE', level: 'INFO', title: 'A Notice', text: 'Notice: %s' },
      ],
      sources: [
        alertSource({
          name: 'TestReadings',
          interval: 0,
          settings: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }), critical: Type.Integer({ minimum: 1, default: 100 }) }),
          check: ({ settings }) => {
            if (failWith !== null) throw new Error(failWith);
            return readings
              .filter((r) => r.value > settings.limit)
              .map((r) => (r.value > settings.critical
                ? { klass: 'TestWayTooHigh', args: r }
                : { klass: 'TestTooHigh', args: { ...r, limit: settings.limit } }));
          },
        }),
      ],
    },
    async start() {
      await app.alerts.raise('TestNotice', 'raised while the daemon started');
    },
  };
}
