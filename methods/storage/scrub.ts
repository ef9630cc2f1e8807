// Scrubs (MODULES.md 5.5): pool.scrub.scrub, a job that starts a scrub and follows it to its end
// with progress from `zpool status` (abort stops the scrub); pool.scrub.run, which starts one
// only when the last is older than the threshold (not a job, as in TrueNAS); pool.scrub, the
// id-based wrapper; the pool.scan event; and scheduled scrub tasks (pool.scrub.query / create /
// update / delete) that the scheduler runs as pool.scrub.scrub jobs when they are due.
import { arg, CallError, ERRNO, JobAborted, method, notFound, Type, ValidationErrors, type JobHandle } from '#midship/module-api';
import { PoolScrubCreate, PoolScrubEntry, PoolScrubUpdate, ScrubAction, type PoolScrubEntryT } from '../../schemas/pool_scrub.js';
import { SCRUB_SCHEDULE_DEFAULTS, type StoredScheduleT } from '../../schemas/task_schedule.js';
import { ZfsCommandError } from '../zfs/errors.js';
import type { PoolRecord, StorageContext } from './context.js';
import { zfsCall } from './errors.js';
import type { Part } from './part.js';
import { emitPoolChanged } from './pools.js';
import { asyncQueryMethod, getInstanceMethod } from './query.js';
import { RecordTable } from './records.js';
import { SCAN_EVENT, ScanWatcher } from './scan-watch.js';
import { fullSchedule, TaskScheduler, validateTaskSchedule } from './task-scheduler.js';

type Action = 'START' | 'STOP' | 'PAUSE';
type ScrubTask = Omit<PoolScrubEntryT, 'pool_name'>;

const DAY_MS = 86_400_000;
const TASK_EVENT = 'pool.scrub.query';
const q = (s: string) => `'${s}'`;

function managed(ctx: StorageContext, name: string): PoolRecord {
  const r = ctx.poolByName(name);
  if (r === undefined) throw new CallError(`${q(name)} not found`, ERRNO.ENOENT);
  return r;
}

/**
 * Whether a scrub of `name` is due: the last finished scrub ended before the threshold, or,
 * with none on record, the pool history shows no create, import or scrub within it (TrueNAS's
 * validate_pool). Throws when the pool cannot be scrubbed now.
 */
async function due(ctx: StorageContext, name: string, thresholdDays: number): Promise<boolean> {
  const z = ctx.zfs;
  const [status] = await zfsCall(() => z.pools.status(name, { guids: false }));
  if (status === undefined) throw new CallError(`${q(name)} not found`, ERRNO.ENOENT);
  if (status.state !== 'ONLINE' && status.state !== 'DEGRADED') throw new CallError(`${q(name)}: pool is ${status.state}`, ERRNO.EIO);
  const scan = status.scan;
  if (scan?.state === 'SCANNING') return false;
  const cutoff = ctx.clock.now() - (thresholdDays - 1) * DAY_MS;
  if (scan?.function === 'SCRUB' && scan.state === 'FINISHED' && scan.endTime !== null) return scan.endTime < cutoff;
  const history = (await zfsCall(() => z.commands.zpool(['history', name]))).stdout.split('\n');
  for (const line of history) {
    const m = /^(\d{4})-(\d{2})-(\d{2})\.(\d{2}):(\d{2}):(\d{2}) (zpool (?:create|import|scrub))/.exec(line);
    if (m && Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) >= cutoff) return false;
  }
  return true;
}

