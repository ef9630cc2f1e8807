// alert.list and its event, in TrueNAS's shape (schemas/alert.ts). Nothing raises alerts yet: the
// list is the real, empty list of current alerts, which the alerts work fills (raising, clearing
// and dismissing them through `alerts` below, with the alert.list events the web UI follows).
import { method, type App, type ModuleDef } from '#midship/module-api';
import { AlertList, type AlertT } from '../schemas/alert.js';

export function alertModule(_app: App): ModuleDef {
  const alerts = new Map<string, AlertT>();
  return {
    services: [{ name: 'alert', type: 'service', rolePrefix: 'ALERT', cliDescription: 'Current alerts' }],
    methods: [
      method('alert.list', {
        description: 'Current alerts (uuid, klass, level, text, formatted, datetime, last_occurrence, dismissed, ...), oldest first.',
        args: [],
        result: AlertList,
        roles: ['ALERT_LIST_READ'],
        handler: () => [...alerts.values()],
      }),
    ],
    events: [{ name: 'alert.list', description: 'Alerts added, changed (dismissed, restored) or removed (cleared); id is the alert\'s uuid.', roles: ['ALERT_LIST_READ'] }],
  };
}
