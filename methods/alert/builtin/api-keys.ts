// API keys that expire soon, or have expired and still exist: a script using one is about to stop
// working, or already has.
import { alertSource, Type, type AlertClassDef, type AlertSourceDef, type ApiKeys } from '#midship/module-api';

const key = (a: unknown) => (a as { id: number }).id;
export const API_KEY_EXPIRING: AlertClassDef = {
  name: 'ApiKeyExpiring', category: 'SECURITY', level: 'WARNING', title: 'API Key Expires Soon',
  text: 'API key "%(name)s" (id %(id)d, user %(username)s) expires at %(expires)s', key,
};
export const API_KEY_EXPIRED: AlertClassDef = {
  name: 'ApiKeyExpired', category: 'SECURITY', level: 'NOTICE', title: 'API Key Expired',
  text: 'API key "%(name)s" (id %(id)d, user %(username)s) expired at %(expires)s', key,
};

export function apiKeySource(keys: Pick<ApiKeys, 'all'>): AlertSourceDef {
  return alertSource({
    name: 'ApiKeyExpiry',
    settings: Type.Object({ days: Type.Number({ minimum: 0, maximum: 365, default: 7, description: 'Warn this many days before a key expires' }) }),
    check({ settings, now }) {
      const soon = now + settings.days * 86_400_000;
      return keys.all().flatMap((k) => {
        if (k.revoked || k.expires_at === null || k.expires_at > soon) return [];
        const args = { id: k.id, name: k.name, username: k.username, expires: new Date(k.expires_at).toISOString() };
        return [{ klass: k.expires_at <= now ? API_KEY_EXPIRED.name : API_KEY_EXPIRING.name, args }];
      });
    },
  });
}
