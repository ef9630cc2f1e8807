// One Daemon per start: its own config, logger, database, registry, event bus, job manager and
// listeners. Nothing is global, so tests run several daemons in one process.
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AlertHub } from './alerts.js';
import { INTERNAL_CREDENTIALS } from './auth/credentials.js';
import { AuthService } from './auth/service.js';
import type { Config } from './config.js';
import { Dispatcher } from './dispatch.js';
import { lockDataDir, prepareDataDir, tightenModes, type DataDirLock } from './datadir.js';
import { checkDatabase, openFailure } from './dbcheck.js';
import { CallError, ERRNO } from './errors.js';
import { EventBus } from './events.js';
import { HttpRouter, sendJson } from './http.js';
import { JobManager } from './jobs/manager.js';
import { Downloads } from './jobs/download.js';
import { JOB_LOGS_PREFIX, jobLogsRoute } from './jobs/log-http.js';
import { createLogger, LogTail, type Logger } from './log.js';
import type { App, InternalCallOptions } from './module-api.js';
import { Observers } from './observers.js';
import { Registry, type ModuleDef, type ModuleFactory } from './registry.js';
import { Transport } from './rpc/transport.js';
import { SchemaCompiler } from './schema.js';
import { GuardedLevel, type Sublevel } from './storage.js';
import { registerUi } from './ui.js';
import { checkWebUiDir, registerWebUi } from './webui.js';
import { API_VERSIONS, Server } from './server.js';

export class Daemon {
  readonly log: Logger;
  readonly registry: Registry;
  readonly events: EventBus;
  readonly jobs: JobManager;
  readonly auth: AuthService;
  readonly downloads: Downloads;
  readonly alerts: AlertHub;
  readonly http = new HttpRouter();
  readonly bootId = randomUUID();
  /** The newest log lines (system.debug's bundle); the log itself goes to stderr or the configured stream. */
  readonly logTail = new LogTail();
  /** Modules watching the engine work (metrics). */
  readonly observers: Observers;
  /** Every write goes through it: one place notices storage faults for every store (storage.ts). */
  readonly db: GuardedLevel;
  private readonly dispatcher: Dispatcher;
  private readonly server: Server;
  private modules: ModuleDef[] = [];
  port = 0;
  private stopping: Promise<void> | null = null;

  private constructor(readonly config: Config, private readonly dataDirLock: DataDirLock) {
    this.log = createLogger(config.logLevel, config.logDestination, this.logTail);
    this.observers = new Observers(this.log);
    const compiler = new SchemaCompiler();
    this.registry = new Registry(compiler, config.validateResults);
    this.events = new EventBus(this.registry, compiler, this.log);
    this.db = new GuardedLevel(join(config.dataDir, 'db'), { fsync: config.storage.fsync, retryMs: config.storage.retryMs, log: this.log });
    this.auth = new AuthService(this.sublevel('users'), this.sublevel('api_keys'), this.sublevel('tokens'), config.auth, this.events, this.log);
    this.jobs = new JobManager(this.db, config.dataDir, config.jobs, this.events, this.log, {
      method: (name) => this.registry.get(name),
      user: (id) => this.auth.users.get(id),
      jobEnded: (method, state, seconds) => this.observers.jobEnded(method, state, seconds),
    });
    this.downloads = new Downloads(this.jobs, config.dataDir, config.jobs.downloadTokenTtlMs);
    this.alerts = new AlertHub(this.log);
    this.dispatcher = new Dispatcher({
      anonCallsPerMinute: config.limits.anonCallsPerMinute, log: this.log, auth: this.auth, jobs: this.jobs,
      callEnded: (method, outcome, seconds) => this.observers.callEnded(method, outcome, seconds),
    });
    const transport = new Transport(config.limits, this.registry, this.dispatcher, this.log);
    this.server = new Server(config, transport, this.events, this.http, {
      initialCredentials: (c) => this.auth.initialCredentials(c),
      connected: (c, remote) => this.auth.connected(c, remote),
      disconnected: (id) => this.auth.disconnected(id),
      observers: this.observers,
    }, this.log);
    this.http.add('GET', '/api/versions', (_req, res) => sendJson(res, 200, API_VERSIONS));
    this.http.add('GET', '/api/boot_id', (_req, res) => sendJson(res, 200, this.bootId));
    // The TrueNAS web UI downloads with POST, as middlewared accepts (the token is in the URL).
    this.http.add('GET', '/_download/', this.downloads.handle);
    this.http.add('POST', '/_download/', this.downloads.handle);
    // A job's log over plain HTTP, followed as Server-Sent Events (jobs/log-http.ts).
    this.http.add('GET', JOB_LOGS_PREFIX, jobLogsRoute({ jobs: this.jobs, auth: this.auth, log: this.log }));
    // The dashboard at /ui/, and / redirecting there.
    registerUi(this.http);
  }

