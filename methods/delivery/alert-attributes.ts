// `attributes` of an alert service, one shape per `type`: TypeBox schemas (the types below are
// derived from them, and `secret: true` marks what responses and logs must redact), plus the
// checks a schema cannot express (URL scheme, header names, both-or-neither SMTP credentials).
// Errors name the attribute path from the caller's prefix, e.g. `alertservice_create.attributes.url`.
import { Value } from '@sinclair/typebox/value';
import {
  ALERT_SERVICE_SCHEMAS, ALERT_SERVICE_TYPES, SECRET_ATTRIBUTES,
  type AlertServiceAttributes, type AlertServiceType,
} from '../../schemas/alertservice_attributes.js';
import { FieldErrors, joinField, type FieldError } from './field-errors.js';
import { checkHttpUrl } from './url.js';

export {
  ALERT_SERVICE_SCHEMAS, ALERT_SERVICE_TYPES, AlertServiceAttributesSchema, MailAttributesSchema, MattermostAttributesSchema, SECRET_ATTRIBUTES,
  SlackAttributesSchema, WebhookAttributesSchema,
  type AlertServiceAttributes, type AlertServiceType, type MailAttributes, type MailSecurity, type MattermostAttributes, type SlackAttributes, type WebhookAttributes,
} from '../../schemas/alertservice_attributes.js';

/** What a secret attribute looks like in a response; sent back unchanged on update, the stored value stays. */
export const REDACTED = '********';

/** Header names the sender sets itself; a configured header may not replace them. */
const RESERVED_HEADERS = new Set(['host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'user-agent', 'expect', 'upgrade', 'keep-alive', 'te', 'trailer']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// RFC 5322 is far looser; this refuses what would let a value inject a second header or address.
const EMAIL = /^[^\s@<>(),;:"\\[\]]{1,64}@[A-Za-z0-9.-]{1,253}$/;

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
