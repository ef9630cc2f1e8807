// One typed Config per daemon start: embedded defaults, overridden by MIDSHIP_* environment
// variables, overridden by command-line flags. Nothing reads process.env elsewhere.
import { resolve, join } from 'node:path';
import type { Writable } from 'node:stream';
import { SCRAM_DEFAULT_ITERATIONS } from './auth/scram.js';
import { ConfigError } from './errors.js';

export interface Limits {
  /** Longest text frame (characters) before login; longer closes with 1007. */
  anonFrameChars: number;
  /** Longest text frame (characters) after login; longer closes with 1009. */
  authFrameChars: number;
  /** Calls in flight per connection (running + queued); beyond gets -32000. */
  maxInFlight: number;
  /** Calls executing at once per connection; the rest wait in order. */
  maxRunning: number;
  /** Deepest JSON nesting accepted; deeper is -32600. */
  maxDepth: number;
  /** Bytes a connection may have unsent (socket buffer plus queued events) before it is closed. */
  sendBufferBytes: number;
  /** Above this many buffered bytes, events are queued and coalesced instead of written. */
  eventHighWaterBytes: number;
  /** Server-side WebSocket ping interval; a peer that misses one interval's pong is dropped. */
  pingIntervalMs: number;
  /** No-auth calls from unauthenticated TCP peers per method and address per minute. */
  anonCallsPerMinute: number;
}

export interface JobsConfig {
  retentionMaxFinished: number;
  retentionMaxAgeMs: number;
  /** How many finished jobs stay in memory for quick access. */
  memoryWindow: number;
  purgeIntervalMs: number;
  /** Lifetime of core.download / core.job_download_logs tokens. */
  downloadTokenTtlMs: number;
  /** WAITING + RUNNING jobs one owner (user, API key's user, unix-socket root) may have at once. */
  maxActivePerOwner: number;
  /** A job log stops growing here: it keeps its head and a rolling tail behind a marker line. */
  logMaxBytes: number;
  /** Most jobs running at once (MIDSHIP_MAX_RUNNING_JOBS); the rest wait. null: no limit. */
  maxRunning: number | null;
  /** Most running jobs of a method (MIDSHIP_MAX_RUNNING_PER_METHOD="cronjob.run=4,pool.scrub=1"). */
  maxRunningPerMethod: Record<string, number>;
}

export interface StorageConfig {
  /** Sync every database write (LevelDB sync): acknowledged writes survive power loss. */
  fsync: boolean;
  /** First wait before reopening a database that failed a write (doubles up to 30 s). */
  retryMs: number;
}

export interface AuthConfig {
  /** Every failed login is answered this long after it arrived, whatever failed. */
  failDelayMs: number;
  /** Failed logins per account and address in a minute before further attempts there are spaced out. */
  failuresBeforeSlowdown: number;
  /** PBKDF2 iterations of new API keys' SCRAM material. */
  scramIterations: number;
  /** Live tokens (auth.generate_token) one user may hold. */
  tokensPerUser: number;
  /** Largest `attrs` of a token, in bytes of JSON. */
  tokenAttrsBytes: number;
}

export const DEFAULT_AUTH: AuthConfig = { failDelayMs: 1000, failuresBeforeSlowdown: 5, scramIterations: SCRAM_DEFAULT_ITERATIONS, tokensPerUser: 100, tokenAttrsBytes: 4096 };

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  socketPath: string;
  logLevel: string;
  limits: Limits;
  jobs: JobsConfig;
  storage: StorageConfig;
  auth: AuthConfig;
  /** Path of a file exporting `modules`, the method modules midshipd loads instead of its built-in list (main.ts). */
  modulesPath: string | null;
  /** Validate every result against its schema (on in tests; costs time in production). */
  validateResults: boolean;
  adminPassword: string | null;
  /**
   * OS users that cron jobs made by users below FULL_ADMIN may run as (never uid 0); any other
   * run-as user takes a full admin. Empty by default: only full admins make cron jobs.
   */
  cronRunAsUsers: string[];
  /** Where logs go; default stderr. Tests pass a stream to read them. */
  logDestination: Writable | null;
  /**
   * Browser origins (besides the daemon's own) whose pages may open a WebSocket here, e.g.
   * `https://nas.example.com`. Clients that send no Origin (midclt, scripts) are not affected.
   */
  allowedOrigins: string[];
  /** A TrueNAS web UI build (a directory holding index.html) to serve at /webui/; null: none. */
  webuiDir: string | null;
  /** Fleet mode (docs/fleet.md): null unless a fleet URL is set. */
  fleet: FleetConfig | null;
  /** disk.query lists bound loop devices too, so pools can be built on them (labs, tests). */
  disksIncludeLoop: boolean;
  /**
   * GET /metrics from addresses other than loopback and the unix socket, with an API key
   * (Authorization: Bearer <key>) of a user holding READONLY_ADMIN, METRICS_READ or FULL_ADMIN.
   */
  metricsRemote: boolean;
}

