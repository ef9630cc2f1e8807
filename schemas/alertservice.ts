// Shapes of alertservice.* (TrueNAS's alert service entry, MODULES.md 3) for the types Midship
// sends: Webhook (signed, our own), Slack, Mattermost, Mail. `attributes` is checked per type by
// the delivery engine (validateAlertServiceAttributes), which names the offending field; the
// argument schema here only carries the type and marks every secret attribute of every type, so
// the audit trail and job records never hold one.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ALERT_SERVICE_TYPES, SECRET_ATTRIBUTES } from './alertservice_attributes.js';
import { AlertLevel } from './alert.js';

const secretNames = [...new Set(Object.values(SECRET_ATTRIBUTES).flat())];
const secretProps: Record<string, TSchema> = Object.fromEntries(secretNames.map((path) => (path.endsWith('.*')
  ? [path.slice(0, -2), Type.Optional(Type.Record(Type.String(), Type.Unknown({ secret: true })))]
  : [path, Type.Optional(Type.Unknown({ secret: true }))])));

export const AlertServiceAttributes = Type.Object({
  type: Type.Union(ALERT_SERVICE_TYPES.map((t) => Type.Literal(t)), { description: 'Webhook: url, secret (HMAC key, 16+ characters), headers; Slack: url; Mattermost: url, username, channel, icon_url; Mail: host, port, security (PLAIN, SSL, TLS), verify_certificate, username, password, from, to' }),
  ...secretProps,
}, { additionalProperties: true });

/** TrueNAS's titles of the types (type__title). */
export const ALERT_SERVICE_TITLES: Record<string, string> = { Webhook: 'Webhook', Slack: 'Slack', Mattermost: 'Mattermost', Mail: 'Email' };

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  attributes: AlertServiceAttributes,
  level: AlertLevel,
  enabled: Type.Boolean({ default: true }),
};

export const AlertServiceCreate = Type.Object({
  name: fields.name,
  attributes: fields.attributes,
  level: fields.level,
  enabled: Type.Optional(fields.enabled),
}, { additionalProperties: false });
export type AlertServiceCreateT = Static<typeof AlertServiceCreate>;

export const AlertServiceUpdate = Type.Object({
  name: Type.Optional(fields.name),
  attributes: Type.Optional(fields.attributes),
  level: Type.Optional(fields.level),
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type AlertServiceUpdateT = Static<typeof AlertServiceUpdate>;

export const AlertServiceEntry = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  attributes: AlertServiceAttributes,
  level: AlertLevel,
  enabled: Type.Boolean(),
  type__title: Type.String(),
});
export type AlertServiceEntryT = Static<typeof AlertServiceEntry>;

export const AlertServiceId = Type.Integer({ minimum: 1 });
