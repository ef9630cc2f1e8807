// What one run sends, worked out from the snapshots on both ends before anything is sent (so
// "Sending k of N" knows N): for each source dataset and its target, the snapshots the task
// replicates (by naming schema or regex), a full stream of the oldest when the target has none,
// then one incremental stream per snapshot after the newest snapshot both ends have. What would
// lose data on the target is refused, as zettarepl refuses it, unless allow_from_scratch.
import type { ReplicationData } from '../../schemas/replication.js';
import type { SnapshotRecord } from '../zfs/types.js';
import { parser } from '../storage/naming-schema.js';

export interface Send {
  /** Snapshot name (after the @). */
  snapshot: string;
  /** Incremental from this snapshot name; null: a full stream. */
  from: string | null;
}

export interface DatasetPlan {
  source: string;
  target: string;
  /** The target does not exist yet: its parent may have to be made first. */
  targetMissing: boolean;
  /** Target snapshots to destroy before sending (allow_from_scratch). */
  destroyFirst: string[];
  sends: Send[];
  /** Why this dataset cannot be replicated, or null. */
  error: string | null;
  warning: string | null;
}

/** Which snapshot names the task replicates. */
export function snapshotMatcher(task: ReplicationData, schemas: readonly string[]): (name: string) => boolean {
  if (task.name_regex !== null) {
    const re = new RegExp(`^(?:${task.name_regex})$`, 'u');
    return (n) => re.test(n);
  }
  const parsers = schemas.map(parser);
  return (n) => parsers.some((p) => p(n) !== null);
}

/** The target of source dataset `dataset` under source root `root`. */
export function targetOf(task: ReplicationData, root: string, dataset: string): string {
  const rel = dataset.slice(root.length);
  if (task.source_datasets.length === 1) return `${task.target_dataset}${rel}`;
  // Several sources: each below the target under its own last name component, as zettarepl does.
  return `${task.target_dataset}/${root.split('/').pop()}${rel}`;
}

const sameSnapshot = (a: SnapshotRecord, b: SnapshotRecord) => a.snapshot === b.snapshot && (a.guid === null || b.guid === null || a.guid === b.guid);

export function planDataset(task: ReplicationData, source: string, target: string, src: readonly SnapshotRecord[], tgt: readonly SnapshotRecord[] | null, match: (name: string) => boolean): DatasetPlan {
  const plan: DatasetPlan = { source, target, targetMissing: tgt === null, destroyFirst: [], sends: [], error: null, warning: null };
  const eligible = src.filter((s) => match(s.snapshot));
  if (eligible.length === 0) {
    plan.warning = `No snapshots of ${source} match the task's naming schemas: nothing to send`;
    return plan;
  }
  const chain = (from: number) => {
    for (let i = from + 1; i < eligible.length; i++) plan.sends.push({ snapshot: eligible[i]!.snapshot, from: eligible[i - 1]!.snapshot });
  };
  if (tgt === null) {
    plan.sends.push({ snapshot: eligible[0]!.snapshot, from: null });
    chain(0);
    return plan;
  }
  // The newest source snapshot the target also has (any snapshot, not only matching ones, can be a base).
  let base = -1;
  for (let i = src.length - 1; i >= 0 && base < 0; i--) if (tgt.some((t) => sameSnapshot(t, src[i]!))) base = i;
  if (base < 0) {
    if (!task.allow_from_scratch) {
      plan.error = tgt.length === 0
        ? `Target dataset '${target}' does not have snapshots but exists, and replication from scratch is not allowed`
        : `No incremental base on dataset '${source}' and replication from scratch is not allowed`;
      return plan;
    }
    plan.destroyFirst = tgt.map((t) => t.name);
    plan.sends.push({ snapshot: eligible[0]!.snapshot, from: null });
    chain(0);
    return plan;
  }
  const baseName = src[base]!.snapshot;
  const tgtBase = tgt.findIndex((t) => t.snapshot === baseName);
  const newer = tgt.slice(tgtBase + 1);
  if (newer.length > 0 && !task.allow_from_scratch) {
    plan.error = `Target dataset '${target}' has snapshots newer than the newest common one (${baseName}): ${newer.map((t) => t.snapshot).join(', ')}; they would be destroyed`;
    return plan;
  }
  plan.destroyFirst = newer.map((t) => t.name);
  const after = eligible.filter((s) => BigInt(s.createtxg || '0') > BigInt(src[base]!.createtxg || '0'));
  let prev = baseName;
  for (const s of after) {
    plan.sends.push({ snapshot: s.snapshot, from: prev });
    prev = s.snapshot;
  }
  return plan;
}
