// webhook.*: signed job webhooks (docs/webhooks.md). A webhook names a URL, a secret, and which
// job events it wants (method patterns, states, progress). Every matching event is stored in the
// durable delivery queue (methods/delivery/) before its first try, then POSTed with
// X-Midship-Signature over the raw body, whose `timestamp` is signed with it; deliveries of one
// webhook go out in order, are retried with backoff for a day on timeouts and 5xx (never on other
// 4xx), and survive restarts. A webhook failing for a day raises WebhookFailing. The secret and
// header values never leave the daemon: answers show ********.
import {
  arg, jobToWire, method, notFound, queryMethod, Slots, Type,
  type AlertClassDef, type App, type JobRecord, type ModuleDef, type ModuleFactory,
} from '#midship/module-api';
import {
  WebhookCreate, WebhookDeliveries, WebhookEntry, WebhookId, WebhookTestResult, WebhookUpdate,
  type WebhookEntryT,
} from '../schemas/webhook.js';
import {
  DeliveryQueue, HttpSender, REDACTED, sendNow, systemClock, validateAlertServiceAttributes, webhookTransport,
  type Clock, type DeliveryAttempt, type HttpSenderOptions, type QueueLimits, type RetryPolicy,
} from './delivery/index.js';
import { asValidation } from './delivery-errors.js';
import { JobEventRouter } from './webhook/job-events.js';

const EVENT = 'webhook.query';

interface StoredWebhook {
  id: number;
  name: string;
  url: string;
  secret: string;
  headers: Record<string, string>;
  methods: string[];
  states: string[];
  progress: boolean;
  enabled: boolean;
}

export const WEBHOOK_FAILING: AlertClassDef = {
  name: 'WebhookFailing',
  category: 'TASKS',
  level: 'ERROR',
  title: 'Webhook Failing',
  text: 'Webhook "%(name)s" (id %(id)d) has failed to deliver for a day; deliveries wait for it: %(error)s',
  key: (a) => (a as { id: number }).id,
};

export interface WebhookModuleOptions {
  /** The clock retries and the progress throttle wait on (tests pass a ManualClock). */
  clock?: Clock;
  http?: HttpSenderOptions;
  retry?: Partial<RetryPolicy>;
  limits?: Partial<QueueLimits>;
}

const destination = (id: number) => `webhook:${id}`;
const idOf = (dest: string) => Number(dest.slice('webhook:'.length));
const dbKey = (id: number) => String(id).padStart(10, '0');
const date = (ms: number | null) => (ms === null ? null : { $date: ms });

/** The sample job webhook.test sends. */
const TEST_JOB = { id: 0, method: 'webhook.test', arguments: [], state: 'SUCCESS', progress: { percent: 100, description: 'A test delivery', extra: null }, result: null, error: null };

export function makeWebhookModule(options: WebhookModuleOptions = {}): ModuleFactory {
  return (app) => webhookModule(app, options);
}

