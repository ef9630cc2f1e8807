// Shapes of webhook.* (a Midship extension: signed job webhooks, docs/webhooks.md). The secret and
// the header values are write-only: every answer shows them as ********.
import { Type, type Static } from '@sinclair/typebox';
import { WireDate } from './util.js';

export const JOB_STATES = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'] as const;

/** `cronjob.*`, `pool.scrub.scrub`, `*`: a method name where * stands for any run of characters. */
const MethodPattern = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.*]+$' });

function fields(create: boolean) {
  const def = <V>(v: V) => (create ? { default: v } : {});
  return {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL the deliveries are POSTed to' }),
    secret: Type.String({ minLength: create ? 16 : 1, maxLength: 1024, secret: true, description: 'HMAC-SHA256 key of X-Midship-Signature; shown as ******** (send that back to keep it)' }),
    headers: Type.Record(Type.String(), Type.String({ maxLength: 4096, secret: true }), { description: 'Extra request headers; values shown as ********', ...def({}) }),
    methods: Type.Array(MethodPattern, { minItems: 1, maxItems: 50, description: 'Job methods to report (* matches any characters)', ...def(['*']) }),
    states: Type.Array(Type.Union(JOB_STATES.map((s) => Type.Literal(s))), { maxItems: 5, uniqueItems: true, description: 'Job states to report as they are reached (job.<STATE>)', ...def(['FAILED']) }),
    progress: Type.Boolean({ description: 'Report progress changes of running jobs (job.progress), at most one a second per job', ...def(false) }),
    enabled: Type.Boolean(def(true)),
  };
}

const c = fields(true);
export const WebhookCreate = Type.Object({
  name: c.name, url: c.url, secret: c.secret,
  headers: Type.Optional(c.headers), methods: Type.Optional(c.methods), states: Type.Optional(c.states),
  progress: Type.Optional(c.progress), enabled: Type.Optional(c.enabled),
}, { additionalProperties: false });
export type WebhookCreateT = Static<typeof WebhookCreate>;

const u = fields(false);
export const WebhookUpdate = Type.Object({
  name: Type.Optional(u.name), url: Type.Optional(u.url), secret: Type.Optional(u.secret),
  headers: Type.Optional(u.headers), methods: Type.Optional(u.methods), states: Type.Optional(u.states),
  progress: Type.Optional(u.progress), enabled: Type.Optional(u.enabled),
}, { additionalProperties: false });
export type WebhookUpdateT = Static<typeof WebhookUpdate>;

const Nullable = <T extends ReturnType<typeof WireDate>>(s: T) => Type.Union([s, Type.Null()]);

export const WebhookEntry = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  url: Type.String(),
  secret: Type.String({ secret: true }),
  headers: Type.Record(Type.String(), Type.String({ secret: true })),
  methods: Type.Array(Type.String()),
  states: Type.Array(Type.String()),
  progress: Type.Boolean(),
  enabled: Type.Boolean(),
  queue: Type.Object({
    queued: Type.Integer({ description: 'Deliveries waiting (the first may be waiting for a retry)' }),
    next_try_at: Nullable(WireDate()),
    failing_since: Nullable(WireDate()),
  }),
});
export type WebhookEntryT = Static<typeof WebhookEntry>;

export const WebhookId = Type.Integer({ minimum: 1 });

export const WebhookDelivery = Type.Object({
  delivery_id: Type.String(),
  event: Type.String(),
  try: Type.Integer({ description: '1 for the first try; 0 for a delivery refused before any (queue full)' }),
  at: WireDate(),
  status: Type.Union(['SUCCESS', 'RETRYING', 'FAILED', 'DROPPED'].map((s) => Type.Literal(s))),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Union([Type.Number(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  next_try_at: Nullable(WireDate()),
});
export const WebhookDeliveries = Type.Array(WebhookDelivery);

export const WebhookTestResult = Type.Object({
  ok: Type.Boolean(),
  delivery_id: Type.String(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Number(),
  error: Type.Union([Type.String(), Type.Null()]),
});
