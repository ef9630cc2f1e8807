// interface.* arguments and results (MODULES.md §4). The entry shape is in schemas/host/,
// where the readers that build it (methods/host) find it too.
import { Type } from '@sinclair/typebox';
import { InterfaceEntry } from './host/interface.js';

export { InterfaceEntry } from './host/interface.js';

/** A list of entries, one entry (`get`), a count (`count`), or [{name}] with extra.retrieve_names_only. */
export const InterfaceQueryResult = Type.Union([
  Type.Array(Type.Union([InterfaceEntry, Type.Object({ name: Type.String() }), Type.Record(Type.String(), Type.Unknown())])),
  InterfaceEntry,
  Type.Record(Type.String(), Type.Unknown()),
  Type.Integer({ minimum: 0 }),
]);

export const InterfaceId = Type.String({ minLength: 1, maxLength: 64 });
