// interface.query (MODULES.md §4): the host's network interfaces as they are now, read from
// sysfs and the address sources by methods/host, in TrueNAS's entry shape; interface.query
// events ADDED / CHANGED / REMOVED as interfaces appear, change or vanish (polled every 5 s, and
// on every query). Loopback and container plumbing are left out, as TrueNAS leaves them out.
import { applyQuery, arg, compileFilters, method, notFound, queryMethod, type App, type ModuleDef, type QueryOptionsT } from '#midship/module-api';
import { InterfaceWatcher, type InterfaceChange } from '../host/net-watcher.js';
import { toInterfaceEntry } from '../host/net-state.js';
import { InterfaceEntry, InterfaceId, InterfaceQueryResult } from '../../schemas/interface.js';

export const INTERFACE_EVENT = 'interface.query';
const POLL_MS = 5000;

export function interfaceModule(app: App): ModuleDef {
  const watcher = new InterfaceWatcher({
    intervalMs: POLL_MS,
    include: (s) => !s.internal,
    onChanges: (changes) => announce(changes),
    onError: (err) => app.log.warn({ err }, 'interface watcher: a poll failed'),
    // Nobody listens: no need to poll (a query polls anyway).
    wanted: () => app.events.hasListeners(INTERFACE_EVENT),
  });

  function announce(changes: InterfaceChange[]): void {
    if (!app.events.hasListeners(INTERFACE_EVENT)) return;
    for (const c of changes) {
      if (c.type === 'REMOVED') app.events.emit(INTERFACE_EVENT, 'removed', c.name);
      else app.events.emit(INTERFACE_EVENT, c.type === 'ADDED' ? 'added' : 'changed', c.name, toInterfaceEntry(c.snapshot));
    }
  }

  /** The interfaces now: a fresh poll (which also announces what changed since the last one). */
  async function entries() {
    await watcher.poll();
    return watcher.current().map(toInterfaceEntry);
  }

  const query = queryMethod(INTERFACE_EVENT, 'Network interfaces as the kernel has them now: name, type, live state (flags, link state, MTU, MAC, addresses). extra.retrieve_names_only answers [{name}] only.', () => []);
  return {
    services: [{ name: 'interface', type: 'crud', rolePrefix: 'NETWORK_INTERFACE', cliDescription: 'Network interfaces of the host' }],
    methods: [
      {
        ...query,
        result: InterfaceQueryResult,
        handler: async (_ctx: unknown, filters: unknown[], options: QueryOptionsT) => {
          const filter = compileFilters(filters);
          const list = await entries();
          if (options.extra?.retrieve_names_only === true) return applyQuery(list.map((e) => ({ name: e.name })), filter, options);
          return applyQuery(list, filter, options);
        },
      },
      method('interface.get_instance', {
        description: 'One interface by name.',
        args: [arg('id', InterfaceId)],
        result: InterfaceEntry,
        handler: async (_ctx, id) => {
          const found = (await entries()).find((e) => e.id === id);
          if (!found) throw notFound(`Interface ${id} does not exist`);
          return found;
        },
      }),
    ],
    events: [{ name: INTERFACE_EVENT, description: 'Interfaces appearing (added, the entry), changing (changed, the entry) or vanishing (removed, the name as id).', roles: ['NETWORK_INTERFACE_READ'] }],
    async start() {
      await watcher.start();
    },
    async stop() {
      await watcher.stop();
    },
  };
}
