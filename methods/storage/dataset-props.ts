// pool.dataset.create / update fields -> ZFS properties, as TrueNAS translates them
// (plugins/pool_/utils.py POOL_DS_*_PROPERTIES): upper-case choices become ZFS's lower-case
// values, comments and the quota thresholds are user properties under TrueNAS's names, INHERIT
// means "inherit" (on update) or "do not set" (on create). A field whose property the installed
// ZFS does not have is refused, naming it, instead of being dropped.
import { ERRNO, ValidationErrors } from '#midship/module-api';
import type { Dialect } from '../zfs/dialect.js';
import { MANAGED_USER_PROPERTIES } from '../zfs/map-dataset.js';

interface FieldSpec {
  /** The ZFS property. */
  zfs: string;
  /** Value as ZFS takes it. */
  value: (v: unknown) => string;
  user?: boolean;
}

const lower = (v: unknown) => String(v).toLowerCase();
const str = (v: unknown) => String(v);
const quota = (v: unknown) => (v === null || v === 0 ? 'none' : String(v));

/** API field -> its ZFS property. */
export const FIELDS: Record<string, FieldSpec> = {
  comments: { zfs: 'org.freenas:description', value: str, user: true },
  managedby: { zfs: 'org.truenas:managedby', value: str, user: true },
  quota_warning: { zfs: 'org.freenas:quota_warning', value: str, user: true },
  quota_critical: { zfs: 'org.freenas:quota_critical', value: str, user: true },
  refquota_warning: { zfs: 'org.freenas:refquota_warning', value: str, user: true },
  refquota_critical: { zfs: 'org.freenas:refquota_critical', value: str, user: true },
  sync: { zfs: 'sync', value: lower },
  snapdev: { zfs: 'snapdev', value: lower },
  compression: { zfs: 'compression', value: lower },
  exec: { zfs: 'exec', value: lower },
  reservation: { zfs: 'reservation', value: str },
  refreservation: { zfs: 'refreservation', value: str },
  special_small_block_size: { zfs: 'special_small_blocks', value: str },
  copies: { zfs: 'copies', value: str },
  snapdir: { zfs: 'snapdir', value: lower },
  deduplication: { zfs: 'dedup', value: lower },
  checksum: { zfs: 'checksum', value: lower },
  readonly: { zfs: 'readonly', value: lower },
  aclmode: { zfs: 'aclmode', value: lower },
  acltype: { zfs: 'acltype', value: lower },
  atime: { zfs: 'atime', value: lower },
  casesensitivity: { zfs: 'casesensitivity', value: lower },
  quota: { zfs: 'quota', value: quota },
  refquota: { zfs: 'refquota', value: quota },
  recordsize: { zfs: 'recordsize', value: str },
  mountpoint: { zfs: 'mountpoint', value: str },
  volsize: { zfs: 'volsize', value: str },
  volblocksize: { zfs: 'volblocksize', value: (v) => (String(v).startsWith('512') ? '512' : String(v)) },
};

export const FILESYSTEM_ONLY = ['aclmode', 'acltype', 'atime', 'casesensitivity', 'quota', 'refquota', 'recordsize', 'mountpoint'];
export const VOLUME_ONLY = ['force_size', 'sparse', 'volsize', 'volblocksize'];

export interface PropertyChanges {
  set: Record<string, string>;
  inherit: string[];
}

/** The ZFS side of the given fields; refuses (into `v`) fields whose property this ZFS lacks. */
export function propertyChanges(data: Record<string, unknown>, attr: string, dialect: Dialect, v: ValidationErrors, create: boolean): PropertyChanges {
  const out: PropertyChanges = { set: {}, inherit: [] };
  for (const [field, spec] of Object.entries(FIELDS)) {
    const value = data[field];
    if (value === undefined) continue;
    const inherit = value === 'INHERIT';
    if (!spec.user && !dialect.datasetProperties.includes(spec.zfs)) {
      // Asking to inherit what does not exist asks for nothing (TrueNAS's defaults are INHERIT).
      if (!inherit) v.add(`${attr}.${field}`, `The ${spec.zfs} property is not supported by the installed ZFS (${dialect.flavor})`, ERRNO.EOPNOTSUPP);
      continue;
    }
    if (inherit) {
      if (!create) out.inherit.push(spec.zfs);
    } else if (field === 'compression' && compressionFeature(String(value), dialect) !== null) {
      v.add(`${attr}.${field}`, `${String(value)} compression is not supported by the installed ZFS (${dialect.flavor} has no ${compressionFeature(String(value), dialect)} feature)`, ERRNO.EOPNOTSUPP);
    } else {
      out.set[spec.zfs] = spec.value(value);
    }
  }
  return out;
}

/** The pool feature a compression choice (TrueNAS's upper-case name) needs that this ZFS lacks, else null. */
export function compressionFeature(choice: string, dialect: Dialect): string | null {
  const c = choice.toLowerCase();
  const feature = c.startsWith('lz4') ? 'lz4_compress' : c.startsWith('zstd') ? 'zstd_compress' : null;
  return feature !== null && !dialect.features.includes(feature) ? feature : null;
}

/** TrueNAS's user property checks: managed names, ZFS's naming rule, each key once. */
export function validateUserProperties(v: ValidationErrors, attr: string, props: ReadonlyArray<{ key: string; remove?: boolean }>): void {
  const seen = new Set<string>();
  props.forEach((p, i) => {
    const at = `${attr}.${i}.key`;
    const managed = MANAGED_USER_PROPERTIES[p.key];
    if (managed !== undefined && !p.remove) v.add(at, `'${p.key}' is managed by TrueNAS, use the '${managed}' field to set it.`);
    else if (p.key.length > 255 || !/^[a-z0-9:._-]+$/.test(p.key) || !p.key.includes(':')) v.add(at, `'${p.key}' is not a valid ZFS user property name.`);
    else if (seen.has(p.key)) v.add(at, `'${p.key}' is specified more than once.`);
    else seen.add(p.key);
  });
}

/** Record sizes this ZFS takes: powers of two from 512 to 128K (1M with large_blocks), as TrueNAS's choices ("64K"). */
export function recordsizeChoices(dialect: Dialect): string[] {
  const max = dialect.features.includes('large_blocks') ? 1024 * 1024 : 128 * 1024;
  const out: string[] = [];
  for (let n = 512; n <= max; n *= 2) out.push(n >= 1024 * 1024 ? `${n / (1024 * 1024)}M` : n >= 1024 ? `${n / 1024}K` : String(n));
  return out;
}