/**
 * The fleet options as given. Only their form is checked here; the fleet module checks the host
 * id, reads the files and the role names at start, and names the flag in every error.
 */
export interface FleetConfig {
  /** NATS server URL(s): --fleet-url, comma-separated for a cluster. */
  urls: string[];
  /** --fleet-host-id; null: the machine's hostname. */
  hostId: string | null;
  /** --fleet-creds: this host's NATS credentials (nkey seed or .creds, mode 0600); null: none. */
  credsPath: string | null;
  /** --fleet-trust: the public keys of the signers whose calls this host runs. */
  trustPath: string | null;
  /** MIDSHIP_FLEET_MAX_ROLES: the most any fleet call may do here; null: the default. */
  maxRoles: string[] | null;
  /** MIDSHIP_FLEET_HEARTBEAT_MS: presence interval; null: the default (10 s). */
  heartbeatMs: number | null;
}

export const DEFAULT_LIMITS: Limits = {
  anonFrameChars: 8192,
  authFrameChars: 65536,
  maxInFlight: 20,
  maxRunning: 10,
  maxDepth: 64,
  sendBufferBytes: 8 * 1024 * 1024,
  eventHighWaterBytes: 256 * 1024,
  pingIntervalMs: 30_000,
  anonCallsPerMinute: 20,
};

export const DEFAULT_JOBS: JobsConfig = {
  retentionMaxFinished: 100_000,
  retentionMaxAgeMs: 30 * 24 * 3600 * 1000,
  memoryWindow: 1000,
  purgeIntervalMs: 60_000,
  downloadTokenTtlMs: 300_000,
  maxActivePerOwner: 200,
  logMaxBytes: 64 * 1024 * 1024,
  maxRunning: null,
  maxRunningPerMethod: {},
};

export const DEFAULT_STORAGE: StorageConfig = { fsync: true, retryMs: 1000 };

export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const dataDir = resolve(overrides.dataDir ?? './data');
  return {
    host: '127.0.0.1',
    port: 6000,
    logLevel: 'info',
    modulesPath: null,
    validateResults: false,
    adminPassword: null,
    cronRunAsUsers: [],
    logDestination: null,
    allowedOrigins: [],
    webuiDir: null,
    fleet: null,
    disksIncludeLoop: false,
    metricsRemote: false,
    ...overrides,
    dataDir,
    socketPath: resolve(overrides.socketPath ?? join(dataDir, 'middlewared.sock')),
    limits: { ...DEFAULT_LIMITS, ...overrides.limits },
    jobs: { ...DEFAULT_JOBS, ...overrides.jobs },
    storage: { ...DEFAULT_STORAGE, ...overrides.storage },
    auth: { ...DEFAULT_AUTH, ...overrides.auth },
  };
}


const FLAGS: Record<string, keyof Config> = {
  '--host': 'host',
  '--port': 'port',
  '--data-dir': 'dataDir',
  '--socket': 'socketPath',
  '--log-level': 'logLevel',
  '--cron-users': 'cronRunAsUsers',
  '--allowed-origins': 'allowedOrigins',
  '--webui-dir': 'webuiDir',
};

const ENV: Record<string, keyof Config> = {
  MIDSHIP_HOST: 'host',
  MIDSHIP_PORT: 'port',
  MIDSHIP_DATA_DIR: 'dataDir',
  MIDSHIP_SOCKET: 'socketPath',
  MIDSHIP_LOG_LEVEL: 'logLevel',
  MIDSHIP_ADMIN_PASSWORD: 'adminPassword',
  MIDSHIP_CRON_USERS: 'cronRunAsUsers',
  MIDSHIP_ALLOWED_ORIGINS: 'allowedOrigins',
  MIDSHIP_WEBUI_DIR: 'webuiDir',
};

