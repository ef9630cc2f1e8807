// replication.create / update checks, with TrueNAS's messages and attribute paths (MODULES.md
// 5.8; plugins/replication/crud.py validate): direction (PUSH needs snapshots to send and a
// trigger when automatic; PULL a naming schema or regex and the PULL role), transport (netcat
// fields only for SSH+NETCAT, no credentials, compression or speed limit for LOCAL), exclusions,
// full filesystem replication, schedules, naming regex and retention. What Midship or the
// installed ZFS cannot do is refused on the field that asks for it.
import { ERRNO, hasAnyRole, ValidationErrors, type Credentials } from '#midship/module-api';
import type { PoolSnapshotTaskEntryT } from '../../schemas/pool_snapshottask.js';
import type { ReplicationData } from '../../schemas/replication.js';
import type { Calendar } from '../scheduling/index.js';
import type { Dialect } from '../zfs/dialect.js';
import { namingSchemaProblem } from '../storage/naming-schema.js';
import { validateTaskSchedule } from '../storage/task-scheduler.js';

const isChild = (child: string, parent: string) => child === parent || child.startsWith(`${parent}/`);

export interface ValidationInput {
  data: ReplicationData;
  id: number | null;
  /** Names of the other tasks (`name` is unique). */
  otherNames: readonly string[];
  snapshotTasks: readonly PoolSnapshotTaskEntryT[];
  credentials: Credentials | null;
  dialect: Dialect | null;
  calendar: Calendar;
  now: number;
}

