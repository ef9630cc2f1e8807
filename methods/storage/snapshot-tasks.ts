// pool.snapshottask.*: periodic snapshot tasks (dataset, recursive, exclude, naming schema,
// schedule with a begin/end window, lifetime), run by the scheduler as pool.snapshottask.run
// jobs. Each snapshot a task takes carries the task's id in a user property, so retention
// destroys only snapshots this task made, once older than its lifetime (by the time in their
// name, as zettarepl reads it) and not held. Exporting a pool disables its tasks (cascade:
// deletes them); importing it again enables the ones its export disabled.
import { arg, CallError, ERRNO, method, notFound, Type, ValidationErrors, type JobHandle } from '#midship/module-api';
import { PoolSnapshotTaskCreate, PoolSnapshotTaskEntry, PoolSnapshotTaskUpdate, SnapshotTaskDeleteOptions, type PoolSnapshotTaskCreateT, type PoolSnapshotTaskEntryT } from '../../schemas/pool_snapshottask.js';
import { TASK_SCHEDULE_DEFAULTS, type StoredScheduleT } from '../../schemas/task_schedule.js';
import { ZfsCommandError } from '../zfs/errors.js';
import { mapSnapshot } from '../zfs/map-snapshot.js';
import { parseGetTable } from '../zfs/parse-tables.js';
import type { StorageContext } from './context.js';
import { datasetItems } from './datasets.js';
import { zfsCall } from './errors.js';
import { format, minusLifetime, namingSchemaProblem, parser, type LifetimeUnit } from './naming-schema.js';
import type { Part } from './part.js';
import { asyncQueryMethod, getInstanceMethod } from './query.js';
import { RecordTable } from './records.js';
import { SNAPSHOT_EVENT } from './snapshots.js';
import { fullSchedule, TaskScheduler, validateTaskSchedule } from './task-scheduler.js';

/** The user property that marks a snapshot as made by periodic snapshot task <value>. */
export const TASK_PROPERTY = 'org.midship:snapshot_task';
const TASK_EVENT = 'pool.snapshottask.query';

type Entry = PoolSnapshotTaskEntryT;
interface TaskRecord extends Omit<Entry, 'vmware_sync' | 'state'> {
  state: Entry['state'];
  /** Disabled because this pool was exported; enabled again when it is imported. */
  disabled_by_export?: string | null;
}

const within = (name: string, root: string) => name === root || name.startsWith(`${root}/`);

