// The `attributes` of an alert service, one shape per `type` (Webhook, Slack, Mattermost, Mail):
// TypeBox schemas, the types derived from them, and which attributes are secret (`secret: true`:
// responses and logs redact them). methods/delivery/alert-attributes.ts adds the checks a schema
// cannot express.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const HttpUrl = (secret: boolean) =>
  Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL', ...(secret ? { secret: true } : {}) });

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

