// A cron job's fields between the wire and the store: defaults on create, merge on update, the
// checks JSON Schema cannot make (cron syntax, zones, users, paths), and the redaction of
// environment values in everything that leaves the daemon.
import { CallError, checkNoControlChars, ERRNO, isFullAdmin, ValidationErrors, type Credentials } from '#midship/module-api';
import { DEFAULTS, DEFAULT_SCHEDULE, ENV_REDACTED, type CronJobCreateT, type CronJobUpdateT } from '../../schemas/cronjob.js';
import { canonicalSchedule, mergeScheduling, normalizeScheduling, validateChains, validateScheduling, type Calendar, type ChainEdges, type ScheduleT, type SchedulingData } from '../scheduling/index.js';
import type { CronData, CronRecord } from './store.js';
import { currentUser, lookupUser, needsFullAdmin, runAsPlan, runAsRefusalText } from './users.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function redactEnvironment(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(env).map((k) => [k, ENV_REDACTED]));
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A schedule object as given, over the defaults (every hour at minute 00). */
function fullSchedule(s: Partial<ScheduleT> | undefined): ScheduleT {
  return { ...DEFAULT_SCHEDULE, ...definedOnly(s ?? {}) };
}

/** Defaults filled in (ajv already did for client calls; this keeps the types honest). */
export function normalizeCreate(d: CronJobCreateT): CronData {
  return {
    enabled: d.enabled ?? DEFAULTS.enabled,
    description: d.description ?? DEFAULTS.description,
    command: d.command,
    user: d.user,
    stdout: d.stdout ?? DEFAULTS.stdout,
    stderr: d.stderr ?? DEFAULTS.stderr,
    schedule: fullSchedule(d.schedule),
    timeout: d.timeout ?? DEFAULTS.timeout,
    retries: d.retries ?? DEFAULTS.retries,
    retry_delay: d.retry_delay ?? DEFAULTS.retry_delay,
    environment: { ...(d.environment ?? {}) },
    working_directory: d.working_directory ?? DEFAULTS.working_directory,
    tags: [...(d.tags ?? DEFAULTS.tags)],
    ...normalizeScheduling(d),
  };
}

/**
 * Update semantics: given fields replace the stored ones; schedule and retry_backoff fields are merged one by one
 * (`schedules` is replaced as a whole); `environment` replaces the whole set, but a value sent
 * back as "******" keeps the stored value of that variable (so a client can send back what it read).
 */
export function applyUpdate(old: CronRecord, d: CronJobUpdateT): CronData {
  const { schedule, environment, ...rest } = d;
  const { id: _id, author: _author, ...base } = old;
  const merged: CronData = {
    ...base,
    ...definedOnly(rest),
    ...mergeScheduling(base, rest),
    schedule: { ...old.schedule, ...definedOnly(schedule ?? {}) },
  };
  if (environment !== undefined) {
    merged.environment = Object.fromEntries(
      Object.entries(environment).map(([k, v]) => [k, v === ENV_REDACTED && Object.hasOwn(old.environment, k) ? old.environment[k]! : v]),
    );
  }
  if (rest.tags) merged.tags = [...rest.tags];
  return merged;
}

/** The scheduling fields a cron job stored before they existed behaves by (as before them). */
const STORED_DEFAULTS: Readonly<SchedulingData> = normalizeScheduling({});
const SCHEDULING_KEYS = Object.keys(STORED_DEFAULTS) as Array<keyof SchedulingData>;

/**
 * A record from the store, whatever version of the module wrote it: missing fields get their
 * defaults. A current record (the common case: thousands load at start) is taken as it is.
 */
export function upgradeRecord(stored: CronRecord): CronRecord {
  const missing = SCHEDULING_KEYS.filter((k) => stored[k] === undefined);
  const partialBackoff = stored.retry_backoff !== undefined && Object.keys(stored.retry_backoff).length < Object.keys(STORED_DEFAULTS.retry_backoff).length;
  if (missing.length === 0 && !partialBackoff) return stored;
  const out = { ...stored } as Record<string, unknown>;
  for (const k of missing) out[k] = structuredClone(STORED_DEFAULTS[k]);
  if (partialBackoff) out.retry_backoff = { ...STORED_DEFAULTS.retry_backoff, ...stored.retry_backoff };
  return out as CronRecord;
}

export interface ValidationContext {
  calendar: Calendar;
  /** The module clock's now: a schedule that never fires again after it is refused. */
  now: number;
  /** Who saves it (null: the daemon). */
  caller: Credentials | null;
  /** The users non-full-admins may pick (see cronjob/users.ts). */
  allowed: readonly string[];
  /** The cron job's id (null on create) and the chains of every cron job, to refuse unknown targets and cycles. */
  self: number | null;
  chains: ReadonlyMap<number, ChainEdges>;
}

/** Checks `d`, reporting under `attr` (cron_job_create...); zones are stored in canonical form. */
export async function validateData(d: CronData, attr: string, v: ValidationContext): Promise<void> {
  const errors = new ValidationErrors();
  validateScheduling(v.calendar, d, attr, errors, v.now);
  validateChains(v.self, d, v.chains, attr, errors);
  if (d.command.includes('\0')) errors.add(`${attr}.command`, 'Command must not contain NUL characters');
  const user = checkNoControlChars(d.user, `${attr}.user`, errors) ? await lookupUser(d.user) : undefined;
  if (user === null) errors.add(`${attr}.user`, 'Specified user does not exist', ERRNO.ENOENT);
  else if (user !== undefined) {
    try {
      runAsPlan(user, currentUser());
      if (!isFullAdmin(v.caller) && needsFullAdmin(user, v.allowed)) errors.add(`${attr}.user`, runAsRefusalText(user, v.allowed), ERRNO.EPERM);
    } catch (err) {
      errors.add(`${attr}.user`, (err as CallError).errmsg, ERRNO.EPERM);
    }
  }
  if (d.working_directory !== null) {
    if (!d.working_directory.startsWith('/')) errors.add(`${attr}.working_directory`, 'Must be an absolute path');
    else checkNoControlChars(d.working_directory, `${attr}.working_directory`, errors);
  }
  for (const [k, val] of Object.entries(d.environment)) {
    if (!ENV_NAME.test(k)) errors.add(`${attr}.environment.${k}`, 'Invalid environment variable name (letters, digits and _, not starting with a digit)');
    else if (val.includes('\0')) errors.add(`${attr}.environment.${k}`, 'Value must not contain NUL characters');
  }
  errors.throwIfAny();
  d.schedule = canonicalSchedule(d.schedule);
  d.schedules = d.schedules.map(canonicalSchedule);
}