export function scrubPart(ctx: StorageContext): Part {
  const watcher = new ScanWatcher(ctx, (pool) => void emitPoolChanged(ctx, pool));
  const tasks = new RecordTable<ScrubTask>(ctx.app.sublevel('pool_scrub'));
  const scheduler = new TaskScheduler(ctx.calendar, ctx.clock, (id) => void runTask(id), (err, id) => ctx.log.error({ err, task: id }, 'scheduling a scrub failed'));

  const entry = (t: ScrubTask): PoolScrubEntryT => ({ ...t, pool_name: ctx.pools.get(t.pool)?.name ?? '' });

  /**
   * Starts a scrub; resolves with the start command, which may run as long as the scrub itself
   * (zfs-fuse's does), so callers follow the scan while it runs instead of waiting for it.
   */
  async function start(name: string): Promise<{ command: Promise<void> }> {
    const [status] = await zfsCall(() => ctx.zfs.pools.status(name, { guids: false }));
    if (status?.scan?.state === 'SCANNING') {
      throw new CallError(status.scan.function === 'RESILVER' ? `${q(name)}: resilver in progress` : `${q(name)}: scrub already in progress`, ERRNO.EBUSY);
    }
    const command = zfsCall(() => ctx.zfs.pools.scrub(name, 'start', { timeoutMs: 0 }));
    command.catch(() => {}); // its failure is reported by whoever follows it
    return { command };
  }

  async function scrub(job: JobHandle, name: string, action: Action): Promise<null> {
    managed(ctx, name);
    const z = ctx.zfs;
    if (action === 'STOP') {
      await zfsCall(() => z.pools.scrub(name, 'stop'));
      return null;
    }
    if (action === 'PAUSE') {
      await zfsCall(() => z.pools.scrub(name, 'pause'));
      return null;
    }
    const { command } = await start(name);
    const follow = watcher.follow(name, (scan) => {
      if (scan?.state === 'SCANNING' && scan.percentage !== null) job.setProgress(scan.percentage, 'Scrub in progress');
    }, command);
    const onAbort = () => void z.pools.scrub(name, 'stop').catch((e: unknown) => {
      // Finished in the meantime: nothing to stop.
      if (!(e instanceof ZfsCommandError && e.errno === 'ENOENT')) ctx.log.warn({ err: e, pool: name }, 'stopping an aborted scrub failed');
    });
    job.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const last = await follow.ended;
      if (job.signal.aborted) throw new JobAborted();
      // A start that failed (not one a stop cut short: then the scan reads CANCELED) fails the job.
      if (last === null || last.state !== 'CANCELED') await command;
      if (last?.state === 'FINISHED') job.setProgress(100, 'Scrub finished');
      else if (last?.paused) job.setProgress(100, 'Scrub paused');
      return null;
    } finally {
      job.signal.removeEventListener('abort', onAbort);
      follow.unfollow();
    }
  }

  /** pool.scrub.run: starts a scrub when one is due; silently does nothing otherwise (TrueNAS). */
  async function runIfDue(name: string, threshold: number): Promise<boolean> {
    managed(ctx, name);
    if (!(await due(ctx, name, threshold))) return false;
    const { command } = await start(name);
    command.catch((e: unknown) => ctx.log.warn({ err: e, pool: name }, 'pool.scrub.run: the scrub did not start'));
    watcher.follow(name, undefined, command);
    return true;
  }

  /** A scheduled task's run: a pool.scrub.scrub job, when the scrub is due. */
  async function runTask(id: number): Promise<void> {
    const t = tasks.get(id);
    const pool = t === undefined ? undefined : ctx.pools.get(t.pool);
    if (t === undefined || pool === undefined || !t.enabled) return;
    try {
      if (!(await due(ctx, pool.name, t.threshold))) {
        ctx.log.info({ task: id, pool: pool.name }, 'scheduled scrub skipped: not due yet');
        return;
      }
      await ctx.app.call('pool.scrub.scrub', [pool.name, 'START']);
    } catch (e) {
      ctx.log.warn({ err: e, task: id, pool: pool.name }, 'scheduled scrub failed');
    }
  }

  function check(t: ScrubTask, attr: string, id: number | null): void {
    const v = new ValidationErrors();
    if (ctx.pools.get(t.pool) === undefined) v.add(`${attr}.pool`, 'The specified volume does not exist');
    else if (tasks.find((x) => x.pool === t.pool && x.id !== id) !== undefined) v.add(`${attr}.pool`, 'A scrub with this pool already exists');
    validateTaskSchedule(ctx.calendar, t.schedule, `${attr}.schedule`, v, ctx.clock.now());
    v.throwIfAny();
  }

  ctx.hooks.poolAdded.push(async (pool) => {
    if (tasks.find((t) => t.pool === pool.id) !== undefined) return;
    const t = await tasks.insert({ pool: pool.id, threshold: 35, description: '', schedule: fullSchedule(SCRUB_SCHEDULE_DEFAULTS, {}, false), enabled: true });
    scheduler.set(t.id, t.schedule, t.enabled);
  });
  // The task goes with the pool's record (TrueNAS: a foreign key with ON DELETE CASCADE).
  ctx.hooks.poolRemoving.push(async (pool) => {
    for (const t of tasks.all().filter((x) => x.pool === pool.id)) {
      scheduler.remove(t.id);
      await tasks.delete(t.id);
    }
  });

  const read = async () => tasks.all().map(entry);
  const Name = Type.String({ minLength: 1 });
  return {
    services: [{ name: 'pool.scrub', type: 'crud', rolePrefix: 'POOL_SCRUB' }],
    methods: [
      asyncQueryMethod('pool.scrub.query', 'Scheduled scrub tasks.', read),
      getInstanceMethod('pool.scrub.get_instance', 'One scheduled scrub task.', Type.Integer(), PoolScrubEntry, read),
      method('pool.scrub.create', {
        description: 'Schedule scrubs of a pool (one task per pool).',
        args: [arg('data', PoolScrubCreate)],
        result: PoolScrubEntry,
        handler: async (_c, data) => {
          const t: Omit<ScrubTask, 'id'> = {
            pool: data.pool, threshold: data.threshold ?? 35, description: data.description ?? '',
            schedule: fullSchedule(SCRUB_SCHEDULE_DEFAULTS, data.schedule as Partial<StoredScheduleT> | undefined, false), enabled: data.enabled ?? true,
          };
          check({ ...t, id: 0 }, 'pool_scrub_create', null);
          const saved = await tasks.insert(t);
          scheduler.set(saved.id, saved.schedule, saved.enabled);
          ctx.app.events.emit(TASK_EVENT, 'added', saved.id, entry(saved));
          return entry(saved);
        },
      }),
      method('pool.scrub.update', {
        description: 'Change a scheduled scrub task; schedule fields are merged.',
        args: [arg('id', Type.Integer()), arg('data', PoolScrubUpdate)],
        result: PoolScrubEntry,
        handler: async (_c, id, data) => {
          const old = tasks.get(id);
          if (old === undefined) throw notFound(`Scrub task ${id} does not exist`);
          const { schedule, ...rest } = data;
          const t: ScrubTask = { ...old, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)), schedule: fullSchedule(old.schedule, schedule as Partial<StoredScheduleT> | undefined, false) };
          check(t, 'pool_scrub_update', id);
          await tasks.put(t);
          scheduler.set(t.id, t.schedule, t.enabled);
          ctx.app.events.emit(TASK_EVENT, 'changed', id, entry(t));
          return entry(t);
        },
      }),
      method('pool.scrub.delete', {
        description: 'Delete a scheduled scrub task.',
        args: [arg('id', Type.Integer())],
        result: Type.Literal(true),
        handler: async (_c, id) => {
          if (!(await tasks.delete(id))) throw notFound(`Scrub task ${id} does not exist`);
          scheduler.remove(id);
          ctx.app.events.emit(TASK_EVENT, 'removed', id);
          return true as const;
        },
      }),
      method('pool.scrub.scrub', {
        description: 'START a scrub and follow it to its end (progress from zpool status; abort stops it), or STOP / PAUSE one.',
        args: [arg('name', Name), arg('action', ScrubAction, { default: 'START' })],
        result: Type.Null(),
        roles: ['POOL_WRITE'],
        job: {
          abortable: true,
          lock: ([name, action]) => `${name}-${action ?? 'START'}`,
          description: ([name, action]) => (action === undefined || action === 'START' ? `Scrub of pool ${q(name)}` : `${action[0]}${action.slice(1).toLowerCase()} scrubbing pool ${q(name)}`),
        },
        handler: (_c, job, name, action) => scrub(job, name, action),
      }),
      method('pool.scrub.run', {
        description: 'Start a scrub of the pool if the last one finished more than threshold days ago; otherwise do nothing.',
        args: [arg('name', Name), arg('threshold', Type.Integer({ minimum: 0 }), { default: 35 })],
        result: Type.Null(),
        roles: ['POOL_WRITE'],
        handler: async (_c, name, threshold) => {
          await runIfDue(name, threshold);
          return null;
        },
      }),
      method('pool.scrub', {
        description: 'Start, stop or pause a scrub of pool `id` (wraps pool.scrub.scrub).',
        args: [arg('id', Type.Integer()), arg('action', ScrubAction)],
        result: Type.Null(),
        roles: ['POOL_WRITE'],
        job: { transient: true, abortable: true },
        handler: async (_c, job, id, action) => {
          const r = ctx.pools.get(id);
          if (r === undefined) throw notFound(`Pool ${id} does not exist`);
          return scrub(job, r.name, action);
        },
      }),
    ],
    events: [{ name: TASK_EVENT, description: 'Scrub tasks added, changed and removed (the whole entry).', roles: ['POOL_SCRUB_READ'] }, { name: SCAN_EVENT, description: `Progress of a scrub or resilver, every ${ctx.scanIntervalMs / 1000} s while it runs and once when it ends: CHANGED without an id, fields {name, scan}.`, roles: ['POOL_SCRUB_READ'] }],
    async start() {
      await tasks.load();
      for (const t of tasks.all()) scheduler.set(t.id, t.schedule, t.enabled);
      scheduler.start();
      // Scans that run now (started before this daemon) are followed too.
      if (!ctx.available) return;
      for (const name of await ctx.importedPools().catch(() => [])) {
        const [s] = await ctx.zfs.pools.status(name, { guids: false }).catch(() => []);
        if (s?.scan?.state === 'SCANNING') watcher.follow(name);
      }
    },
    stop() {
      scheduler.stop();
      watcher.stop();
    },
  };
}
