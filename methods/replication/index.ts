// replication.* (MODULES.md 5.8): tasks with every TrueNAS field, checked as TrueNAS checks
// them; replication.run as a job (logs, abortable) that sends full then incremental streams
// through the daemon; the task's state in replication.query, sent as partial CHANGED events
// ({state}) while it runs, as zettarepl's state changes are; runs on the task's schedule, or
// after its bound periodic snapshot task took its snapshots (auto without a schedule). The
// state survives restarts (FINISHED / ERROR and the last snapshot sent are stored); a run the
// daemon did not live to finish is ERROR "Interrupted".
import { arg, CallError, ERRNO, JobAborted, method, notFound, Type, type CallContext, type JobHandle, type JobRecord } from '#midship/module-api';
import type { PoolSnapshotTaskEntryT } from '../../schemas/pool_snapshottask.js';
import { ReplicationCreate, ReplicationEntry, ReplicationRunOptions, ReplicationUpdate, TRANSPORTS, type ReplicationData, type ReplicationStateT } from '../../schemas/replication.js';
import { TASK_SCHEDULE_DEFAULTS, type StoredScheduleT } from '../../schemas/task_schedule.js';
import type { StorageContext } from '../storage/context.js';
import { datasetItems } from '../storage/datasets.js';
import { wireError } from '../storage/errors.js';
import type { Part } from '../storage/part.js';
import { asyncQueryMethod, getInstanceMethod } from '../storage/query.js';
import { RecordTable } from '../storage/records.js';
import { fullSchedule, scheduleOf, TaskScheduler } from '../storage/task-scheduler.js';
import { ReplicationAborted, ReplicationError, runReplication } from './run.js';
import { transportFor, TransportUnavailable } from './transport.js';
import { validateReplication } from './validate.js';

const EVENT = 'replication.query';
const RUN = 'replication.run';

interface TaskRecord extends ReplicationData {
  id: number;
  /** The last state a run ended with (FINISHED / ERROR) and the last snapshot it sent. */
  state: ReplicationStateT;
  disabled_by_export?: string | null;
}

const within = (name: string, root: string) => name === root || name.startsWith(`${root}/`);

/** Create input with TrueNAS's defaults (ajv filled them for calls; this keeps the type honest). */
function normalize(d: Record<string, unknown>): ReplicationData {
  const schedule = (v: unknown) => (v === null || v === undefined ? null : fullSchedule(TASK_SCHEDULE_DEFAULTS, v as Partial<StoredScheduleT>, true));
  return { ...(d as unknown as ReplicationData), schedule: schedule(d.schedule), restrict_schedule: schedule(d.restrict_schedule) };
}

