// What `zpool create` is asked for, checked and turned into arguments. The layout rules here
// are ZFS's own (a mirror needs two devices, raidzN needs N+1); the stricter TrueNAS rules
// (RAIDZ1 needs three disks, no mixed vdev types) belong to the storage module.
import type { Dialect } from './dialect.js';
import { ZfsInputError, ZfsUnsupportedError } from './errors.js';
import { propertyPairs } from './datasets.js';
import { checkAbsolutePath, checkDevicePath, checkPoolName } from './names.js';

export type VdevType = 'stripe' | 'mirror' | 'raidz1' | 'raidz2' | 'raidz3' | 'draid1' | 'draid2' | 'draid3';

export interface VdevSpec {
  type: VdevType;
  devices: string[];
  /** dRAID only: data disks per redundancy group and distributed spares. */
  draidDataDisks?: number;
  draidSpareDisks?: number;
}

export interface PoolCreateSpec {
  name: string;
  data: VdevSpec[];
  log?: VdevSpec[];
  cache?: string[];
  spares?: string[];
  special?: VdevSpec[];
  dedup?: VdevSpec[];
  /** Pool properties (-o), e.g. { ashift: '12', cachefile: 'none' }. */
  poolProperties?: Record<string, string>;
  /** Properties of the root dataset (-O), e.g. { compression: 'lz4' }. */
  datasetProperties?: Record<string, string>;
  /** -m: mountpoint of the root dataset ("none", "legacy" or an absolute path). */
  mountpoint?: string;
  /** -R: alternate root the pool is mounted under. */
  altroot?: string;
  /** -f: use devices even if they look in use. */
  force?: boolean;
}

const MIN_DEVICES: Record<VdevType, number> = { stripe: 1, mirror: 2, raidz1: 2, raidz2: 3, raidz3: 4, draid1: 2, draid2: 3, draid3: 4 };

function vdevArgs(field: string, v: VdevSpec, allowed: readonly VdevType[], dialect: Dialect, seen: Map<string, string>): string[] {
  if (typeof v !== 'object' || v === null) throw new ZfsInputError(field, 'must be an object with type and devices');
  if (!allowed.includes(v.type)) throw new ZfsInputError(`${field}.type`, `must be one of ${allowed.join(', ')}`);
  if (v.type.startsWith('draid') && !dialect.draid) throw new ZfsUnsupportedError('dRAID', `${dialect.flavor} has no draid vdevs`);
  if (!Array.isArray(v.devices)) throw new ZfsInputError(`${field}.devices`, 'must be a list of device paths');
  if (v.devices.length < MIN_DEVICES[v.type]) {
    throw new ZfsInputError(`${field}.devices`, `a ${v.type} vdev needs at least ${MIN_DEVICES[v.type]} device(s)`);
  }
  const devices = v.devices.map((d, i) => {
    const f = `${field}.devices.${i}`;
    const path = checkDevicePath(f, d);
    const other = seen.get(path);
    if (other !== undefined) throw new ZfsInputError(f, `${path} is already used at ${other}`);
    seen.set(path, f);
    return path;
  });
  if (v.type === 'stripe') return devices;
  if (v.type.startsWith('draid')) {
    let kw = v.type;
    if (v.draidDataDisks !== undefined) {
      if (!Number.isInteger(v.draidDataDisks) || v.draidDataDisks < 1) throw new ZfsInputError(`${field}.draidDataDisks`, 'must be a positive integer');
      kw += `:${v.draidDataDisks}d`;
    }
    if (v.draidSpareDisks !== undefined) {
      if (!Number.isInteger(v.draidSpareDisks) || v.draidSpareDisks < 0) throw new ZfsInputError(`${field}.draidSpareDisks`, 'must be a non-negative integer');
      kw += `:${v.draidSpareDisks}s`;
    }
    return [kw, ...devices];
  }
  return [v.type, ...devices];
}

/** The argument list of `zpool create` for a spec, after checking every field. */
export function poolCreateArgs(spec: PoolCreateSpec, dialect: Dialect): string[] {
  if (typeof spec !== 'object' || spec === null) throw new ZfsInputError('spec', 'must be an object');
  const name = checkPoolName('name', spec.name);
  if (!Array.isArray(spec.data) || spec.data.length === 0) throw new ZfsInputError('data', 'at least one data vdev is needed');
  const args = ['create'];
  if (spec.force === true) args.push('-f');
  for (const p of propertyPairs('poolProperties', spec.poolProperties, dialect)) args.push('-o', p);
  for (const p of propertyPairs('datasetProperties', spec.datasetProperties, dialect)) args.push('-O', p);
  if (spec.mountpoint !== undefined) {
    const m = spec.mountpoint === 'none' || spec.mountpoint === 'legacy' ? spec.mountpoint : checkAbsolutePath('mountpoint', spec.mountpoint);
    args.push('-m', m);
  }
  if (spec.altroot !== undefined) args.push('-R', checkAbsolutePath('altroot', spec.altroot));
  args.push(name);
  const seen = new Map<string, string>();
  const dataTypes: VdevType[] = ['stripe', 'mirror', 'raidz1', 'raidz2', 'raidz3', 'draid1', 'draid2', 'draid3'];
  spec.data.forEach((v, i) => args.push(...vdevArgs(`data.${i}`, v, dataTypes, dialect, seen)));
  for (const cls of ['special', 'dedup'] as const) {
    const list = spec[cls];
    if (list === undefined || list.length === 0) continue;
    if (!dialect.allocationClasses) throw new ZfsUnsupportedError(`${cls} vdevs`, `${dialect.flavor} has no allocation classes`);
    list.forEach((v, i) => args.push(cls, ...vdevArgs(`${cls}.${i}`, v, cls === 'dedup' ? ['stripe', 'mirror'] : dataTypes, dialect, seen)));
  }
  if (spec.log !== undefined && spec.log.length > 0) {
    args.push('log');
    spec.log.forEach((v, i) => args.push(...vdevArgs(`log.${i}`, v, ['stripe', 'mirror'], dialect, seen)));
  }
  for (const cls of ['cache', 'spares'] as const) {
    const list = spec[cls];
    if (list === undefined || list.length === 0) continue;
    if (!Array.isArray(list)) throw new ZfsInputError(cls, 'must be a list of device paths');
    args.push(cls === 'cache' ? 'cache' : 'spare');
    list.forEach((d, i) => {
      const f = `${cls}.${i}`;
      const path = checkDevicePath(f, d);
      const other = seen.get(path);
      if (other !== undefined) throw new ZfsInputError(f, `${path} is already used at ${other}`);
      seen.set(path, f);
      args.push(path);
    });
  }
  return args;
}