export function validateReplication(attr: string, i: ValidationInput): ValidationErrors {
  const v = new ValidationErrors();
  const d = i.data;
  const at = (f: string) => `${attr}.${f}`;
  if (i.otherNames.includes(d.name)) v.add(at('name'), 'Object with this name already exists', ERRNO.EEXIST);

  // Direction
  const tasks: PoolSnapshotTaskEntryT[] = [];
  if (d.direction === 'PUSH') {
    d.periodic_snapshot_tasks.forEach((id, n) => {
      const t = i.snapshotTasks.find((x) => x.id === id);
      if (t === undefined) v.add(at(`periodic_snapshot_tasks.${n}`), 'This snapshot task does not exist', ERRNO.ENOENT);
      else tasks.push(t);
    });
    if (d.naming_schema.length > 0) v.add(at('naming_schema'), 'This field has no sense for push replication');
    if (tasks.length === 0 && d.also_include_naming_schema.length === 0 && d.name_regex === null) {
      v.add(at('periodic_snapshot_tasks'), 'You must at least either bind a periodic snapshot task or provide "Also Include Naming Schema" or "Name Regex" for push replication task');
    }
    if (d.schedule === null && d.auto && d.periodic_snapshot_tasks.length === 0) {
      v.add(at('auto'), 'Push replication that runs automatically must be either bound to a periodic snapshot task or have a schedule');
    }
  } else {
    if (d.schedule === null && d.auto) v.add(at('auto'), 'Pull replication that runs automatically must have a schedule');
    if (d.periodic_snapshot_tasks.length > 0) v.add(at('periodic_snapshot_tasks'), "Pull replication can't be bound to a periodic snapshot task");
    if (d.naming_schema.length === 0 && d.name_regex === null) v.add(at('naming_schema'), 'Naming schema or Name regex are required for pull replication');
    if (d.also_include_naming_schema.length > 0) v.add(at('also_include_naming_schema'), 'This field has no sense for pull replication');
    if (d.hold_pending_snapshots) v.add(at('hold_pending_snapshots'), "Pull replication tasks can't hold pending snapshots because they don't do source retention");
    if (hasAnyRole(i.credentials, ['REPLICATION_TASK_WRITE']) && !hasAnyRole(i.credentials, ['REPLICATION_TASK_WRITE_PULL'])) {
      v.add(at('direction'), "You don't have permissions to use PULL replication", ERRNO.EPERM);
    }
  }

  // Transport
  if (d.transport === 'SSH+NETCAT') {
    if (d.netcat_active_side === null) v.add(at('netcat_active_side'), 'You must choose active side for SSH+netcat replication');
    if (d.netcat_active_side_port_min !== null && d.netcat_active_side_port_max !== null && d.netcat_active_side_port_min > d.netcat_active_side_port_max) {
      v.add(at('netcat_active_side_port_max'), 'Please specify value greater than or equal to netcat_active_side_port_min');
    }
    if (d.compression !== null) v.add(at('compression'), 'Compression is not supported for SSH+netcat replication');
    if (d.speed_limit !== null) v.add(at('speed_limit'), 'Speed limit is not supported for SSH+netcat replication');
  } else {
    if (d.netcat_active_side !== null) v.add(at('netcat_active_side'), 'This field only has sense for SSH+netcat replication');
    for (const k of ['netcat_active_side_listen_address', 'netcat_active_side_port_min', 'netcat_active_side_port_max', 'netcat_passive_side_connect_address'] as const) {
      if (d[k] !== null) v.add(at(k), 'This field only has sense for SSH+netcat replication');
    }
  }
  if (d.transport === 'LOCAL') {
    if (d.ssh_credentials !== null) v.add(at('ssh_credentials'), 'Remote credentials have no sense for local replication');
    if (d.compression !== null) v.add(at('compression'), 'Compression has no sense for local replication');
    if (d.speed_limit !== null) v.add(at('speed_limit'), 'Speed limit has no sense for local replication');
  } else {
    if (d.ssh_credentials === null) v.add(at('ssh_credentials'), 'SSH Credentials are required for non-local replication');
    v.add(at('transport'), `${d.transport} transport is not available yet: only LOCAL replication (pool to pool on this host) is built`, ERRNO.EOPNOTSUPP);
  }

  // Source datasets and exclusions
  d.source_datasets.forEach((src, n) => {
    for (const t of tasks) {
      if (!isChild(src, t.dataset)) continue;
      if (d.recursive) {
        for (const x of t.exclude) {
          if (isChild(x, src) && !d.exclude.includes(x)) v.add(at('exclude'), `You should exclude '${x}' as bound periodic snapshot task dataset '${t.dataset}' does`);
        }
      } else if (t.exclude.includes(src)) {
        v.add(at(`source_datasets.${n}`), `Dataset '${src}' is excluded by bound periodic snapshot task for dataset '${t.dataset}'`);
      }
    }
    if (d.transport === 'LOCAL' && (isChild(d.target_dataset, src) || isChild(src, d.target_dataset))) {
      v.add(at('target_dataset'), `The target dataset cannot be '${src}', one of its children or one of its parents`);
    }
  });
  if (!d.recursive && d.exclude.length > 0) v.add(at('exclude'), 'Excluding child datasets is only supported for recursive replication');
  d.exclude.forEach((x, n) => {
    if (!d.source_datasets.some((s) => x.startsWith(`${s}/`))) v.add(at(`exclude.${n}`), 'This dataset is not a child of any of source datasets');
  });
  if (d.replicate) {
    const required = 'This option is required for full filesystem replication';
    if (!d.recursive) v.add(at('recursive'), required);
    if (d.exclude.length > 0) v.add(at('exclude'), 'This option is not supported for full filesystem replication');
    if (!d.properties) v.add(at('properties'), required);
    if (d.retention_policy !== 'SOURCE') v.add(at('retention_policy'), 'Only `Same as Source` retention policy can be used for full filesystem replication');
    v.add(at('replicate'), 'Full filesystem replication (zfs send -R) is not supported by Midship yet', ERRNO.EOPNOTSUPP);
  }

  // Encryption, properties this ZFS cannot receive
  if (d.encryption) {
    if (!d.encryption_inherit) {
      for (const k of ['encryption_key', 'encryption_key_format', 'encryption_key_location'] as const) {
        if (d[k] === null) v.add(at(k), 'This property is required when remote dataset encryption is enabled');
      }
    }
    v.add(at('encryption'), i.dialect !== null && !i.dialect.encryption ? `Encryption is not supported by the installed ZFS (${i.dialect.flavor} has no native encryption)` : 'Encryption is not supported by Midship yet (it keeps no dataset keys)', ERRNO.EOPNOTSUPP);
  }
  if (i.dialect !== null && !i.dialect.receiveProperties) {
    if (d.properties_exclude.length > 0) v.add(at('properties_exclude'), `Excluding received properties is not supported by the installed ZFS (${i.dialect.flavor}'s zfs receive has no -x)`, ERRNO.EOPNOTSUPP);
    if (Object.keys(d.properties_override).length > 0) v.add(at('properties_override'), `Overriding received properties is not supported by the installed ZFS (${i.dialect.flavor}'s zfs receive has no -o)`, ERRNO.EOPNOTSUPP);
  }

  // Schedules and naming
  if (d.schedule !== null) {
    if (!d.auto) v.add(at('schedule'), "You can't have schedule for replication that does not run automatically");
    validateTaskSchedule(i.calendar, d.schedule, at('schedule'), v, i.now);
  } else if (d.only_matching_schedule) {
    v.add(at('only_matching_schedule'), "You can't have only-matching-schedule without schedule");
  }
  if (d.restrict_schedule !== null) validateTaskSchedule(i.calendar, d.restrict_schedule, at('restrict_schedule'), v, i.now);
  for (const field of ['naming_schema', 'also_include_naming_schema'] as const) {
    d[field].forEach((s, n) => {
      const problem = namingSchemaProblem(s);
      if (problem !== null) v.add(at(`${field}.${n}`), problem);
    });
  }
  if (d.name_regex !== null) {
    try {
      new RegExp(`(${d.name_regex})$`, 'u');
    } catch (e) {
      v.add(at('name_regex'), `Invalid regex: ${(e as Error).message}`);
    }
    if (tasks.length > 0) v.add(at('name_regex'), "Naming regex can't be used with periodic snapshot tasks");
    if (d.naming_schema.length > 0 || d.also_include_naming_schema.length > 0) v.add(at('name_regex'), "Naming regex can't be used with Naming schema");
    if (d.retention_policy !== 'SOURCE' && d.retention_policy !== 'NONE') v.add(at('retention_policy'), 'Only `Same as Source` and `None` retention policies can be used with Naming regex');
  }

  // Retention
  if (d.retention_policy === 'CUSTOM') {
    const required = 'This field is required for custom retention policy';
    if (d.lifetime_value === null) v.add(at('lifetime_value'), required);
    if (d.lifetime_unit === null) v.add(at('lifetime_unit'), required);
    if (d.lifetimes.length > 0) v.add(at('lifetimes'), 'Per-schedule lifetimes are not supported by Midship yet', ERRNO.EOPNOTSUPP);
  } else {
    const senseless = 'This field has no sense for specified retention policy';
    if (d.lifetime_value !== null) v.add(at('lifetime_value'), senseless);
    if (d.lifetime_unit !== null) v.add(at('lifetime_unit'), senseless);
    if (d.lifetimes.length > 0) v.add(at('lifetimes'), senseless);
  }

  if (d.enabled) {
    tasks.forEach((t, n) => {
      if (!t.enabled) v.add(at(`periodic_snapshot_tasks.${n}`), "You can't bind disabled periodic snapshot task to enabled replication task");
    });
  }
  return v;
}
