// pool.create's checks, with TrueNAS's messages and attribute paths (plugins/pool_/pool.py
// _validate_topology, disk.check_disks_availability): the vdev rules first (minimum and maximum
// disks, one data vdev type and width, one log and one cache row), then whether every disk
// exists and is free, then spares against the data disks. What the installed ZFS cannot build
// (dRAID, special and dedup vdevs, encryption, some checksums) is refused on the field that
// asked for it, naming the feature.
import { ERRNO, ValidationErrors } from '#midship/module-api';
import type { PoolCreateT } from '../../schemas/pool.js';
import type { Dialect } from '../zfs/dialect.js';
import { ZfsInputError } from '../zfs/errors.js';
import { checkPoolName } from '../zfs/names.js';
import { formatSize } from '../zfs/units.js';
import type { DiskUsage } from './disk-usage.js';

const S = 'pool_create';

export const VDEV_MIN_DISKS: Record<string, number> = { STRIPE: 1, MIRROR: 2, DRAID1: 2, DRAID2: 3, DRAID3: 4, RAIDZ1: 3, RAIDZ2: 4, RAIDZ3: 5 };
export const VDEV_MAX_DISKS: Record<string, number> = { MIRROR: 4, RAIDZ1: 15, RAIDZ2: 15, RAIDZ3: 15 };
const VDEV_PARITY: Record<string, number> = { STRIPE: 0, MIRROR: 1, RAIDZ1: 1, RAIDZ2: 2, RAIDZ3: 3, DRAID1: 1, DRAID2: 2, DRAID3: 3 };
/** Checksums that came with feature flags; a legacy pool version (zfs-fuse) has none of them. */
const FEATURE_CHECKSUMS: Record<string, string> = { SHA512: 'sha512', SKEIN: 'skein', EDONR: 'edonr', BLAKE3: 'blake3' };

/** Name, encryption, dedup and checksum options: what is checked before the topology. */
export function validateOptions(data: PoolCreateT, nameTaken: boolean, dialect: Dialect): ValidationErrors {
  const v = new ValidationErrors();
  const flavor = dialect.flavor;
  if (nameTaken) v.add(`${S}.name`, 'A pool with this name already exists.', ERRNO.EEXIST);
  else {
    try {
      checkPoolName('name', data.name);
    } catch (e) {
      if (!(e instanceof ZfsInputError)) throw e;
      v.add(`${S}.name`, 'Invalid pool name', ERRNO.EINVAL);
    }
  }
  if (data.encryption && !dialect.encryption) {
    v.add(`${S}.encryption`, `Encryption is not supported by the installed ZFS (${flavor} has no native encryption)`, ERRNO.EOPNOTSUPP);
  } else if (data.encryption) {
    // Keys would have to be kept and handed to ZFS; Midship does not manage dataset keys.
    v.add(`${S}.encryption`, 'Encryption is not supported by Midship yet (it keeps no dataset keys)', ERRNO.EOPNOTSUPP);
  }
  if (data.deduplication === 'ON' || data.deduplication === 'VERIFY') {
    if (data.dedup_table_quota === 'CUSTOM' && data.dedup_table_quota_value === null) {
      v.add(`${S}.dedup_table_quota_value`, 'This field is required when dedup_table_quota is CUSTOM');
    }
    if (data.dedup_table_quota === 'CUSTOM' && !dialect.poolProperties.includes('dedup_table_quota')) {
      v.add(`${S}.dedup_table_quota`, `A dedup table quota is not supported by the installed ZFS (${flavor})`, ERRNO.EOPNOTSUPP);
    }
  } else if (data.dedup_table_quota === 'CUSTOM' || data.dedup_table_quota_value !== null) {
    if (data.dedup_table_quota_value !== null && data.dedup_table_quota !== 'CUSTOM') {
      v.add(`${S}.dedup_table_quota_value`, 'This field is only used when dedup_table_quota is CUSTOM');
    }
  }
  const feature = data.checksum === null ? undefined : FEATURE_CHECKSUMS[data.checksum];
  if (feature !== undefined && !dialect.features.includes(feature)) {
    v.add(`${S}.checksum`, `The ${data.checksum} checksum is not supported by the installed ZFS (${flavor})`, ERRNO.EOPNOTSUPP);
  }
  return v;
}