function webhookModule(app: App, o: WebhookModuleOptions): ModuleDef {
  const clock = o.clock ?? systemClock;
  const db = app.sublevel<StoredWebhook>('webhook');
  const hooks = new Map<number, StoredWebhook>();
  const writes = new Slots(1);
  const http = new HttpSender(o.http);
  let nextId = 1;
  const fail = (what: string) => (err: unknown) => app.log.error({ err }, what);

  const queue = new DeliveryQueue({
    db: app.sublevel('webhook.delivery'),
    clock,
    ...(o.retry ? { policy: o.retry } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    onFailing: (f) => {
      const h = hooks.get(idOf(f.destination));
      if (h) app.alerts.raise(WEBHOOK_FAILING.name, { id: h.id, name: h.name, error: f.lastError ?? `HTTP ${f.lastStatusCode}` }).catch(fail('raising WebhookFailing failed'));
    },
    onRecovered: (dest) => void app.alerts.clear(WEBHOOK_FAILING.name, { id: idOf(dest) }).catch(fail('clearing WebhookFailing failed')),
    onError: fail('a webhook delivery could not be stored'),
    // A try changes the webhook's queue figures: followers (the dashboard) see them, the newest only.
    onAttempt: (dest) => {
      const h = hooks.get(idOf(dest));
      if (h && app.events.hasListeners(EVENT)) app.events.emit(EVENT, 'changed', h.id, entry(h), { coalesceKey: `${EVENT}:${h.id}` });
    },
  });

  const transport = (h: StoredWebhook) => webhookTransport({ url: h.url, secret: h.secret, headers: h.headers, urlField: 'webhook_update.url' }, http);

  /** The job as core.get_jobs shows it: arguments were redacted when it was made, the result is here. */
  const wireJob = (r: Readonly<JobRecord>) => jobToWire(r, app.registry.get(r.method)?.redactResult ?? null);

  const router = new JobEventRouter(clock, (hookId, event, record) => {
    queue.enqueue(destination(hookId), event, { job: wireJob(record) }).catch((err: unknown) => app.log.warn({ err, webhook: hookId, job: record.id, event }, 'a webhook delivery was not queued'));
  });
  const refreshRouter = () => router.setHooks([...hooks.values()].filter((h) => h.enabled));
  const unobserve = app.jobs.observe((r) => router.observe(r));

  const entry = (h: StoredWebhook): WebhookEntryT => {
    const st = queue.status(destination(h.id));
    return {
      id: h.id, name: h.name, url: h.url, secret: REDACTED,
      headers: Object.fromEntries(Object.keys(h.headers).map((k) => [k, REDACTED])),
      methods: h.methods, states: h.states, progress: h.progress, enabled: h.enabled,
      queue: { queued: st?.queued ?? 0, next_try_at: date(st?.next_try_at ?? null), failing_since: date(st?.failing_since ?? null) },
    };
  };
  const instance = (id: number) => {
    const h = hooks.get(id);
    if (!h) throw notFound(`Webhook ${id} does not exist`);
    return h;
  };
  const emit = (msg: 'added' | 'changed' | 'removed', h: StoredWebhook) => app.events.emit(EVENT, msg, h.id, msg === 'removed' ? undefined : entry(h));

  /** URL, secret and headers checked as the Webhook alert service's (scheme, length, header names). */
  const checked = (h: StoredWebhook, attr: string): StoredWebhook => {
    const a = asValidation(() => validateAlertServiceAttributes({ type: 'Webhook', url: h.url, secret: h.secret, headers: h.headers }, attr));
    if (a.type !== 'Webhook') throw new Error('unreachable');
    return { ...h, url: a.url, secret: a.secret, headers: a.headers };
  };

  const store = async (h: StoredWebhook, msg: 'added' | 'changed') => {
    await db.put(dbKey(h.id), h);
    hooks.set(h.id, h);
    queue.setDestination(destination(h.id), transport(h));
    refreshRouter();
    emit(msg, h);
    return entry(h);
  };

  const toWire = (a: DeliveryAttempt) => ({ ...a, at: { $date: a.at }, next_try_at: date(a.next_try_at) });

  return {
    services: [{ name: 'webhook', type: 'crud', rolePrefix: 'WEBHOOK', cliDescription: 'Signed job webhooks' }],
    methods: [
      queryMethod('webhook.query', 'Job webhooks (secret and header values shown as ********), with their queue: deliveries waiting, next retry, failing since.', () => [...hooks.values()].map(entry)),
      method('webhook.get_instance', {
        description: 'One webhook by id.',
        args: [arg('id', WebhookId)],
        result: WebhookEntry,
        handler: (_ctx, id) => entry(instance(id)),
      }),
      method('webhook.create', {
        description: 'Add a job webhook: url, secret (16+ characters), headers, methods (patterns, default all), states (default FAILED), progress. Returns it.',
        args: [arg('webhook_create', WebhookCreate)],
        result: WebhookEntry,
        handler: (_ctx, d) => writes.run(() => {
          const h = checked({
            id: nextId, name: d.name, url: d.url, secret: d.secret, headers: d.headers ?? {}, methods: d.methods ?? ['*'],
            states: d.states ?? ['FAILED'], progress: d.progress ?? false, enabled: d.enabled ?? true,
          }, 'webhook_create');
          nextId++;
          return store(h, 'added');
        }),
      }),
      method('webhook.update', {
        description: 'Change webhook `id`: given fields replace the stored ones; a secret or header value sent back as ******** keeps its value. Returns it.',
        args: [arg('id', WebhookId), arg('webhook_update', WebhookUpdate)],
        result: WebhookEntry,
        handler: (_ctx, id, d) => writes.run(() => {
          const old = instance(id);
          const headers = d.headers === undefined
            ? old.headers
            : Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k, v === REDACTED && k in old.headers ? old.headers[k]! : v]));
          const { secret, headers: _h, ...rest } = d;
          const h = checked({ ...old, ...rest, secret: secret === undefined || secret === REDACTED ? old.secret : secret, headers }, 'webhook_update');
          return store(h, 'changed');
        }),
      }),
      method('webhook.delete', {
        description: 'Remove webhook `id` with its waiting deliveries and history. Returns true.',
        args: [arg('id', WebhookId)],
        result: Type.Boolean(),
        handler: (_ctx, id) => writes.run(async () => {
          const h = instance(id);
          await db.del(dbKey(id));
          hooks.delete(id);
          refreshRouter();
          await queue.removeDestination(destination(id));
          await app.alerts.clear(WEBHOOK_FAILING.name, { id });
          emit('removed', h);
          return true;
        }),
      }),
      method('webhook.deliveries', {
        description: "Webhook `id`'s recent deliveries, newest first: each try (SUCCESS, RETRYING, FAILED) with status code, duration and error, and deliveries DROPPED because its queue was full.",
        args: [arg('id', WebhookId), arg('limit', Type.Integer({ minimum: 1, maximum: 100 }), { default: 100 })],
        result: WebhookDeliveries,
        roles: ['WEBHOOK_READ'],
        handler: async (_ctx, id, limit) => {
          instance(id);
          return (await queue.attempts(destination(id), limit)).map(toWire);
        },
      }),
      method('webhook.test', {
        description: 'Send a signed test delivery (event webhook.test) to webhook `id` now, outside its queue (not stored, not retried).',
        args: [arg('id', WebhookId)],
        result: WebhookTestResult,
        handler: async (_ctx, id) => {
          const t = transport(instance(id));
          try {
            const r = await sendNow(t, { event: 'webhook.test', payload: { job: TEST_JOB }, destination: destination(id), clock });
            return { ok: r.verdict === 'delivered', delivery_id: r.deliveryId, status_code: r.statusCode, duration_ms: r.durationMs, error: r.error };
          } finally {
            await t.close?.();
          }
        },
      }),
      method('webhook.retry_now', {
        description: 'Try the delivery webhook `id` is waiting to retry now (the receiver was fixed). Returns null.',
        args: [arg('id', WebhookId)],
        result: Type.Null(),
        handler: (_ctx, id) => {
          instance(id);
          queue.retryNow(destination(id));
          return null;
        },
      }),
    ],
    events: [{ name: EVENT, description: 'Webhooks added, changed or removed (secrets redacted).', roles: ['WEBHOOK_READ'] }],
    alerts: { classes: [WEBHOOK_FAILING] },
    async start() {
      for await (const [, h] of db.iterator()) hooks.set(h.id, h);
      nextId = Math.max(0, ...hooks.keys()) + 1;
      await queue.open();
      for (const h of hooks.values()) queue.setDestination(destination(h.id), transport(h));
      for (const d of queue.destinations()) if (!hooks.has(idOf(d))) await queue.removeDestination(d);
      refreshRouter();
    },
    async stop() {
      unobserve();
      router.close();
      await queue.close();
      await http.close();
    },
  };
}