export function snapshotTaskPart(ctx: StorageContext): Part {
  const tasks = new RecordTable<TaskRecord>(ctx.app.sublevel('pool_snapshottask'));
  const scheduler = new TaskScheduler(ctx.calendar, ctx.clock, (id) => void runScheduled(id), (err, id) => ctx.log.error({ err, task: id }, 'scheduling a snapshot task failed'));
  const entry = (t: TaskRecord): Entry => {
    const { disabled_by_export: _d, ...rest } = t;
    return { ...rest, vmware_sync: false };
  };
  ctx.snapshotTaskEntries = () => tasks.all().map(entry);
  ctx.taskCounters.snapshot.push((d) => tasks.all().filter((t) => t.dataset === d || (t.recursive && within(d, t.dataset))).length);

  /** Stores the task's state and sends it as a partial CHANGED ({state}), as zettarepl's state changes are. */
  async function setState(t: TaskRecord, state: Entry['state']): Promise<void> {
    const cur = tasks.get(t.id);
    if (cur === undefined) return; // deleted meanwhile
    await tasks.put({ ...cur, state });
    ctx.app.events.emit(TASK_EVENT, 'changed', t.id, { state });
  }

  async function validate(t: TaskRecord, attr: string): Promise<void> {
    const v = new ValidationErrors();
    const found = (await ctx.poolOf(t.dataset)) === null ? [] : await datasetItems(ctx, [t.dataset], { retrieve_children: false, properties: [], retrieve_user_props: false });
    if (!found.some((d) => d.id === t.dataset && d.type === 'FILESYSTEM')) v.add(`${attr}.dataset`, 'Dataset not found', ERRNO.ENOENT);
    if (!t.recursive && t.exclude.length > 0) v.add(`${attr}.exclude`, 'Excluding datasets is not necessary for non-recursive periodic snapshot tasks');
    t.exclude.forEach((x, i) => {
      if (!x.startsWith(`${t.dataset}/`)) v.add(`${attr}.exclude.${i}`, 'Excluded dataset should be a child or other descendant of the selected dataset');
    });
    const problem = namingSchemaProblem(t.naming_schema);
    if (problem !== null) v.add(`${attr}.naming_schema`, problem);
    if (!t.allow_empty && ctx.available && !ctx.zfs.dialect.datasetProperties.includes('written')) {
      v.add(`${attr}.allow_empty`, `Skipping empty snapshots needs the written property, which the installed ZFS (${ctx.zfs.dialect.flavor}) does not have`, ERRNO.EOPNOTSUPP);
    }
    validateTaskSchedule(ctx.calendar, t.schedule, `${attr}.schedule`, v, ctx.clock.now());
    v.throwIfAny();
  }

  /** The datasets a run snapshots: the dataset, and with recursive its descendants that are not excluded. */
  async function targets(t: TaskRecord): Promise<string[]> {
    if (!t.recursive) return [t.dataset];
    const all = (await datasetItems(ctx, [t.dataset], { retrieve_children: false, properties: [], retrieve_user_props: false })).map((d) => d.id);
    return all.filter((d) => !t.exclude.some((x) => within(d, x)));
  }

  async function retention(t: TaskRecord, datasets: string[], job: JobHandle): Promise<string[]> {
    const z = ctx.zfs;
    const parse = parser(t.naming_schema);
    const cutoff = minusLifetime(ctx.wallNow(), t.lifetime_value, t.lifetime_unit as LifetimeUnit);
    const old = (await zfsCall(() => z.snapshots.list({ datasets, recursive: false })))
      .filter((s) => { const at = parse(s.snapshot); return at !== null && at < cutoff; })
      .map((s) => s.name);
    if (old.length === 0) return [];
    const props = parseGetTable((await zfsCall(() => z.commands.zfs(['get', '-H', '-p', '-o', 'name,property,value,source', `${TASK_PROPERTY},userrefs`, ...old]))).stdout);
    const destroyed: string[] = [];
    for (const name of old) {
      const p = props.get(name);
      if (p?.get(TASK_PROPERTY)?.raw !== String(t.id)) continue; // not made by this task
      if (Number(p.get('userrefs')?.raw ?? 0) > 0) continue; // held: kept until released
      try {
        await z.snapshots.destroy(name);
        destroyed.push(name);
        job.log(`destroyed ${name} (past its lifetime of ${t.lifetime_value} ${t.lifetime_unit.toLowerCase()}(s))\n`);
        ctx.app.events.emit(SNAPSHOT_EVENT, 'removed', name, undefined, { extra: { recursive: false } });
      } catch (e) {
        // A clone depends on it, or a hold came in between: it stays until the next run.
        if (!(e instanceof ZfsCommandError)) throw e;
        job.log(`kept ${name}: ${e.zfsMessage || e.message}\n`);
      }
    }
    return destroyed;
  }

  async function run(job: JobHandle, id: number, at: number | null): Promise<null> {
    const t = tasks.get(id);
    if (t === undefined) throw notFound(`Periodic snapshot task ${id} does not exist`);
    if (!t.enabled) throw new CallError('Task is not enabled', ERRNO.EINVAL);
    if ((await ctx.poolOf(t.dataset)) === null) throw new CallError(`Dataset ${t.dataset} is not on an imported pool`, ERRNO.ENOENT);
    const z = ctx.zfs;
    const wall = at === null ? ctx.wallNow() : ctx.calendar.rules(ctx.calendar.defaultTimeZone).wallAt(at);
    const snap = format(t.naming_schema, wall);
    await setState(t, { state: 'RUNNING', datetime: { $date: ctx.clock.now() } });
    try {
      const datasets = await targets(t);
      job.setProgress(10, `Taking snapshot ${t.dataset}@${snap}${t.recursive ? ' (recursive)' : ''}`);
      const mark = { [TASK_PROPERTY]: String(t.id) };
      const existing = new Set((await zfsCall(() => z.snapshots.list({ datasets, recursive: false }))).map((s) => s.name));
      const fresh = datasets.filter((d) => !existing.has(`${d}@${snap}`));
      if (fresh.length < datasets.length) job.log(`${datasets.length - fresh.length} snapshot(s) named ${snap} exist already and were kept\n`);
      if (t.recursive && t.exclude.length === 0 && fresh.length === datasets.length) {
        await zfsCall(() => z.snapshots.create(`${t.dataset}@${snap}`, { recursive: true, properties: mark }));
      } else {
        for (const d of fresh) await zfsCall(() => z.snapshots.create(`${d}@${snap}`, { properties: mark }));
      }
      const made = new Set(fresh.map((d) => `${d}@${snap}`));
      for (const r of await zfsCall(() => z.snapshots.list({ datasets: fresh, recursive: false }))) {
        if (made.has(r.name)) ctx.app.events.emit(SNAPSHOT_EVENT, 'added', r.name, mapSnapshot(r));
      }
      job.setProgress(60, 'Destroying expired snapshots');
      const destroyed = await retention(t, datasets, job);
      job.setProgress(100, `Took ${fresh.length} snapshot(s), destroyed ${destroyed.length} expired`);
      await setState(t, { state: 'FINISHED', datetime: { $date: ctx.clock.now() }, last_snapshot: `${t.dataset}@${snap}` });
      for (const f of ctx.snapshotTaskRan) f(t.id);
      return null;
    } catch (e) {
      await setState(t, { state: 'ERROR', datetime: { $date: ctx.clock.now() }, error: (e as Error).message });
      throw e;
    }
  }

  async function runScheduled(id: number): Promise<void> {
    try {
      await ctx.app.call('pool.snapshottask.run', [id, ctx.clock.now()]);
    } catch (e) {
      ctx.log.warn({ err: e, task: id }, 'scheduled snapshot task failed');
    }
  }

  const normalize = (d: PoolSnapshotTaskCreateT, id: number, state: Entry['state']): TaskRecord => ({
    id,
    dataset: d.dataset,
    recursive: d.recursive ?? false,
    exclude: [...(d.exclude ?? [])],
    lifetime_value: d.lifetime_value ?? 2,
    lifetime_unit: d.lifetime_unit ?? 'WEEK',
    naming_schema: d.naming_schema ?? 'auto-%Y-%m-%d_%H-%M',
    allow_empty: d.allow_empty ?? true,
    schedule: fullSchedule(TASK_SCHEDULE_DEFAULTS, d.schedule as Partial<StoredScheduleT> | undefined, true),
    enabled: d.enabled ?? true,
    state,
  });

  ctx.hooks.poolRemoving.push(async (pool, cascade) => {
    for (const t of tasks.all().filter((x) => within(x.dataset, pool.name))) {
      scheduler.remove(t.id);
      if (cascade) await tasks.delete(t.id);
      else if (t.enabled) await tasks.put({ ...t, enabled: false, disabled_by_export: pool.name });
    }
  });
  ctx.hooks.poolAdded.push(async (pool) => {
    for (const t of tasks.all().filter((x) => x.disabled_by_export === pool.name)) {
      const back = { ...t, enabled: true, disabled_by_export: null };
      await tasks.put(back);
      scheduler.set(back.id, back.schedule, true);
    }
  });

  const read = async () => tasks.all().map(entry);
  return {
    services: [{ name: 'pool.snapshottask', type: 'crud', rolePrefix: 'SNAPSHOT_TASK' }],
    methods: [
      asyncQueryMethod('pool.snapshottask.query', 'Periodic snapshot tasks with their state.', read),
      getInstanceMethod('pool.snapshottask.get_instance', 'One periodic snapshot task.', Type.Integer(), PoolSnapshotTaskEntry, read),
      method('pool.snapshottask.create', {
        description: 'Take snapshots of a dataset on a schedule and destroy them after their lifetime.',
        args: [arg('data', PoolSnapshotTaskCreate)],
        result: PoolSnapshotTaskEntry,
        handler: async (_c, data) => {
          const t = normalize(data, 0, { state: 'PENDING' });
          await validate(t, 'periodic_snapshot_create');
          const { id: _i, ...rest } = t;
          const saved = await tasks.insert(rest);
          scheduler.set(saved.id, saved.schedule, saved.enabled);
          ctx.app.events.emit(TASK_EVENT, 'added', saved.id, entry(saved));
          return entry(saved);
        },
      }),
      method('pool.snapshottask.update', {
        description: 'Change a periodic snapshot task; schedule fields are merged.',
        args: [arg('id', Type.Integer()), arg('data', PoolSnapshotTaskUpdate)],
        result: PoolSnapshotTaskEntry,
        handler: async (_c, id, data) => {
          const old = tasks.get(id);
          if (old === undefined) throw notFound(`Periodic snapshot task ${id} does not exist`);
          const { schedule, fixate_removal_date: _f, ...rest } = data;
          const t: TaskRecord = { ...old, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)), schedule: fullSchedule(old.schedule, schedule as Partial<StoredScheduleT> | undefined, true) };
          if (rest.enabled !== undefined) t.disabled_by_export = null;
          await validate(t, 'periodic_snapshot_update');
          if (!t.enabled) {
            const bound = ctx.replicationsBoundTo(id).find((r) => r.enabled);
            if (bound) throw new ValidationErrors([['periodic_snapshot_update.enabled', `You can't disable this periodic snapshot task because it is bound to enabled replication task ${bound.id}`, ERRNO.EINVAL]]);
          }
          await tasks.put(t);
          scheduler.set(t.id, t.schedule, t.enabled);
          ctx.app.events.emit(TASK_EVENT, 'changed', id, entry(t));
          return entry(t);
        },
      }),
      method('pool.snapshottask.delete', {
        description: 'Delete a periodic snapshot task (its snapshots stay).',
        args: [arg('id', Type.Integer()), arg('options', SnapshotTaskDeleteOptions, { default: { fixate_removal_date: false } })],
        result: Type.Literal(true),
        handler: async (_c, id) => {
          if (tasks.get(id) === undefined) throw notFound(`Periodic snapshot task ${id} does not exist`);
          const broken = ctx.replicationsBoundTo(id).find((r) => r.enabled && r.onlySource);
          if (broken) {
            throw new CallError(`You are deleting the last periodic snapshot task bound to enabled replication task '${broken.name}' which will break it. Please, disable that replication task first.`, ERRNO.EBUSY);
          }
          await tasks.delete(id);
          scheduler.remove(id);
          ctx.app.events.emit(TASK_EVENT, 'removed', id);
          return true as const;
        },
      }),
      method('pool.snapshottask.run', {
        description: 'Take the task\'s snapshots now (named from `at`, epoch ms, when given) and destroy its expired ones.',
        args: [arg('id', Type.Integer()), arg('at', Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]), { default: null })],
        result: Type.Null(),
        roles: ['SNAPSHOT_TASK_WRITE'],
        job: { lock: ([id]) => `pool.snapshottask:${id}`, lockQueueSize: 1, logs: true, description: ([id]) => `Periodic snapshot task ${id}` },
        handler: (_c, job, id, at) => run(job, id, at),
      }),
    ],
    events: [{ name: TASK_EVENT, description: 'Periodic snapshot tasks added, changed (the entry; while running only {state}) and removed.', roles: ['SNAPSHOT_TASK_READ'] }],
    async start() {
      await tasks.load();
      for (const t of tasks.all()) {
        // A run the previous daemon left RUNNING was cut short.
        if (t.state.state === 'RUNNING') await tasks.put({ ...t, state: { state: 'ERROR', datetime: t.state.datetime, error: 'Interrupted: the daemon stopped while this task was running' } });
        scheduler.set(t.id, t.schedule, t.enabled);
      }
      scheduler.start();
    },
    stop: () => scheduler.stop(),
  };
}