const FLEET_FLAGS: Record<string, keyof FleetConfig> = {
  '--fleet-url': 'urls',
  '--fleet-host-id': 'hostId',
  '--fleet-creds': 'credsPath',
  '--fleet-trust': 'trustPath',
};
const FLEET_ENV: Record<string, keyof FleetConfig> = {
  MIDSHIP_FLEET_URL: 'urls',
  MIDSHIP_FLEET_HOST_ID: 'hostId',
  MIDSHIP_FLEET_CREDS: 'credsPath',
  MIDSHIP_FLEET_TRUST: 'trustPath',
  MIDSHIP_FLEET_MAX_ROLES: 'maxRoles',
  MIDSHIP_FLEET_HEARTBEAT_MS: 'heartbeatMs',
};

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function parsePort(v: string, from: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new ConfigError(`${from}: port must be an integer 0-65535, got '${v}'`);
  return n;
}

/** A comma-separated list of origins (`scheme://host[:port]`), normalised. */
function parseOrigins(v: string): string[] {
  return v.split(',').map((o) => o.trim()).filter(Boolean).map((o) => {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError(`allowed origins: '${o}' is not an origin such as https://nas.example.com`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== o.replace(/\/$/, '')) {
      throw new ConfigError(`allowed origins: '${o}' is not an origin such as https://nas.example.com (scheme, host and port only)`);
    }
    return url.origin;
  });
}

function numberEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name}: expected a non-negative number, got '${v}'`);
  return n;
}

/** Config from argv (without node and script) and the environment. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const raw: Record<string, string> = {};
  /** Fleet option -> [value, where it came from] (errors name the flag or variable). */
  const fleetRaw = new Map<keyof FleetConfig, [string, string]>();
  let fsync = fsyncEnv(env);
  let disksIncludeLoop = env.MIDSHIP_DISKS_INCLUDE_LOOP === '1';
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  for (const [name, key] of Object.entries(FLEET_ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') fleetRaw.set(key, [v, name]);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') throw new ConfigError(usage());
    if (a === '--fsync' || a === '--no-fsync') {
      fsync = a === '--fsync';
      continue;
    }
    if (a === '--disks-include-loop') {
      disksIncludeLoop = true;
      continue;
    }
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const key = FLAGS[flag];
    const fleetKey = FLEET_FLAGS[flag];
    if (!key && !fleetKey) throw new ConfigError(`unknown option '${a}'\n${usage()}`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`option '${flag}' needs a value`);
    if (fleetKey) fleetRaw.set(fleetKey, [value, flag]);
    else raw[key!] = value;
  }
  const logLevel = raw.logLevel ?? 'info';
  if (!LEVELS.has(logLevel)) throw new ConfigError(`log level must be one of ${[...LEVELS].join(', ')}, got '${logLevel}'`);
  const limits: Partial<Limits> = {};
  const sendBuffer = numberEnv(env, 'MIDSHIP_SEND_BUFFER_BYTES');
  if (sendBuffer !== undefined) limits.sendBufferBytes = sendBuffer;
  const maxInFlight = numberEnv(env, 'MIDSHIP_MAX_IN_FLIGHT');
  if (maxInFlight !== undefined) limits.maxInFlight = maxInFlight;
  const pingInterval = numberEnv(env, 'MIDSHIP_PING_INTERVAL_MS');
  if (pingInterval !== undefined) limits.pingIntervalMs = pingInterval;
  const jobs: Partial<JobsConfig> = {};
  const keep = numberEnv(env, 'MIDSHIP_JOBS_KEEP');
  if (keep !== undefined) jobs.retentionMaxFinished = keep;
  const keepDays = numberEnv(env, 'MIDSHIP_JOBS_KEEP_DAYS');
  if (keepDays !== undefined) jobs.retentionMaxAgeMs = keepDays * 24 * 3600 * 1000;
  const maxActive = numberEnv(env, 'MIDSHIP_JOBS_MAX_ACTIVE');
  if (maxActive !== undefined) jobs.maxActivePerOwner = maxActive;
  const logMax = numberEnv(env, 'MIDSHIP_JOB_LOG_MAX_BYTES');
  if (logMax !== undefined) jobs.logMaxBytes = logMax;
  const maxRunning = capEnv('MIDSHIP_MAX_RUNNING_JOBS', env.MIDSHIP_MAX_RUNNING_JOBS);
  if (maxRunning !== undefined) jobs.maxRunning = maxRunning;
  if (env.MIDSHIP_MAX_RUNNING_PER_METHOD) jobs.maxRunningPerMethod = parseMethodCaps(env.MIDSHIP_MAX_RUNNING_PER_METHOD);
  const overrides: Partial<Config> = {
    logLevel,
    limits: { ...DEFAULT_LIMITS, ...limits },
    jobs: { ...DEFAULT_JOBS, ...jobs },
    storage: { ...DEFAULT_STORAGE, ...(fsync === undefined ? {} : { fsync }) },
    disksIncludeLoop,
  };
  if (raw.host !== undefined) overrides.host = raw.host;
  if (raw.port !== undefined) overrides.port = parsePort(raw.port, raw.port === env.MIDSHIP_PORT ? 'MIDSHIP_PORT' : '--port');
  if (raw.dataDir !== undefined) overrides.dataDir = raw.dataDir;
  if (raw.socketPath !== undefined) overrides.socketPath = raw.socketPath;
  if (raw.adminPassword !== undefined) overrides.adminPassword = raw.adminPassword;
  if (raw.cronRunAsUsers !== undefined) overrides.cronRunAsUsers = parseCronUsers(raw.cronRunAsUsers);
  if (raw.allowedOrigins !== undefined) overrides.allowedOrigins = parseOrigins(raw.allowedOrigins);
  if (raw.webuiDir !== undefined) overrides.webuiDir = resolve(raw.webuiDir);
  if (env.MIDSHIP_VALIDATE_RESULTS === '1') overrides.validateResults = true;
  if (env.MIDSHIP_METRICS_REMOTE !== undefined && env.MIDSHIP_METRICS_REMOTE !== '') {
    if (env.MIDSHIP_METRICS_REMOTE !== '1' && env.MIDSHIP_METRICS_REMOTE !== '0') throw new ConfigError(`MIDSHIP_METRICS_REMOTE: expected 1 or 0, got '${env.MIDSHIP_METRICS_REMOTE}'`);
    overrides.metricsRemote = env.MIDSHIP_METRICS_REMOTE === '1';
  }
  if (env.MIDSHIP_MODULES) overrides.modulesPath = env.MIDSHIP_MODULES;
  overrides.fleet = parseFleet(fleetRaw);
  return defaultConfig(overrides);
}

/** A cap on running jobs: a whole number from 1 (0 would let nothing run). */
function capEnv(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name}: expected a whole number of jobs from 1, got '${v}'`);
  return n;
}

