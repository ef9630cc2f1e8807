// auth.twofactor.*: TrueNAS's global two-factor settings. Midship has no second factor yet, so it
// is reported disabled and turning it on is refused, saying so; every account's
// two_factor_config reads "no secret configured".
import { arg, CallError, ERRNO, method, Type, type App, type ModuleDef } from '#midship/module-api';

const TwoFactorEntry = Type.Object({
  enabled: Type.Boolean(),
  services: Type.Object({ ssh: Type.Boolean() }),
  window: Type.Integer({ minimum: 0 }),
  id: Type.Integer(),
});

const TwoFactorUpdate = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  services: Type.Optional(Type.Object({ ssh: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  window: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });

const CONFIG = { enabled: false, services: { ssh: false }, window: 0, id: 1 };

export function twoFactorModule(_app: App): ModuleDef {
  return {
    services: [{ name: 'auth.twofactor', type: 'config', rolePrefix: 'SYSTEM_SECURITY', cliDescription: 'Two-factor authentication (not available)' }],
    methods: [
      method('auth.twofactor.config', {
        description: 'Two-factor settings: disabled, as Midship has no second factor yet.',
        args: [],
        result: TwoFactorEntry,
        handler: () => CONFIG,
      }),
      method('auth.twofactor.update', {
        description: 'Refused: Midship has no second factor yet (EOPNOTSUPP). Settings that keep things as they are are accepted.',
        args: [arg('auth_twofactor_update', TwoFactorUpdate)],
        result: TwoFactorEntry,
        handler: (_ctx, data) => {
          if (data.enabled === true || data.services?.ssh === true || (data.window !== undefined && data.window !== CONFIG.window)) {
            throw new CallError('Two-factor authentication is not available in Midship: sign-in takes a password, an API key or a token', ERRNO.EOPNOTSUPP);
          }
          return CONFIG;
        },
      }),
    ],
  };
}
