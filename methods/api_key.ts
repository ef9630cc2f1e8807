// api_key.*: keys "<id>-<64 alphanumerics>" shown once; only SCRAM material is stored (issue 5).
import { arg, CallError, checkNoControlChars, ERRNO, isExpired, mayHandleKeysOf, method, notFound, publicKey, queryMethod, ValidationErrors, type App, type CallContext, type ModuleDef } from '#midship/module-api';
import { ApiKeyCreate, ApiKeyUpdate, DeleteResult, KeyEntry, KeyId, KeyList, type DateValueT } from '../schemas/api_key.js';

function toMs(v: DateValueT | undefined): number | null | undefined {
  if (v === undefined || v === null) return v;
  return typeof v === 'string' ? Date.parse(v) : v.$date;
}

export function apiKeyModule(app: App): ModuleDef {
  const auth = app.auth;
  const keys = auth.keys;
  const emit = (msg: 'added' | 'changed' | 'removed', id: number, fields?: unknown) => app.events.emit('api_key.query', msg, id, fields);
  const instance = (id: number) => {
    const k = keys.get(id);
    if (!k) throw notFound(`API key ${id} does not exist`);
    return k;
  };
  const endFor = async (id: number, reason: string) => {
    auth.endSessions((c) => c.apiKey?.id === id, reason);
    await auth.revokeKeyTokens(id);
  };
  /** Only FULL_ADMIN handles other users' keys: a key logs in as its user, with all its roles. */
  const mustOwn = (ctx: CallContext, username: string) => {
    if (!mayHandleKeysOf(ctx.credentials, username)) throw new CallError(`Only a full admin can change or delete API keys of another user ('${username}')`, ERRNO.EPERM);
  };

  return {
    services: [{ name: 'api_key', type: 'crud', rolePrefix: 'API_KEY', cliDescription: 'API keys' }],
    methods: [
      queryMethod('api_key.query', 'Query API keys (never the keys themselves).', () => keys.all().map(publicKey)),
      method('api_key.get_instance', {
        description: 'One API key by id.',
        args: [arg('id', KeyId)],
        result: KeyEntry,
        handler: (_ctx, id) => publicKey(instance(id)),
      }),
      method('api_key.my_keys', {
        description: "The caller's own API keys.",
        args: [],
        result: KeyList,
        authOnly: true,
        handler: (ctx) => keys.all().filter((k) => k.username === ctx.credentials!.username).map(publicKey),
      }),
      method('api_key.create', {
        description: 'Create an API key for `username` (default: the caller; another user only for FULL_ADMIN). The result carries `key` ("<id>-<secret>") this once.',
        args: [arg('api_key_create', ApiKeyCreate)],
        result: KeyEntry,
        handler: async (ctx, data) => {
          const username = data.username ?? ctx.credentials?.username ?? '';
          const errors = new ValidationErrors();
          if (checkNoControlChars(username, 'api_key_create.username', errors)) {
            if (!auth.users.byName(username)) errors.add('api_key_create.username', `User '${username}' does not exist`, ERRNO.ENOENT);
            else if (!mayHandleKeysOf(ctx.credentials, username)) errors.add('api_key_create.username', `Only a full admin can create API keys for another user ('${username}')`, ERRNO.EPERM);
          }
          checkNoControlChars(data.name, 'api_key_create.name', errors);
          if (keys.all().some((k) => k.name === data.name)) errors.add('api_key_create.name', `An API key named '${data.name}' already exists`, ERRNO.EEXIST);
          const expires = toMs(data.expires_at);
          if (Number.isNaN(expires)) errors.add('api_key_create.expires_at', 'Not an ISO-8601 date-time');
          else if (typeof expires === 'number' && !(expires > Date.now())) errors.add('api_key_create.expires_at', 'Expiration must be in the future');
          errors.throwIfAny();
          const { record, key } = await keys.create(data.name, username, expires ?? null);
          const pub = publicKey(record);
          emit('added', record.id, pub);
          return { ...pub, key };
        },
      }),
      method('api_key.update', {
        description: 'Rename a key, change its expiry, or `reset` it (a new secret, returned once); your own keys, any key for FULL_ADMIN. An expired or reset key ends the sessions that used it.',
        args: [arg('id', KeyId), arg('api_key_update', ApiKeyUpdate)],
        result: KeyEntry,
        handler: async (ctx, id, data) => {
          mustOwn(ctx, instance(id).username);
          const change: { name?: string; expires_at?: number | null; reset?: boolean } = {};
          if (data.name !== undefined) {
            const errors = new ValidationErrors();
            checkNoControlChars(data.name, 'api_key_update.name', errors);
            errors.throwIfAny();
            change.name = data.name;
          }
          const expires = toMs(data.expires_at);
          if (Number.isNaN(expires)) throw new ValidationErrors([['api_key_update.expires_at', 'Not an ISO-8601 date-time', ERRNO.EINVAL]]);
          if (expires !== undefined) change.expires_at = expires;
          if (data.reset !== undefined) change.reset = data.reset;
          const { record, key } = await keys.update(id, change);
          if (data.reset || isExpired(record)) await endFor(id, data.reset ? 'API key reset' : 'API key expired');
          else if (expires !== undefined) auth.refreshKeyExpiry(id);
          const pub = publicKey(record);
          emit('changed', id, pub);
          return key === null ? pub : { ...pub, key };
        },
      }),
      method('api_key.delete', {
        description: 'Delete (revoke) a key; sessions that logged in with it end at once.',
        args: [arg('id', KeyId)],
        result: DeleteResult,
        handler: async (ctx, id) => {
          const k = instance(id);
          mustOwn(ctx, k.username);
          await keys.delete(id);
          await endFor(id, 'API key revoked');
          emit('removed', id);
          return true;
        },
      }),
    ],
    events: [{ name: 'api_key.query', description: 'API keys added, changed or removed.', roles: ['API_KEY_READ'] }],
  };
}