export function replicationPart(ctx: StorageContext): Part {
  const tasks = new RecordTable<TaskRecord>(ctx.app.sublevel('replication'));
  const running = new Map<number, { jobId: number; state: ReplicationStateT }>();
  const scheduler = new TaskScheduler(ctx.calendar, ctx.clock, (id) => void runScheduled(id), (err, id) => ctx.log.error({ err, task: id }, 'scheduling a replication failed'));

  const now = () => ({ $date: ctx.clock.now() });
  const stateOf = (t: TaskRecord): ReplicationStateT => running.get(t.id)?.state ?? t.state;
  const snapshotTasks = (): PoolSnapshotTaskEntryT[] => ctx.snapshotTaskEntries();

  async function entry(t: TaskRecord): Promise<Record<string, unknown>> {
    const { disabled_by_export: _d, state: _s, ...data } = t;
    const r = running.get(t.id);
    const rec: JobRecord | undefined = r === undefined ? undefined : await ctx.app.jobs.getRecord(r.jobId);
    // The public part of the running job (a record also holds what never leaves the daemon).
    const job = rec === undefined ? null : { id: rec.id, method: rec.method, arguments: rec.arguments, description: rec.description, state: rec.state, progress: rec.progress, abortable: rec.abortable, time_started: { $date: rec.time_started } };
    return {
      ...data,
      ssh_credentials: null,
      periodic_snapshot_tasks: snapshotTasks().filter((s) => t.periodic_snapshot_tasks.includes(s.id)),
      state: stateOf(t),
      job,
      has_encrypted_dataset_keys: false,
    };
  }

  /** Updates the task's state; sends it as a partial CHANGED event; stores ended states. */
  async function setState(id: number, state: ReplicationStateT, store: boolean): Promise<void> {
    const r = running.get(id);
    if (r && !store) r.state = state;
    const t = tasks.get(id);
    if (t === undefined) return;
    if (store) await tasks.put({ ...t, state });
    ctx.app.events.emit(EVENT, 'changed', id, { state });
  }

  function validate(data: ReplicationData, id: number | null, attr: string, c: CallContext | null): void {
    validateReplication(attr, {
      data, id,
      otherNames: tasks.all().filter((t) => t.id !== id).map((t) => t.name),
      snapshotTasks: snapshotTasks(),
      credentials: c?.credentials ?? null,
      dialect: ctx.available ? ctx.zfs.dialect : null,
      calendar: ctx.calendar,
      now: ctx.clock.now(),
    }).throwIfAny();
  }

  function schedule(t: TaskRecord): void {
    scheduler.set(t.id, t.auto ? t.schedule : null, t.enabled);
  }

  /** Naming schemas whose snapshots the task sends. */
  function schemasOf(t: TaskRecord): string[] {
    if (t.direction === 'PULL') return t.naming_schema;
    const bound = snapshotTasks().filter((s) => t.periodic_snapshot_tasks.includes(s.id)).map((s) => s.naming_schema);
    return [...new Set([...bound, ...t.also_include_naming_schema])];
  }

  async function run(job: JobHandle, id: number): Promise<null> {
    const t = tasks.get(id);
    if (t === undefined) throw notFound(`Replication task ${id} does not exist`);
    if (running.has(id)) throw new CallError('Task is already running', ERRNO.EBUSY);
    let transport;
    try {
      transport = transportFor(t, ctx.zfs);
    } catch (e) {
      if (e instanceof TransportUnavailable) throw new CallError(e.message, ERRNO.EOPNOTSUPP);
      throw e;
    }
    const state: ReplicationStateT = { state: 'RUNNING', datetime: now(), ...(t.state.last_snapshot ? { last_snapshot: t.state.last_snapshot } : {}) };
    running.set(id, { jobId: job.id, state });
    await job.setInternal({ replication_task: id });
    await setState(id, state, false);
    let lastSnapshot = t.state.last_snapshot ?? null;
    try {
      const warnings = await runReplication(t, schemasOf(t), transport, {
        signal: job.signal,
        wallNow: () => ctx.wallNow(),
        log: (text) => job.log(text),
        progress: (percent, text, p) => {
          job.setProgress(percent, text);
          void setState(id, { state: 'RUNNING', datetime: now(), ...(lastSnapshot ? { last_snapshot: lastSnapshot } : {}), progress: { ...p, current: p.bytes_sent, total: p.bytes_total } }, false);
        },
        sent: (snapshot) => {
          lastSnapshot = snapshot;
        },
      });
      running.delete(id);
      await setState(id, { state: 'FINISHED', datetime: now(), warnings, ...(lastSnapshot ? { last_snapshot: lastSnapshot } : {}) }, true);
      return null;
    } catch (e) {
      running.delete(id);
      const aborted = e instanceof ReplicationAborted || job.signal.aborted;
      const err = aborted ? null : wireError(e);
      const message = aborted ? 'Replication aborted' : err instanceof CallError ? err.errmsg : (e as Error).message;
      await setState(id, { state: 'ERROR', datetime: now(), error: message, ...(lastSnapshot ? { last_snapshot: lastSnapshot } : {}) }, true);
      if (aborted) throw new JobAborted();
      if (e instanceof ReplicationError) throw new CallError(e.message, ERRNO.EFAULT);
      throw err;
    }
  }

  async function runScheduled(id: number): Promise<void> {
    if (running.has(id)) {
      ctx.log.info({ task: id }, 'scheduled replication skipped: the previous run has not ended');
      return;
    }
    try {
      await ctx.app.call(RUN, [id]);
    } catch (e) {
      ctx.log.warn({ err: e, task: id }, 'scheduled replication failed');
    }
  }

  /** restrict_schedule: a run a snapshot task triggers only counts at the times it names. */
  function allowedNow(t: TaskRecord): boolean {
    if (t.restrict_schedule === null) return true;
    const minute = Math.floor(ctx.clock.now() / 60_000) * 60_000;
    return ctx.calendar.next(ctx.calendar.compile(scheduleOf(t.restrict_schedule)), minute - 1) === minute;
  }

  ctx.replicationsBoundTo = (snapshotTaskId) => tasks.all().filter((t) => t.periodic_snapshot_tasks.includes(snapshotTaskId)).map((t) => ({
    id: t.id, name: t.name, enabled: t.enabled, auto: t.auto, scheduled: t.schedule !== null,
    onlySource: t.direction === 'PUSH' && t.also_include_naming_schema.length === 0 && t.periodic_snapshot_tasks.length === 1,
  }));
  ctx.snapshotTaskRan.push((snapshotTaskId) => {
    for (const t of tasks.all()) {
      if (t.enabled && t.auto && t.schedule === null && t.periodic_snapshot_tasks.includes(snapshotTaskId) && allowedNow(t)) void runScheduled(t.id);
    }
  });
  ctx.taskCounters.replication.push((d) => tasks.all().filter((t) => t.source_datasets.some((s) => s === d || (t.recursive && within(d, s)))).length);
  const onPool = (t: TaskRecord, pool: string) => [...t.source_datasets, t.target_dataset].some((d) => within(d, pool));
  ctx.hooks.poolRemoving.push(async (pool, cascade) => {
    for (const t of tasks.all().filter((x) => onPool(x, pool.name))) {
      scheduler.remove(t.id);
      if (cascade) await tasks.delete(t.id);
      else if (t.enabled) await tasks.put({ ...t, enabled: false, disabled_by_export: pool.name });
    }
  });
  ctx.hooks.poolAdded.push(async (pool) => {
    for (const t of tasks.all().filter((x) => x.disabled_by_export === pool.name)) {
      const back = { ...t, enabled: true, disabled_by_export: null };
      await tasks.put(back);
      schedule(back);
    }
  });

  const read = async () => Promise.all(tasks.all().map(entry));
  return {
    services: [{ name: 'replication', type: 'crud', rolePrefix: 'REPLICATION_TASK' }],
    methods: [
      asyncQueryMethod('replication.query', 'Replication tasks with their state (progress while running).', read),
      getInstanceMethod('replication.get_instance', 'One replication task.', Type.Integer(), ReplicationEntry, read),
      method('replication.create', {
        description: 'Create a replication task (transport LOCAL: pool to pool on this host).',
        args: [arg('replication_create', ReplicationCreate)],
        result: ReplicationEntry,
        handler: async (c, raw) => {
          const data = normalize(raw);
          validate(data, null, 'replication_create', c);
          const t = await tasks.insert({ ...data, state: { state: 'PENDING' } });
          schedule(t);
          const e = await entry(t);
          ctx.app.events.emit(EVENT, 'added', t.id, e);
          return e;
        },
      }),
      method('replication.update', {
        description: 'Change a replication task; schedule fields are merged.',
        args: [arg('id', Type.Integer()), arg('replication_update', ReplicationUpdate)],
        result: ReplicationEntry,
        handler: async (c, id, raw) => {
          const old = tasks.get(id);
          if (old === undefined) throw notFound(`Replication task ${id} does not exist`);
          const patch = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Partial<ReplicationData>;
          const merge = (o: StoredScheduleT | null, p: unknown) => (p === undefined ? o : p === null ? null : fullSchedule(o ?? fullSchedule(TASK_SCHEDULE_DEFAULTS, {}, true), p as Partial<StoredScheduleT>, true));
          const t: TaskRecord = { ...old, ...patch, schedule: merge(old.schedule, raw.schedule), restrict_schedule: merge(old.restrict_schedule, raw.restrict_schedule) };
          if (patch.enabled !== undefined) t.disabled_by_export = null;
          validate(t, id, 'replication_update', c);
          await tasks.put(t);
          schedule(t);
          const e = await entry(t);
          ctx.app.events.emit(EVENT, 'changed', id, e);
          return e;
        },
      }),
      method('replication.delete', {
        description: 'Delete a replication task (what it replicated stays).',
        args: [arg('id', Type.Integer())],
        result: Type.Boolean(),
        handler: async (_c, id) => {
          if (running.has(id)) throw new CallError('Task is running: abort its job first', ERRNO.EBUSY);
          if (!(await tasks.delete(id))) throw notFound(`Replication task ${id} does not exist`);
          scheduler.remove(id);
          ctx.app.events.emit(EVENT, 'removed', id);
          return true;
        },
      }),
      method(RUN, {
        description: 'Run a replication task now: full, then incremental streams from the newest common snapshot; abort stops it with the target at its last complete snapshot.',
        args: [arg('id', Type.Integer()), arg('options', ReplicationRunOptions, { default: { really_run: true } })],
        result: Type.Null(),
        roles: ['REPLICATION_TASK_WRITE'],
        job: { logs: true, abortable: true, description: ([id]) => `Replication task ${id}` },
        handler: (_c, job, id) => run(job, id),
      }),
      method('replication.list_datasets', {
        description: 'Datasets a replication can use on the given transport (LOCAL: this host\'s managed pools).',
        args: [arg('transport', Type.Unsafe<string>({ type: 'string', enum: [...TRANSPORTS] })), arg('ssh_credentials', Type.Union([Type.Integer(), Type.Null()]), { default: null })],
        result: Type.Array(Type.String()),
        roles: ['REPLICATION_TASK_WRITE'],
        handler: async (_c, transport) => {
          if (transport !== 'LOCAL') throw new CallError(`${transport} transport is not available yet: only LOCAL replication is built`, ERRNO.EOPNOTSUPP);
          return (await datasetItems(ctx, null, { retrieve_children: false, properties: [], retrieve_user_props: false })).map((d) => d.id);
        },
      }),
      method('replication.list_naming_schemas', {
        description: 'Naming schemas the periodic snapshot tasks and replication tasks use.',
        args: [],
        result: Type.Array(Type.String()),
        roles: ['REPLICATION_TASK_WRITE'],
        handler: () => [...new Set([...snapshotTasks().map((s) => s.naming_schema), ...tasks.all().flatMap((t) => [...t.naming_schema, ...t.also_include_naming_schema])])].sort(),
      }),
    ],
    events: [{ name: EVENT, description: 'Replication tasks added, changed (the entry; while running: only {state}) and removed.', roles: ['REPLICATION_TASK_READ'] }],
    async start() {
      await tasks.load();
      // Runs the previous daemon did not live to finish: their jobs are FAILED "Interrupted".
      for (const r of ctx.app.jobs.interrupted) {
        const id = r.method === RUN ? r.arguments[0] : undefined;
        const t = typeof id === 'number' ? tasks.get(id) : undefined;
        if (t !== undefined) await tasks.put({ ...t, state: { state: 'ERROR', datetime: { $date: r.time_finished ?? Date.now() }, error: typeof r.error === 'string' ? r.error : 'Interrupted', ...(t.state.last_snapshot ? { last_snapshot: t.state.last_snapshot } : {}) } });
      }
      for (const t of tasks.all()) schedule(t);
      scheduler.start();
    },
    stop: () => scheduler.stop(),
  };
}
