// One replication run: plan (plan.ts), then for each dataset the sends in order, each one
// `zfs send` on the source piped through the daemon into `zfs recv` on the target with its bytes
// counted ("Sending k of N: ds@snap (sent / total)"), then the target's retention (SOURCE: what
// the source no longer has; CUSTOM: what is older than the lifetime; NONE: nothing), never the
// newest snapshot (the next run's base) and never a held one. An abort kills both commands of
// the stream in flight: ZFS throws a partly received snapshot away, so the target stays at its
// last complete snapshot.
import type { ReplicationData } from '../../schemas/replication.js';
import { ZfsCommandError } from '../zfs/errors.js';
import { pumpCounted, type ReceiveOptions, type SendOptions } from '../zfs/streams.js';
import { formatSize } from '../zfs/units.js';
import { minusLifetime, parser, type LifetimeUnit } from '../storage/naming-schema.js';
import { planDataset, snapshotMatcher, targetOf, type DatasetPlan } from './plan.js';
import type { Transport, ZfsSide } from './transport.js';

export interface SendProgress {
  dataset: string;
  snapshot: string;
  snapshots_sent: number;
  snapshots_total: number;
  bytes_sent: number;
  bytes_total: number;
}

export interface RunHooks {
  signal: AbortSignal;
  /** The host's wall-clock time now (CUSTOM retention reads times from snapshot names). */
  wallNow(): number;
  progress(percent: number, text: string, p: SendProgress): void;
  log(text: string): void;
  /** A snapshot is complete on the target. */
  sent(snapshot: string): void;
}

/** A replication cannot go on; the message says why, in zettarepl's words where it has them. */
export class ReplicationError extends Error {}

export class ReplicationAborted extends Error {}

const PROGRESS_EVERY_MS = 250;

async function resolveSources(task: ReplicationData, source: ZfsSide): Promise<Array<{ root: string; dataset: string }>> {
  const out: Array<{ root: string; dataset: string }> = [];
  for (const root of task.source_datasets) {
    const found = await source.datasets(root, task.recursive);
    if (found.length === 0) throw new ReplicationError(`Source dataset '${root}' does not exist`);
    for (const d of found) if (!task.exclude.some((x) => d === x || d.startsWith(`${x}/`))) out.push({ root, dataset: d });
  }
  return out;
}

