// The daemon's own memory (resident set) above a limit: a leak, or far more work than planned.
// The figure in the alert moves in 64 MiB steps, so it changes when the picture does.
import { alertSource, Type, type AlertClassDef, type AlertSourceDef } from '#midship/module-api';

export const DAEMON_MEMORY_HIGH: AlertClassDef = {
  name: 'DaemonMemoryHigh',
  category: 'SYSTEM',
  level: 'WARNING',
  title: 'Daemon Memory Use High',
  text: 'The daemon uses about %(rss_mib)d MiB of memory (resident), above the limit of %(limit_mib)d MiB',
  key: () => 'rss',
};

const STEP_MIB = 64;

export function memorySource(rss: () => number = () => process.memoryUsage.rss()): AlertSourceDef {
  return alertSource({
    name: 'DaemonMemory',
    settings: Type.Object({ limit_mib: Type.Integer({ minimum: 1, default: 2048, description: 'Alert when the daemon\'s resident memory is above this many MiB' }) }),
    check({ settings }) {
      const mib = rss() / 2 ** 20;
      if (mib <= settings.limit_mib) return [];
      return [{ klass: DAEMON_MEMORY_HIGH.name, args: { rss_mib: Math.max(STEP_MIB, Math.round(mib / STEP_MIB) * STEP_MIB), limit_mib: settings.limit_mib } }];
    },
  });
}
