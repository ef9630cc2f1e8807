// Argument and result schemas of api_key.* (issue 5). A key's secret appears in a result only
// when it is created or reset.
import { Type, type Static } from '@sinclair/typebox';
import { WireDate } from './util.js';

/** An expiry: {"$date": ms}, an ISO-8601 string, or null for never. */
export const DateValue = Type.Union([WireDate({ integer: true }), Type.String({ minLength: 10 }), Type.Null()]);
export type DateValueT = Static<typeof DateValue>;

/** A key as returned; `key` ("<id>-<secret>") only by create and by update with reset. */
export const KeyEntry = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  username: Type.String(),
  user_identifier: Type.String(),
  keyhash: Type.String(),
  revoked: Type.Boolean(),
  expired: Type.Boolean(),
  created_at: WireDate(),
  expires_at: Type.Union([WireDate(), Type.Null()]),
  key: Type.Optional(Type.String({ secret: true })),
});

export const KeyList = Type.Array(KeyEntry);

/** username absent: the caller's. */
export const ApiKeyCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), username: Type.Optional(Type.String()), expires_at: Type.Optional(DateValue) }, { additionalProperties: false });

/** reset: replace the secret (the new key is in the result). */
export const ApiKeyUpdate = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), expires_at: Type.Optional(DateValue), reset: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export const KeyId = Type.Integer();

export const DeleteResult = Type.Boolean();
