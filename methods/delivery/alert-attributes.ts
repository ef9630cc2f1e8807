// `attributes` of an alert service, one shape per `type`: TypeBox schemas (the types below are
// derived from them, and `secret: true` marks what responses and logs must redact), plus the
// checks a schema cannot express (URL scheme, header names, both-or-neither SMTP credentials).
// Errors name the attribute path from the caller's prefix, e.g. `alertservice_create.attributes.url`.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FieldErrors, joinField, type FieldError } from './field-errors.js';
import { checkHttpUrl } from './url.js';

/** What a secret attribute looks like in a response; sent back unchanged on update, the stored value stays. */
export const REDACTED = '********';

const HttpUrl = (secret: boolean) =>
  Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL', ...(secret ? { secret: true } : {}) });

/** Header names the sender sets itself; a configured header may not replace them. */
const RESERVED_HEADERS = new Set(['host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'user-agent', 'expect', 'upgrade', 'keep-alive', 'te', 'trailer']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// RFC 5322 is far looser; this refuses what would let a value inject a second header or address.
const EMAIL = /^[^\s@<>(),;:"\\[\]]{1,64}@[A-Za-z0-9.-]{1,253}$/;

export const WebhookAttributesSchema = Type.Object(
  {
    type: Type.Literal('Webhook'),
    url: HttpUrl(false),
    secret: Type.String({ minLength: 16, maxLength: 1024, secret: true, description: 'HMAC-SHA256 key for X-Midship-Signature' }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4096, secret: true }), { default: {}, description: 'Extra request headers (values are redacted in responses)' })),
  },
  { additionalProperties: false },
);

export const SlackAttributesSchema = Type.Object(
  { type: Type.Literal('Slack'), url: HttpUrl(true) },
  { additionalProperties: false },
);

export const MattermostAttributesSchema = Type.Object(
  {
    type: Type.Literal('Mattermost'),
    url: HttpUrl(true),
    username: Type.String({ minLength: 1, maxLength: 64 }),
    channel: Type.Optional(Type.String({ maxLength: 64, default: '' })),
    icon_url: Type.Optional(Type.String({ maxLength: 2048, default: '' })),
  },
  { additionalProperties: false },
);

const MailSecurity = Type.Union([Type.Literal('PLAIN'), Type.Literal('SSL'), Type.Literal('TLS')], {
  default: 'TLS',
  description: 'PLAIN: no encryption; SSL: TLS from the first byte (usually port 465); TLS: STARTTLS required (usually 587 or 25)',
});
export type MailSecurity = Static<typeof MailSecurity>;

export const MailAttributesSchema = Type.Object(
  {
    type: Type.Literal('Mail'),
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 25 })),
    security: Type.Optional(MailSecurity),
    verify_certificate: Type.Optional(Type.Boolean({ default: true, description: 'false accepts a self-signed server certificate' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, secret: true })),
    from: Type.String({ minLength: 3, maxLength: 320 }),
    to: Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);

export const ALERT_SERVICE_SCHEMAS = {
  Webhook: WebhookAttributesSchema,
  Slack: SlackAttributesSchema,
  Mattermost: MattermostAttributesSchema,
  Mail: MailAttributesSchema,
} as const;

export type AlertServiceType = keyof typeof ALERT_SERVICE_SCHEMAS;
export const ALERT_SERVICE_TYPES = Object.keys(ALERT_SERVICE_SCHEMAS) as AlertServiceType[];

/** The schema a method's args/result can use: one of the shapes, chosen by `type`. */
export const AlertServiceAttributesSchema = Type.Union(Object.values(ALERT_SERVICE_SCHEMAS));

// Static<> of an object with optional-with-default properties leaves them optional; after
// validateAlertServiceAttributes() they are always present, hence Required<>.
export type WebhookAttributes = Required<Static<typeof WebhookAttributesSchema>>;
export type SlackAttributes = Required<Static<typeof SlackAttributesSchema>>;
export type MattermostAttributes = Required<Static<typeof MattermostAttributesSchema>>;
export type MailAttributes = Static<typeof MailAttributesSchema> & Required<Pick<Static<typeof MailAttributesSchema>, 'port' | 'security' | 'verify_certificate'>>;
export type AlertServiceAttributes = WebhookAttributes | SlackAttributes | MattermostAttributes | MailAttributes;

/** Secret attribute names per type, from the schemas (`headers.*`: every header value). */
export const SECRET_ATTRIBUTES: Readonly<Record<AlertServiceType, readonly string[]>> = Object.fromEntries(
  ALERT_SERVICE_TYPES.map((t) => [t, secretPaths(ALERT_SERVICE_SCHEMAS[t])]),
) as unknown as Record<AlertServiceType, readonly string[]>;