  /**
   * Open the database, register `modules`, listen. The engine knows no module by itself: midshipd
   * (main.ts) hands it methods/index.ts's list, tests hand it theirs.
   */
  static async start(config: Config, modules: readonly ModuleFactory[]): Promise<Daemon> {
    // Before the database object exists (it opens itself on the next tick): nothing in the data
    // dir is touched before the lock is ours (a refused second daemon must leave the first one
    // alone), and nothing is opened that LevelDB would silently shrink.
    await prepareDataDir(config.dataDir);
    const lock = await lockDataDir(config.dataDir);
    try {
      await checkDatabase(config.dataDir);
    } catch (err) {
      await lock.release();
      throw err;
    }
    const d = new Daemon(config, lock);
    try {
      await d.boot(modules);
    } catch (err) {
      await d.stop().catch(() => undefined);
      throw err;
    }
    return d;
  }

  private async boot(factories: readonly ModuleFactory[]): Promise<void> {
    const dataDir = this.config.dataDir;
    try {
      await this.db.open();
    } catch (err) {
      throw openFailure(dataDir, err);
    }
    // A web UI build that is not there stops the start, before anything else is opened for it.
    if (this.config.webuiDir !== null) registerWebUi(this.http, await checkWebUiDir(this.config.webuiDir));
    await this.auth.open(this.config.dataDir, this.config.adminPassword);
    await this.downloads.open();
    const app = this.moduleApp();
    for (const factory of factories) {
      const mod = await factory(app);
      for (const s of mod.services) this.registry.addService(s);
      for (const m of mod.methods) this.registry.addMethod(m);
      for (const e of mod.events ?? []) this.events.register(e);
      this.registry.addRoles(mod.roles ?? []);
      for (const c of mod.alerts?.classes ?? []) this.alerts.addClass(c);
      for (const s of mod.alerts?.sources ?? []) this.alerts.addSource(s);
      this.modules.push(mod);
    }
    // After the factories: a module's addToJobBatch hook (the fleet outbox) must see the jobs
    // found interrupted here, in their own batches. Modules read app.jobs in start().
    await this.jobs.open();
    for (const mod of this.modules) await mod.start?.();
    const tightened = await tightenModes(dataDir);
    if (tightened > 0) this.log.warn({ dataDir, tightened }, 'data dir permissions tightened: files 0600, directories 0700 (other users could read them)');
    const { port, socketPath } = await this.server.listen();
    this.port = port;
    this.log.info({ host: this.config.host, port, socket: socketPath, dataDir: this.config.dataDir, methods: this.registry.methods.size }, 'midshipd listening');
    this.alerts.started();
    for (const mod of this.modules) await mod.ready?.();
  }

  /** What modules are made with (module-api.ts): the services, not the daemon itself. */
  private moduleApp(): App {
    return {
      config: this.config,
      bootId: this.bootId,
      log: this.log,
      registry: this.registry,
      events: this.events,
      jobs: this.jobs,
      auth: this.auth,
      downloads: this.downloads,
      alerts: this.alerts,
      sublevel: (name) => this.sublevel(name),
      call: (name, args, options) => this.call(name, args, options),
      http: {
        add: (method, path, handler) => this.http.add(method, path, handler),
        upgrade: (path, handler) => this.server.addUpgrade(path, handler),
      },
      observe: (observer) => this.observers.add(observer),
      logTail: () => this.logTail.lines(),
    };
  }

  sublevel<V = unknown>(name: string): Sublevel<V> {
    return this.db.sublevel<string, V>(name, { valueEncoding: 'json' }) as unknown as Sublevel<V>;
  }

  async call(name: string, args: unknown[], options: InternalCallOptions = {}): Promise<unknown> {
    const m = this.registry.get(name);
    if (!m) throw new CallError(`Method ${name} does not exist`, ERRNO.ENOMETHOD);
    return this.dispatcher.call(m, args, {
      connection: options.connection ?? null,
      credentials: options.credentials === undefined ? INTERNAL_CREDENTIALS : options.credentials,
      messageId: null,
      legacyJobs: false,
      parentJob: options.parentJob ?? null,
      authorize: options.authorize ?? false,
      onJob: options.onJob,
    });
  }

  /** Close connections (1001), stop modules and jobs, close the database. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const mod of this.modules) {
        try {
          await mod.stopping?.();
        } catch (err) {
          this.log.error({ err }, 'module stopping failed');
        }
      }
      await this.server.close().catch((err: unknown) => this.log.error({ err }, 'closing listeners failed'));
      for (const mod of [...this.modules].reverse()) {
        try {
          await mod.stop?.();
        } catch (err) {
          this.log.error({ err }, 'module stop failed');
        }
      }
      await this.jobs.close();
      await this.downloads.close();
      this.auth.close();
      await this.db.shutdown();
      await this.dataDirLock.release();
      this.log.info('midshipd stopped');
      this.log.flush();
    })();
    return this.stopping;
  }
}