/** Pipes one send into one receive, counting bytes; the first failure is thrown, both commands end. */
async function pipe(t: Transport, send: SendOptions, target: string, recv: ReceiveOptions, signal: AbortSignal, onBytes: (n: number) => void): Promise<number> {
  if (signal.aborted) throw new ReplicationAborted('Replication aborted');
  const s = t.source.send(send);
  const r = t.target.receive(target, recv);
  let bytes = 0;
  pumpCounted(s.stream, r.input, (n) => {
    bytes = n;
    onBytes(n);
  });
  let first: unknown = null;
  const onAbort = () => {
    first ??= new ReplicationAborted('Replication aborted');
    s.kill();
    r.kill();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  // Whichever end fails first explains the failure; stopping the other is a consequence.
  r.done.catch((e: unknown) => { first ??= e; s.stream.destroy(); s.kill(); });
  s.done.catch((e: unknown) => { first ??= e; r.input.destroy(); r.kill(); });
  const results = await Promise.allSettled([s.done, r.done]);
  signal.removeEventListener('abort', onAbort);
  if (results.some((x) => x.status === 'rejected') || first !== null) throw first;
  return bytes;
}

async function retention(task: ReplicationData, t: Transport, plan: DatasetPlan, sourceNames: Set<string>, match: (n: string) => boolean, schemas: readonly string[], hooks: RunHooks): Promise<void> {
  if (task.retention_policy === 'NONE') return;
  const snaps = await t.target.snapshots([plan.target]);
  if (snaps.length === 0) return;
  const newest = snaps[snaps.length - 1]!;
  let doomed = snaps.filter((s) => s !== newest && match(s.snapshot));
  if (task.retention_policy === 'SOURCE') {
    doomed = doomed.filter((s) => !sourceNames.has(s.snapshot));
  } else {
    const cutoff = minusLifetime(hooks.wallNow(), task.lifetime_value ?? 0, (task.lifetime_unit ?? 'WEEK') as LifetimeUnit);
    const parsers = schemas.map(parser);
    doomed = doomed.filter((s) => {
      const at = parsers.map((p) => p(s.snapshot)).find((x) => x !== null);
      return at !== undefined && at !== null && at < cutoff;
    });
  }
  for (const s of doomed) {
    try {
      await t.target.destroySnapshot(s.name);
      hooks.log(`retention (${task.retention_policy}): destroyed ${s.name}\n`);
    } catch (e) {
      if (!(e instanceof ZfsCommandError)) throw e;
      hooks.log(`retention: kept ${s.name}: ${e.zfsMessage || e.message}\n`);
    }
  }
}

/** Runs the task once; returns its warnings. */
export async function runReplication(task: ReplicationData, schemas: readonly string[], t: Transport, hooks: RunHooks): Promise<string[]> {
  const warnings: string[] = [];
  const match = snapshotMatcher(task, schemas);
  const sources = await resolveSources(task, t.source);
  const srcSnaps = await t.source.snapshots(sources.map((s) => s.dataset));
  const targets = sources.map((s) => targetOf(task, s.root, s.dataset));
  const existing = new Set<string>();
  for (const d of await t.target.datasets(task.target_dataset, true)) existing.add(d);
  const tgtSnaps = await t.target.snapshots(targets.filter((x) => existing.has(x)));
  const plans = sources.map((s, i) => planDataset(task, s.dataset, targets[i]!, srcSnaps.filter((x) => x.dataset === s.dataset), existing.has(targets[i]!) ? tgtSnaps.filter((x) => x.dataset === targets[i]) : null, match));
  const errors = plans.flatMap((p) => (p.error === null ? [] : [p.error]));
  if (errors.length > 0) throw new ReplicationError(errors.join('; '));
  for (const p of plans) if (p.warning !== null) warnings.push(p.warning);
  if (task.readonly === 'REQUIRE') {
    const present = plans.filter((p) => !p.targetMissing);
    const ro = present.length === 0 ? new Map() : await t.target.properties(present.map((p) => p.target), ['readonly']);
    for (const p of present) {
      if (ro.get(p.target)?.get('readonly')?.raw !== 'on') throw new ReplicationError(`Target dataset '${p.target}' exists and does not have readonly=on property, but replication task is set up to require this property. Refusing to replicate.`);
    }
  }

  const total = plans.reduce((n, p) => n + p.sends.length, 0);
  let sent = 0;
  for (const p of plans) {
    if (p.sends.length === 0) continue;
    if (p.targetMissing) {
      const parent = p.target.slice(0, p.target.lastIndexOf('/'));
      if (parent.includes('/') && (await t.target.datasets(parent, false)).length === 0) await t.target.createDataset(parent, true);
    }
    for (const name of p.destroyFirst) {
      await t.target.destroySnapshot(name);
      hooks.log(`replication from scratch: destroyed ${name}\n`);
    }
    const localMountpoint = task.properties && p.sends[0]!.from === null
      ? (await t.source.properties([p.source], ['mountpoint'])).get(p.source)?.get('mountpoint')?.source === 'LOCAL'
      : false;
    for (const [i, s] of p.sends.entries()) {
      const snapshot = `${p.source}@${s.snapshot}`;
      // Not `zfs recv -F`: besides rolling back, zfs-fuse's -F destroys the target's snapshots the
      // stream does not have, which would override the task's retention. Changes made on the
      // target since the base are dropped by an explicit rollback to the base instead.
      if (i === 0 && s.from !== null) await t.target.rollback(`${p.target}@${s.from}`);
      const send: SendOptions = { snapshot, properties: task.properties, ...(s.from === null ? {} : { from: `${p.source}@${s.from}` }) };
      const progress: SendProgress = { dataset: p.source, snapshot: s.snapshot, snapshots_sent: sent, snapshots_total: total, bytes_sent: 0, bytes_total: 0 };
      hooks.progress((100 * sent) / total, `Sending ${sent + 1} of ${total}: ${snapshot}`, progress);
      progress.bytes_total = await t.source.sendSize(send).catch(() => 0);
      let last = 0;
      const bytes = await pipe(t, send, p.target, { force: s.from === null && p.destroyFirst.length > 0 }, hooks.signal, (n) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS) return;
        last = now;
        progress.bytes_sent = n;
        const frac = progress.bytes_total > 0 ? Math.min(1, n / progress.bytes_total) : 0;
        hooks.progress((100 * (sent + frac)) / total, `Sending ${sent + 1} of ${total}: ${snapshot} (${formatSize(n)} / ${formatSize(progress.bytes_total)})`, progress);
      });
      sent++;
      hooks.log(`sent ${snapshot} to ${p.target}${s.from === null ? ' (full)' : ` (incremental from @${s.from})`}: ${bytes} bytes\n`);
      hooks.sent(snapshot);
      if (s.from === null && localMountpoint) {
        // The source's own mountpoint came with the stream: the copy would mount over the original.
        await t.target.inheritProperty(p.target, 'mountpoint');
      }
    }
    if (task.readonly === 'SET') {
      const ro = (await t.target.properties([p.target], ['readonly'])).get(p.target)?.get('readonly')?.raw;
      if (ro !== 'on') await t.target.setProperties(p.target, { readonly: 'on' });
    }
  }
  hooks.progress(100, total === 0 ? 'Nothing to send' : `Sent ${total} snapshot(s)`, { dataset: '', snapshot: '', snapshots_sent: total, snapshots_total: total, bytes_sent: 0, bytes_total: 0 });
  const sourceNames = new Map<string, Set<string>>();
  for (const s of srcSnaps) (sourceNames.get(s.dataset) ?? sourceNames.set(s.dataset, new Set()).get(s.dataset)!).add(s.snapshot);
  for (const p of plans) {
    if (p.sends.length === 0 && p.targetMissing) continue;
    await retention(task, t, p, sourceNames.get(p.source) ?? new Set(), match, schemas, hooks);
  }
  return warnings;
}