function secretPaths(schema: TSchema): string[] {
  const out: string[] = [];
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  for (const [name, s] of Object.entries(props)) {
    if ((s as { secret?: unknown }).secret === true) out.push(name);
    const additional = (s as { patternProperties?: Record<string, TSchema> }).patternProperties;
    if (additional && Object.values(additional).some((p) => (p as { secret?: unknown }).secret === true)) out.push(`${name}.*`);
  }
  return out;
}

/**
 * Fills defaults and checks `value` as the attributes of an alert service; returns a new object
 * or throws FieldErrors with paths under `prefix` (e.g. `attributes`).
 */
export function validateAlertServiceAttributes(value: unknown, prefix = 'attributes'): AlertServiceAttributes {
  const at = (path: string) => joinField(prefix, path);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw FieldErrors.one(prefix, 'Must be an object');
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(ALERT_SERVICE_TYPES as string[]).includes(type)) {
    throw FieldErrors.one(at('type'), `Must be one of ${ALERT_SERVICE_TYPES.join(', ')}`);
  }
  const schema = ALERT_SERVICE_SCHEMAS[type as AlertServiceType];
  const attrs = Value.Default(schema, structuredClone(value)) as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const e of Value.Errors(schema, attrs)) {
    const path = e.path.split('/').filter(Boolean).join('.');
    if (!errors.some((x) => x.field === at(path))) errors.push({ field: at(path), message: e.message });
  }
  if (errors.length > 0) throw new FieldErrors(errors);
  const add = (check: () => void) => {
    try {
      check();
    } catch (err) {
      if (err instanceof FieldErrors) errors.push(...err.errors);
      else throw err;
    }
  };
  const a = attrs as unknown as AlertServiceAttributes;
  switch (a.type) {
    case 'Webhook':
      add(() => checkHttpUrl(a.url, at('url')));
      for (const name of Object.keys(a.headers)) {
        const field = at(`headers.${name}`);
        if (!HEADER_NAME.test(name)) errors.push({ field, message: 'Not a valid HTTP header name' });
        else if (RESERVED_HEADERS.has(name.toLowerCase()) || name.toLowerCase().startsWith('x-midship-')) errors.push({ field, message: 'This header is set by the sender and cannot be configured' });
        else if (/[\r\n\0]/.test(a.headers[name]!)) errors.push({ field, message: 'Header values may not contain line breaks' });
      }
      break;
    case 'Slack':
      add(() => checkHttpUrl(a.url, at('url')));
      break;
    case 'Mattermost':
      add(() => checkHttpUrl(a.url, at('url')));
      if (a.icon_url !== '') add(() => checkHttpUrl(a.icon_url, at('icon_url')));
      break;
    case 'Mail':
      if (!EMAIL.test(a.from)) errors.push({ field: at('from'), message: 'Not an email address' });
      a.to.forEach((addr, i) => {
        if (!EMAIL.test(addr)) errors.push({ field: at(`to.${i}`), message: 'Not an email address' });
      });
      if ((a.username === undefined) !== (a.password === undefined)) {
        errors.push({ field: at(a.username === undefined ? 'username' : 'password'), message: 'username and password go together: give both or neither' });
      }
      break;
  }
  if (errors.length > 0) throw new FieldErrors(errors);
  return a;
}

/** A copy with every secret attribute replaced by REDACTED (for responses and logs). */
export function redactAttributes<T extends AlertServiceAttributes>(attrs: T): T {
  const out = { ...attrs } as Record<string, unknown>;
  for (const path of SECRET_ATTRIBUTES[attrs.type]) {
    if (path.endsWith('.*')) {
      const key = path.slice(0, -2);
      const obj = out[key] as Record<string, string> | undefined;
      if (obj) out[key] = Object.fromEntries(Object.keys(obj).map((k) => [k, REDACTED]));
    } else if (out[path] !== undefined) {
      out[path] = REDACTED;
    }
  }
  return out as T;
}

/**
 * For update: a secret sent back as REDACTED (what the client was shown) keeps the stored value,
 * when the type did not change. Call before validateAlertServiceAttributes.
 */
export function keepRedactedSecrets(incoming: unknown, stored: AlertServiceAttributes): unknown {
  if (incoming === null || typeof incoming !== 'object' || Array.isArray(incoming)) return incoming;
  const next = { ...(incoming as Record<string, unknown>) };
  if (next.type !== stored.type) return next;
  const old = stored as unknown as Record<string, unknown>;
  for (const path of SECRET_ATTRIBUTES[stored.type]) {
    if (path.endsWith('.*')) {
      const key = path.slice(0, -2);
      const given = next[key];
      const prev = (old[key] ?? {}) as Record<string, string>;
      if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
        next[key] = Object.fromEntries(Object.entries(given as Record<string, unknown>).map(([k, v]) => [k, v === REDACTED && k in prev ? prev[k] : v]));
      }
    } else if (next[path] === REDACTED && old[path] !== undefined) {
      next[path] = old[path];
    }
  }
  return next;
}
