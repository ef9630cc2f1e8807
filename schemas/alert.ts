// Shapes of alert.* (TrueNAS's Alert model, API v27).
import { Type, type Static } from '@sinclair/typebox';
import { WireDate } from './util.js';

export const AlertLevel = Type.Union(['INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'].map((l) => Type.Literal(l)));

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
