// Free space on the file system of the data dir (the job history, logs and alerts live there):
// a warning below one threshold, critical below the other. The percentage in the alert is whole,
// so a slowly filling disk changes the alert once a percent rather than every minute.
import { statfs } from 'node:fs/promises';
import { alertSource, Type, type AlertClassDef, type AlertSourceDef } from '#midship/module-api';

const text = 'The data directory %(path)s has %(free_percent)d%% free space left (%(free_gib)s GiB), below %(threshold)d%%';
export const DATADIR_SPACE_LOW: AlertClassDef = { name: 'DataDirSpaceLow', category: 'SYSTEM', level: 'WARNING', title: 'Data Directory Space Low', text, key: (a) => (a as { path: string }).path };
export const DATADIR_SPACE_CRITICAL: AlertClassDef = { name: 'DataDirSpaceCritical', category: 'SYSTEM', level: 'CRITICAL', title: 'Data Directory Space Critical', text, key: (a) => (a as { path: string }).path };

const Percent = (def: number, description: string) => Type.Number({ minimum: 0, maximum: 100, default: def, description });

export function dataDirSpaceSource(dataDir: string): AlertSourceDef {
  return alertSource({
    name: 'DataDirSpace',
    settings: Type.Object({
      warning_percent: Percent(20, 'Warn when less than this share of the data dir\'s file system is free'),
      critical_percent: Percent(10, 'Critical when less than this share is free'),
    }),
    async check({ settings }) {
      const s = await statfs(dataDir);
      if (s.blocks === 0) return [];
      const free = (s.bavail / s.blocks) * 100;
      const args = (threshold: number) => ({ path: dataDir, free_percent: Math.floor(free), free_gib: ((s.bavail * s.bsize) / 2 ** 30).toFixed(1), threshold });
      if (free < settings.critical_percent) return [{ klass: DATADIR_SPACE_CRITICAL.name, args: args(settings.critical_percent) }];
      if (free < settings.warning_percent) return [{ klass: DATADIR_SPACE_LOW.name, args: args(settings.warning_percent) }];
      return [];
    },
  });
}
