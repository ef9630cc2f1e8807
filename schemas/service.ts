// Shapes of service.* (TrueNAS's ServiceEntry).
import { Type, type Static } from '@sinclair/typebox';

export const ServiceEntry = Type.Object({
  id: Type.Integer(),
  service: Type.String(),
  enable: Type.Boolean(),
  state: Type.String(),
  pids: Type.Array(Type.Integer()),
});
export type ServiceEntryT = Static<typeof ServiceEntry>;
