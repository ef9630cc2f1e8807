// Shapes of alert.* and alertclasses.* (TrueNAS's Alert model, API v27; MODULES.md 3).
import { Type, type Static } from '@sinclair/typebox';
import { WireDate } from './util.js';

/** Lowest first: a level's index is its rank. */
export const ALERT_LEVELS = ['INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'] as const;
export const AlertLevel = Type.Union(ALERT_LEVELS.map((l) => Type.Literal(l)));
export type AlertLevelT = (typeof ALERT_LEVELS)[number];

/** TrueNAS's category ids, with the titles alert.list_categories shows. */
export const ALERT_CATEGORIES = {
  APPLICATIONS: 'Applications', AUDIT: 'Audit', CERTIFICATES: 'Certificates', CLUSTERING: 'Clustering',
  DIRECTORY_SERVICE: 'Directory Service', HA: 'High-Availability', HARDWARE: 'Hardware', KMIP: 'Key Management Interoperability Protocol (KMIP)',
  PLUGINS: 'Plugins', NETWORK: 'Network', REPORTING: 'Reporting', SECURITY: 'Security', SHARING: 'Sharing',
  STORAGE: 'Storage', SYSTEM: 'System', TASKS: 'Tasks', TRUENAS_CONNECT: 'TrueNAS Connect', UPS: 'UPS',
} as const;
export type AlertCategoryT = keyof typeof ALERT_CATEGORIES;

export const ALERT_POLICIES = ['IMMEDIATELY', 'HOURLY', 'DAILY', 'NEVER'] as const;
export const AlertPolicy = Type.Union(ALERT_POLICIES.map((p) => Type.Literal(p)));
export type AlertPolicyT = (typeof ALERT_POLICIES)[number];

export const Alert = Type.Object({
  uuid: Type.String(),
  source: Type.String(),
  klass: Type.String(),
  args: Type.Unknown(),
  node: Type.String(),
  key: Type.String(),
  datetime: WireDate(),
  last_occurrence: WireDate(),
  dismissed: Type.Boolean(),
  mail: Type.Unknown(),
  text: Type.String(),
  id: Type.String(),
  level: AlertLevel,
  formatted: Type.Union([Type.String(), Type.Null()]),
  one_shot: Type.Boolean(),
});
export type AlertT = Static<typeof Alert>;

export const AlertList = Type.Array(Alert);

export const AlertUuid = Type.String({ maxLength: 200 });

export const AlertCategories = Type.Array(Type.Object({
  id: Type.String(),
  title: Type.String(),
  classes: Type.Array(Type.Object({
    id: Type.String(),
    title: Type.String(),
    level: AlertLevel,
    proactive_support: Type.Boolean(),
  })),
}));

export const AlertPolicies = Type.Array(AlertPolicy);

/** One class's overrides; a field left out takes the class's default. */
export const AlertClassSetting = Type.Object({
  level: Type.Optional(AlertLevel),
  policy: Type.Optional(AlertPolicy),
  proactive_support: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type AlertClassSettingT = Static<typeof AlertClassSetting>;

/**
 * alertclasses config. `sources` (a Midship extension) holds the settings of each alert source,
 * e.g. the free-space thresholds of the data dir: every setting with its current value.
 */
export const AlertClassesConfig = Type.Object({
  id: Type.Integer(),
  classes: Type.Record(Type.String(), AlertClassSetting),
  sources: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
});
export type AlertClassesConfigT = Static<typeof AlertClassesConfig>;

export const AlertClassesUpdate = Type.Object({
  classes: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), AlertClassSetting, { description: 'Per class: level, policy (IMMEDIATELY, HOURLY, DAILY, NEVER); replaces the stored overrides as a whole' })),
  sources: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Record(Type.String({ maxLength: 200 }), Type.Unknown()), { description: 'Per alert source: settings to change (thresholds); the others keep their values' })),
}, { additionalProperties: false });
export type AlertClassesUpdateT = Static<typeof AlertClassesUpdate>;

export const ProcessAlertsResult = Type.Array(Type.Object({
  source: Type.String(),
  alerts: Type.Integer({ description: 'Alerts the source reported' }),
  error: Type.Union([Type.String(), Type.Null()]),
}));