/** The vdev rules of TrueNAS's _validate_topology, and what this ZFS cannot build. */
export function validateTopology(data: PoolCreateT, dialect: Dialect): ValidationErrors {
  const v = new ValidationErrors();
  const t = data.topology;
  const force = data.force_topology;
  const flavor = dialect.flavor;
  let dataRedundant = false;
  for (const kind of ['data', 'special', 'dedup'] as const) {
    const list = t[kind];
    if (list.length > 0 && kind !== 'data' && !dialect.allocationClasses) {
      v.add(`${S}.topology.${kind}`, `${kind === 'special' ? 'Special' : 'Dedup'} vdevs are not supported by the installed ZFS (${flavor} has no allocation classes)`, ERRNO.EOPNOTSUPP);
      continue;
    }
    let lastType: string | null = null;
    let lastWidth: number | null = null;
    list.forEach((vdev, i) => {
      const at = `${S}.topology.${kind}.${i}`;
      if (vdev.type.startsWith('DRAID')) {
        if (kind === 'special') {
          v.add(`${at}.type`, 'dRAID is not supported for special vdevs.');
          return;
        }
        if (!dialect.draid) v.add(`${at}.type`, `dRAID is not supported by the installed ZFS (${flavor} has no draid vdevs)`, ERRNO.EOPNOTSUPP);
      }
      const width = vdev.disks.length;
      const min = VDEV_MIN_DISKS[vdev.type]!;
      if (width < min) v.add(`${at}.disks`, `You need at least ${min} disk(s) for this vdev type.`);
      const max = VDEV_MAX_DISKS[vdev.type];
      if (!force && kind === 'data' && max !== undefined && width > max) v.add(`${at}.disks`, `You can have at most ${max} disk(s) for this vdev type.`);
      if (kind === 'data' && VDEV_PARITY[vdev.type]! >= 1) dataRedundant = true;
      if (force) {
        // force_topology skips the policy checks below; the structural ones above still apply.
      } else if (kind === 'special') {
        if (dataRedundant && VDEV_PARITY[vdev.type]! < 1) v.add(`${at}.type`, 'A special vdev with no redundancy is not allowed when data vdevs are redundant.');
      } else if (lastType !== null && lastType !== vdev.type) {
        v.add(`${at}.type`, `You are not allowed to create a pool with different ${kind} vdev types (${lastType} and ${vdev.type}).`);
      } else if (kind === 'data' && lastType !== null && vdev.type !== 'STRIPE' && width !== lastWidth) {
        v.add(`${at}.disks`, `You are not allowed to create a pool with ${kind} vdevs of different widths (${lastWidth} and ${width} disks).`);
      }
      lastType = vdev.type;
      lastWidth = width;
    });
  }
  for (const kind of ['cache', 'log'] as const) {
    if (t[kind].length > 1) v.add(`${S}.topology.${kind}`, `Only one row for the virtual device of type ${kind} is allowed.`);
  }
  return v;
}

/** Every disk the topology names, in order, with where it is named. */
export function topologyDisks(data: PoolCreateT): Array<{ disk: string; at: string }> {
  const out: Array<{ disk: string; at: string }> = [];
  const t = data.topology;
  for (const kind of ['data', 'special', 'dedup', 'cache', 'log'] as const) {
    t[kind].forEach((vdev, i) => vdev.disks.forEach((disk, j) => out.push({ disk, at: `${S}.topology.${kind}.${i}.disks.${j}` })));
  }
  t.spares.forEach((disk, i) => out.push({ disk, at: `${S}.topology.spares.${i}` }));
  return out;
}

/** The disks exist, are free (no imported or exported pool on them), named once, serials unique, spares big enough. */
export function validateDisks(data: PoolCreateT, usage: DiskUsage): ValidationErrors {
  const v = new ValidationErrors();
  const named = topologyDisks(data);
  const byName = new Map(usage.disks.map((d) => [d.name, d]));
  const seen = new Map<string, string>();
  for (const { disk, at } of named) {
    const first = seen.get(disk);
    if (first !== undefined) v.add(at, `Disk ${disk} is already used at ${first}`);
    else seen.set(disk, at);
  }
  const names = [...seen.keys()];
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0) v.add(`${S}.topology`, `The following disks were not found in system: ${missing.join(',')}.`);
  const used = names.filter((n) => usage.imported.has(n) || usage.exported.has(n) || usage.host.has(n));
  if (used.length > 0) v.add(`${S}.topology`, `The following disks are already in use: ${used.join(',')}.`, ERRNO.EBUSY);
  if (!data.allow_duplicate_serials && v.length === 0) {
    const bySerial = new Map<string, Set<string>>();
    const consider = [...names, ...usage.imported.keys()];
    for (const n of consider) {
      const d = byName.get(n);
      if (!d || d.serial === null) continue;
      const k = `${d.serial}\u0000${d.lunid ?? ''}`;
      (bySerial.get(k) ?? bySerial.set(k, new Set()).get(k)!).add(n);
    }
    const dup = [...bySerial.values()].filter((s) => s.size > 1 && names.some((n) => s.has(n)));
    if (dup.length > 0) {
      v.add(`${S}.topology`, `Disks have duplicate serial numbers: ${dup.map((s) => `'${byName.get([...s][0]!)!.serial}' (${[...s].sort().join(', ')})`).join(', ')}.`);
    }
  }
  if (v.length === 0 && data.topology.spares.length > 0) {
    const dataDisks = data.topology.data.flatMap((x) => x.disks).map((n) => byName.get(n)!.size);
    const smallest = Math.min(...dataDisks);
    for (const s of data.topology.spares) {
      const size = byName.get(s)!.size;
      if (size < smallest) v.add(`${S}.topology`, `Spare ${s} (${formatSize(size)}) is smaller than the smallest data disk (${formatSize(smallest)})`);
    }
  }
  return v;
}
