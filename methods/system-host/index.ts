// system.* that describe the host and the daemon's life (MODULES.md §1): system.info,
// system.version / version_short, system.state / ready (BOOTING until every module started,
// SHUTTING_DOWN from the first moment of a stop), system.boot_id, system.host_id, the
// system.ready event, and system.debug (debug.ts). The rest of the namespace (system.general,
// system.advanced, system.reboot, system.product_type) is another module's.
import { randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem, uptime } from 'node:os';
import { CallError, ERRNO, method, Type, type App, type ModuleDef } from '#midship/module-api';
import { readSystemFacts } from '../host/system-facts.js';
import { timedeltaText } from '../host/timedelta.js';
import { BootId, HostId, SystemInfo, SystemState, VersionString, type SystemInfoT, type SystemStateT } from '../../schemas/system.js';
import { writeDebugBundle } from './debug.js';
import { readSoftwareVersion } from './version.js';

const HOST_ID_SEED = 'host_id_seed';

export async function systemHostModule(app: App): Promise<ModuleDef> {
  const version = await readSoftwareVersion();
  const db = app.sublevel<string>('system');
  let state: SystemStateT = 'BOOTING';
  // For hosts with neither /etc/hostid nor /etc/machine-id: made once, kept in the database.
  let hostIdSeed: string | null = null;

  /** The timezone configured through system.general when that module is loaded, else the host's. */
  async function configuredTimezone(): Promise<string | null> {
    if (!app.registry.get('system.general.config')) return null;
    const general = (await app.call('system.general.config', []).catch(() => null)) as { timezone?: unknown } | null;
    return typeof general?.timezone === 'string' && general.timezone !== '' ? general.timezone : null;
  }

  async function info(): Promise<SystemInfoT> {
    const [f, timezone] = await Promise.all([readSystemFacts('/', { fallbackHostId: hostIdSeed }), configuredTimezone()]);
    // Every field TrueNAS types as present gets Node's view of the host when procfs cannot answer.
    const cores = f.cores ?? Math.max(1, cpus().length);
    const up = f.uptime_seconds ?? uptime();
    return {
      version: version.version,
      buildtime: { $date: version.buildtime },
      hostname: f.hostname,
      physmem: f.physmem ?? totalmem(),
      model: f.model ?? cpus()[0]?.model ?? 'unknown',
      cores,
      physical_cores: f.physical_cores ?? cores,
      loadavg: f.loadavg ?? loadavg(),
      uptime: f.uptime ?? timedeltaText(up),
      uptime_seconds: up,
      system_serial: f.system_serial,
      system_product: f.system_product,
      system_product_version: f.system_product_version,
      license: null,
      boottime: { $date: f.boottime ?? Math.round(f.datetime - up * 1000) },
      datetime: { $date: f.datetime },
      timezone: timezone ?? f.timezone,
      system_manufacturer: f.system_manufacturer,
      ecc_memory: f.ecc_memory,
    };
  }

  return {
    services: [{ name: 'system', type: 'service', cliDescription: 'The host and the daemon: facts, version, state, debug bundle' }],
    methods: [
      method('system.info', {
        description: 'Facts about the host and the software: version, hostname, memory, CPU model and counts, load, uptime, boot time, clock, timezone, DMI identity.',
        args: [],
        result: SystemInfo,
        roles: ['READONLY_ADMIN'],
        handler: () => info(),
      }),
      method('system.version', {
        description: 'The full software version, "Midship-<version>".',
        args: [],
        result: VersionString,
        authOnly: true,
        handler: () => version.fullname,
      }),
      method('system.version_short', {
        description: 'The software version, e.g. "0.1.0".',
        args: [],
        result: VersionString,
        authOnly: true,
        handler: () => version.version,
      }),
      method('system.state', {
        description: 'BOOTING until every module has started, then READY; SHUTTING_DOWN once a stop began.',
        args: [],
        result: SystemState,
        roles: ['SYSTEM_GENERAL_READ'],
        handler: () => state,
      }),
      method('system.ready', {
        description: 'Whether the daemon finished starting (system.state is not BOOTING).',
        args: [],
        result: Type.Boolean(),
        roles: ['SYSTEM_GENERAL_READ'],
        handler: () => state !== 'BOOTING',
      }),
      method('system.boot_id', {
        description: 'An identifier new on every start of the daemon (dashboards use it to drop cached pages).',
        args: [],
        result: BootId,
        noAuth: true,
        handler: () => app.bootId,
      }),
      method('system.host_id', {
        description: 'A permanent identifier of the machine: sha256 hex of /etc/hostid (else of /etc/machine-id, else of an id kept in the database).',
        args: [],
        result: HostId,
        roles: ['READONLY_ADMIN'],
        handler: async () => {
          const f = await readSystemFacts('/', { fallbackHostId: hostIdSeed });
          if (f.host_id === null) throw new CallError('The host has no identifier', ERRNO.ENOENT);
          return f.host_id;
        },
      }),
      method('system.debug', {
        description: 'A gzip tarball for support: version, configuration and system facts, the tail of the log, recent jobs and the logs of failed ones, pools, methods and events; secrets left out. Start it through core.download.',
        args: [],
        result: Type.Null(),
        roles: ['READONLY_ADMIN'],
        job: { lock: 'system.debug', lockQueueSize: 0, downloadable: true, abortable: true },
        handler: async (_ctx, job) => {
          if (job.output === null) throw new CallError('system.debug writes a download: start it through core.download', ERRNO.EINVAL);
          await writeDebugBundle(app, job, { version, info });
          return null;
        },
      }),
    ],
    events: [
      { name: 'system.ready', description: 'Sent once, when the daemon has started every module and listens.', roles: ['SYSTEM_GENERAL_READ'] },
    ],
    async start() {
      hostIdSeed = (await db.get(HOST_ID_SEED)) ?? null;
      if (hostIdSeed === null) {
        hostIdSeed = randomUUID();
        await db.put(HOST_ID_SEED, hostIdSeed);
      }
    },
    ready() {
      if (state !== 'BOOTING') return;
      state = 'READY';
      app.events.emit('system.ready', 'added', undefined);
    },
    stopping() {
      state = 'SHUTTING_DOWN';
    },
  };
}
