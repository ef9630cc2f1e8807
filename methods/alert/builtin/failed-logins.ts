// Repeated failed logins from one address: somebody guessing passwords (the login throttle slows
// them down; this tells a person). Failures over TCP are counted per address as they happen
// (App.auth.onLoginFailed); the unix socket is the local administrator's and is left out. Memory
// is bounded: per address only the newest failures a threshold can need, and at most MAX_ADDRESSES
// addresses (the least recently failing forgotten first).
import { alertSource, Type, type AlertClassDef, type AlertSourceDef, type App } from '#midship/module-api';
import type { Clock } from '../../delivery/clock.js';

export const FAILED_LOGINS: AlertClassDef = {
  name: 'RepeatedFailedLogins',
  category: 'SECURITY',
  level: 'WARNING',
  title: 'Repeated Failed Logins',
  text: '%(failures)d failed logins from %(address)s in the last %(minutes)d minutes (last user name tried: %(username)s)',
  key: (a) => (a as { address: string }).address,
};

const MAX_ADDRESSES = 10_000;
const MAX_KEPT = 1000;

interface Failures {
  times: number[];
  username: string | null;
}

export class FailedLogins {
  readonly #byAddress = new Map<string, Failures>();

  constructor(private readonly clock: Clock) {}

  follow(app: App): () => void {
    return app.auth.onLoginFailed((f) => {
      if (f.transport !== 'tcp') return;
      let entry = this.#byAddress.get(f.address);
      if (entry) this.#byAddress.delete(f.address); // re-inserted: the map's order is recency
      else entry = { times: [], username: null };
      entry.times.push(this.clock.now());
      if (entry.times.length > MAX_KEPT) entry.times.shift();
      entry.username = f.username;
      this.#byAddress.set(f.address, entry);
      if (this.#byAddress.size > MAX_ADDRESSES) this.#byAddress.delete(this.#byAddress.keys().next().value!);
    });
  }

  source(): AlertSourceDef {
    return alertSource({
      name: 'FailedLogins',
      settings: Type.Object({
        failures: Type.Integer({ minimum: 1, maximum: MAX_KEPT, default: 10, description: 'Alert at this many failed logins from one address...' }),
        minutes: Type.Integer({ minimum: 1, maximum: 1440, default: 10, description: '...within this many minutes' }),
      }),
      check: ({ settings, now }) => {
        const since = now - settings.minutes * 60_000;
        const out = [];
        for (const [address, entry] of this.#byAddress) {
          entry.times = entry.times.filter((t) => t > since);
          if (entry.times.length === 0) {
            this.#byAddress.delete(address);
            continue;
          }
          if (entry.times.length >= settings.failures) {
            out.push({ klass: FAILED_LOGINS.name, args: { address, failures: entry.times.length, minutes: settings.minutes, username: entry.username ?? '(none)' } });
          }
        }
        return out;
      },
    });
  }
}