/** `cronjob.run=4,pool.scrub=1`: method names and their caps. */
function parseMethodCaps(v: string): Record<string, number> {
  const caps: Record<string, number> = {};
  for (const part of v.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const method = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/i.test(method)) throw new ConfigError(`MIDSHIP_MAX_RUNNING_PER_METHOD: '${part}' is not method=count (e.g. cronjob.run=4)`);
    const cap = capEnv(`MIDSHIP_MAX_RUNNING_PER_METHOD (${method})`, part.slice(eq + 1).trim());
    if (cap === undefined) throw new ConfigError(`MIDSHIP_MAX_RUNNING_PER_METHOD: '${part}' has no count`);
    caps[method] = cap;
  }
  return caps;
}

/** Fleet mode is on only with a URL; the other fleet options without one are a mistake worth saying. */
function parseFleet(raw: Map<keyof FleetConfig, [string, string]>): FleetConfig | null {
  const url = raw.get('urls');
  if (url === undefined) {
    const stray = [...raw.values()].map(([, from]) => from);
    if (stray.length > 0) throw new ConfigError(`${stray.join(', ')}: fleet options need --fleet-url (or MIDSHIP_FLEET_URL), which turns fleet mode on`);
    return null;
  }
  const urls = url[0].split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw new ConfigError(`${url[1]}: expected a NATS URL such as nats://127.0.0.1:4222`);
  for (const u of urls) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(u);
    } catch {
      // reported below
    }
    if (parsed === null || !['nats:', 'tls:'].includes(parsed.protocol) || parsed.hostname === '' || parsed.pathname.replace(/^\/$/, '') !== '') {
      throw new ConfigError(`${url[1]}: '${u}' is not a NATS URL such as nats://127.0.0.1:4222 (nats:// or tls://, host and port)`);
    }
  }
  const path = (k: 'credsPath' | 'trustPath'): string | null => {
    const v = raw.get(k);
    return v === undefined ? null : resolve(v[0]);
  };
  const roles = raw.get('maxRoles');
  const beat = raw.get('heartbeatMs');
  let heartbeatMs: number | null = null;
  if (beat !== undefined) {
    heartbeatMs = Number(beat[0]);
    if (!/^\d+$/.test(beat[0]) || heartbeatMs < 50 || heartbeatMs > 3_600_000) throw new ConfigError(`${beat[1]}: expected milliseconds from 50 to 3600000, got '${beat[0]}'`);
  }
  return {
    urls,
    hostId: raw.get('hostId')?.[0] ?? null,
    credsPath: path('credsPath'),
    trustPath: path('trustPath'),
    maxRoles: roles === undefined ? null : roles[0].split(',').map((r) => r.trim()).filter((r) => r !== ''),
    heartbeatMs,
  };
}

