// Snapshot records (and optionally their `zfs get` properties and hold tags) -> TrueNAS
// pool.snapshot.query items (plugins/pool_/snapshot.py _transform_snapshot_entry).
import { mapProperty } from './map-dataset.js';
import type { SnapshotEntryT } from '../../schemas/pool_snapshot.js';
import type { PropertyValue, SnapshotRecord } from './types.js';

export interface SnapshotMapOptions {
  /** The snapshot's properties, when asked for (`zfs get` row). */
  properties?: Map<string, PropertyValue>;
  /** Hold tags when the caller asked for holds (extra.holds); TrueNAS reports only its own tag. */
  holdTags?: readonly string[] | null;
}

export function mapSnapshot(r: SnapshotRecord, o: SnapshotMapOptions = {}): SnapshotEntryT {
  const properties: SnapshotEntryT['properties'] = {};
  for (const [name, pv] of o.properties ?? []) {
    const p = mapProperty(name, pv);
    properties[name] = {
      value: p.value ?? '',
      rawvalue: p.rawvalue ?? '',
      source: pv.source,
      parsed: p.parsed,
    };
  }
  const entry: SnapshotEntryT = {
    id: r.name,
    name: r.name,
    pool: r.pool,
    type: 'SNAPSHOT',
    snapshot_name: r.snapshot,
    dataset: r.dataset,
    createtxg: r.createtxg,
    properties,
  };
  if (o.holdTags !== undefined) entry.holds = o.holdTags !== null && o.holdTags.includes('truenas') ? { truenas: 1 } : {};
  return entry;
}
