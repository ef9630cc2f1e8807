// Fleet mode (docs/fleet.md): on only when --fleet-url / MIDSHIP_FLEET_URL is set; otherwise this
// module registers nothing and the daemon is exactly what it is without it. In fleet mode the
// host links to NATS in the background (start-up and local calls never wait for it; the link
// reconnects forever), answers signed calls through its own dispatcher (calls.ts), keeps its
// presence key fresh, and publishes every job as it is added and as it ends through an outbox
// written in the same batch as the job (app.jobs.addToJobBatch), backfilled after reconnects.
// methods/fleet/ is the NATS side and knows nothing of the daemon; this folder joins the two.
import { readFileSync } from 'node:fs';
import {
  checkKnownRoles, method, toJsonRpcError, ValidationErrors, type App, type ModuleDef,
} from '#midship/module-api';
import { HostLink } from '../fleet/index.js';
import { FleetStatus } from '../../schemas/fleet.js';
import { fleetDispatcher } from './calls.js';
import { fleetJobOf } from './history.js';
import { fleetOptions, FleetOptionError } from './options.js';

const STATES = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'] as const;
/** Counting through the job store's counters needs a time bound; this one holds every job. */
const EVER = ['time_started.$date', '>=', '1970-01-01T00:00:00Z'];

/** Midship's version for the presence table (dist/methods/fleet-host/ -> the project root). */
function midshipVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function fleetModule(app: App): Promise<ModuleDef> {
  if (app.config.fleet === null) return { services: [], methods: [] };
  const o = await fleetOptions(app.config.fleet);
  const log = app.log.child({ fleet: o.host });
  const link = await HostLink.create({
    servers: o.servers,
    host: o.host,
    credentials: o.credentials,
    trusted: o.trusted,
    version: midshipVersion(),
    heartbeatMs: o.heartbeatMs,
    outboxDb: app.sublevel('fleet_outbox'),
    // The job store says when its batches are written (below): cheaper than watching every write.
    watchWrites: false,
    dispatch: fleetDispatcher(app, () => o.maxRoles),
    toError: toJsonRpcError,
    jobCounts: async () => {
      const counts: Record<string, number> = {};
      for (const s of STATES) counts[s] = (await app.call('core.get_jobs', [[['state', '=', s], EVER], { count: true }])) as number;
      return counts;
    },
    onError: (err) => log.warn({ err: err.message }, 'fleet link'),
    onRefused: (err, subject) => log.warn({ audit: true, cred: 'FLEET', conn: 'fleet', subject, refused: err.reason, reason: err.message, ok: false }, 'fleet call refused'),
  });
  // Registered now, before the daemon loads its job history: the jobs found interrupted there
  // are ended in batches that carry their history entries too.
  app.jobs.addToJobBatch((job) => {
    try {
      const op = link.outboxOp(fleetJobOf(job, app.registry));
      return op === null ? [] : [op];
    } catch (err) {
      log.error({ err, job: job.id }, 'fleet: job not recorded for the fleet history');
      return [];
    }
  }, () => link.written());

  return {
    services: [{ name: 'fleet', type: 'service', rolePrefix: 'FLEET', cliDescription: 'This host in its fleet (fleet mode)' }],
    methods: [
      method('fleet.status', {
        description: 'This host in its fleet: its id, whether it is connected to NATS, and its history outbox.',
        args: [],
        result: FleetStatus,
        // Full admins only: the store's instance id is what keeps another (compromised) host from
        // publishing this host's message ids first and so having its real history dropped.
        roles: [],
        handler: () => {
          const s = link.status();
          return {
            host: o.host, servers: o.servers, connected: s.connected, instance: link.instance, heartbeats: s.heartbeats,
            rpc_in_flight: s.rpcInFlight, max_roles: [...o.maxRoles], outbox: s.outbox,
          };
        },
      }),
    ],
    start() {
      const errors = new ValidationErrors();
      checkKnownRoles(o.maxRoles, app.registry.declaredRoles, 'fleet_max_roles', errors);
      if (errors.errors.length > 0) throw new FleetOptionError('MIDSHIP_FLEET_MAX_ROLES', errors.errors.map(([, m]) => m).join('; '));
      link.start();
      log.info({ servers: o.servers, instance: link.instance, maxRoles: o.maxRoles }, 'fleet: joining (in the background)');
    },
    async stop() {
      await link.stop();
    },
  };
}