/** `--cron-users backup,media`: names as getent takes them; root would make SYSTEM_CRON_WRITE root. */
function parseCronUsers(v: string): string[] {
  const names = v.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) {
    if (!/^[^-:\s][^:\s]*$/.test(n) || /[\u0000-\u001f\u007f]/.test(n)) throw new ConfigError(`--cron-users / MIDSHIP_CRON_USERS: '${n}' is not a user name`);
    if (n === 'root') throw new ConfigError('--cron-users / MIDSHIP_CRON_USERS: root cannot be allowed (cron jobs as root take a full admin)');
  }
  return names;
}

function fsyncEnv(env: NodeJS.ProcessEnv): boolean | undefined {
  const v = env.MIDSHIP_FSYNC;
  if (v === undefined || v === '') return undefined;
  if (v === '1' || v === '0') return v === '1';
  throw new ConfigError(`MIDSHIP_FSYNC: expected 1 or 0, got '${v}'`);
}

export function usage(): string {
  return `usage: midshipd [--host H] [--port P] [--data-dir D] [--socket S] [--log-level L] [--cron-users U,...] [--webui-dir D] [--repair-db]

  --host       TCP address to listen on        (env MIDSHIP_HOST, default 127.0.0.1)
  --port       TCP port (0 picks a free one)   (env MIDSHIP_PORT, default 6000)
  --data-dir   database, job logs, socket      (env MIDSHIP_DATA_DIR, default ./data)
  --socket     unix socket path                (env MIDSHIP_SOCKET, default <data-dir>/middlewared.sock)
  --log-level  fatal|error|warn|info|debug     (env MIDSHIP_LOG_LEVEL, default info)
  --cron-users OS users (comma-separated) that cron jobs of non-full-admins may run as
                                               (env MIDSHIP_CRON_USERS, default none)
  --repair-db  repair the data dir's database (after a refused start), report, and exit
  --allowed-origins  comma-separated browser origins allowed to open WebSockets besides the
               daemon's own (env MIDSHIP_ALLOWED_ORIGINS; clients sending no Origin are not affected)
  --webui-dir  a TrueNAS web UI build to serve at /webui/ (env MIDSHIP_WEBUI_DIR, default none)
  --disks-include-loop  disk.query lists loop devices too, for pools on them (env MIDSHIP_DISKS_INCLUDE_LOOP=1)
  --fsync, --no-fsync  sync every database write, so acknowledged writes survive power loss
               (env MIDSHIP_FSYNC=1|0, default on)
  --fleet-url  NATS server URL(s), comma-separated: join a fleet (env MIDSHIP_FLEET_URL; default off)
  --fleet-host-id  this host's id in the fleet, [A-Za-z0-9_-]{1,64} (env MIDSHIP_FLEET_HOST_ID,
               default the hostname up to its first dot)
  --fleet-creds  this host's NATS credentials, nkey seed or .creds file, mode 0600
               (env MIDSHIP_FLEET_CREDS; default none, for a server without authentication)
  --fleet-trust  the fleet signers' public keys, one ed25519:... per line (env MIDSHIP_FLEET_TRUST)

Other settings (env only): MIDSHIP_ADMIN_PASSWORD, MIDSHIP_JOBS_KEEP, MIDSHIP_JOBS_KEEP_DAYS,
MIDSHIP_JOBS_MAX_ACTIVE (waiting + running jobs per user), MIDSHIP_JOB_LOG_MAX_BYTES,
MIDSHIP_MAX_RUNNING_JOBS (jobs running at once; the rest wait), MIDSHIP_MAX_RUNNING_PER_METHOD
(e.g. cronjob.run=4,pool.scrub=1),
MIDSHIP_SEND_BUFFER_BYTES, MIDSHIP_MAX_IN_FLIGHT, MIDSHIP_PING_INTERVAL_MS,
MIDSHIP_MODULES (path of a module exporting \`modules\`, replacing the built-in list),
MIDSHIP_FLEET_MAX_ROLES (the most a fleet call may do here, default FULL_ADMIN),
MIDSHIP_FLEET_HEARTBEAT_MS (presence interval, default 10000),
MIDSHIP_METRICS_REMOTE=1 (GET /metrics from other addresses than loopback, with an API key).

  midshipd fleet init DIR --hosts h1,h2 [--nats-port P]   a one-machine fleet: nats.conf, keys`;
}
