// system.info, system.version*, system.state and friends (MODULES.md §1, api/v27_0_0/system.py).
import { Type, type Static } from '@sinclair/typebox';
import { WireDate } from './util.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const SystemInfo = Type.Object({
  version: Type.String(),
  buildtime: WireDate(),
  hostname: Type.String(),
  physmem: Type.Integer({ minimum: 0 }),
  model: Type.String(),
  cores: Type.Integer({ minimum: 1 }),
  physical_cores: Type.Integer({ minimum: 1 }),
  loadavg: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
  uptime: Type.String(),
  uptime_seconds: Type.Number({ minimum: 0 }),
  system_serial: NullableString,
  system_product: NullableString,
  system_product_version: NullableString,
  /** Midship has no license: always null. */
  license: Type.Null(),
  boottime: WireDate(),
  datetime: WireDate(),
  timezone: Type.String(),
  system_manufacturer: NullableString,
  ecc_memory: Type.Boolean(),
});
export type SystemInfoT = Static<typeof SystemInfo>;

export const SystemState = Type.Union([Type.Literal('BOOTING'), Type.Literal('READY'), Type.Literal('SHUTTING_DOWN')]);
export type SystemStateT = Static<typeof SystemState>;

export const VersionString = Type.String({ minLength: 1 });
export const BootId = Type.String({ minLength: 1 });
export const HostId = Type.String({ pattern: '^[0-9a-f]{64}$' });
