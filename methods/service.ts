// service.query: what runs in this daemon, in TrueNAS's shape. TrueNAS lists the system services it
// starts and stops (smb, nfs, ssh, ...); Midship lists itself (midshipd, with its process id) and
// each of its modules' services (cronjob, user, ...), which run inside it: they start and stop
// with the daemon, so there is no service.control here.
import { queryMethod, type App, type ModuleDef } from '#midship/module-api';
import type { ServiceEntryT } from '../schemas/service.js';

export function serviceModule(app: App): ModuleDef {
  const entries = (): ServiceEntryT[] => {
    const modules = [...app.registry.services.values()].filter((s) => !s.private).map((s) => s.name).sort();
    const running = (service: string, pids: number[]) => ({ service, enable: true, state: 'RUNNING', pids });
    return [running('midshipd', [process.pid]), ...modules.map((name) => running(name, []))].map((e, i) => ({ id: i + 1, ...e }));
  };
  return {
    services: [{ name: 'service', type: 'crud', rolePrefix: 'SERVICE', cliDescription: 'The daemon and its modules, with their state' }],
    methods: [
      queryMethod('service.query', 'midshipd (RUNNING, its process id) and the service of each loaded module (RUNNING inside it), in TrueNAS\'s shape: id, service, enable, state, pids. Filters and options as every *.query.', () => entries()),
    ],
    events: [{ name: 'service.query', description: 'A service changed state (none do while the daemon runs: they start and stop with it).', roles: ['SERVICE_READ'] }],
  };
}
