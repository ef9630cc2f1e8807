// `zfs get -H -p` rows -> TrueNAS pool.dataset.query items: each property as
// {parsed, rawvalue, value, source, source_info} with TrueNAS's conversions
// (plugins/pool_/dataset_query_utils.py normalize_zfs_properties), the properties TrueNAS
// manages as user properties under their API names (comments, quota_warning, ...), and the
// children nested by name.
import type { DatasetEntryT, DatasetPropertyT } from '../../schemas/pool_dataset.js';
import type { PropertySourceKind, PropertyTable, PropertyValue } from './types.js';
import { formatSize } from './units.js';

/** ZFS name -> TrueNAS field name, where they differ. */
const RENAMED: Record<string, string> = {
  dedup: 'deduplication',
  encryption: 'encryption_algorithm',
  keyformat: 'key_format',
  special_small_blocks: 'special_small_block_size',
};

/** User properties TrueNAS shows as fields of their own instead of under user_properties. */
export const MANAGED_USER_PROPERTIES: Record<string, string> = {
  'org.freenas:description': 'comments',
  'org.freenas:quota_warning': 'quota_warning',
  'org.freenas:quota_critical': 'quota_critical',
  'org.freenas:refquota_warning': 'refquota_warning',
  'org.freenas:refquota_critical': 'refquota_critical',
  'org.truenas:managedby': 'managedby',
};

/** The ZFS properties a default pool.dataset.query item carries (TrueNAS BASE_FS_PROPS / BASE_VOL_PROPS). */
export const BASE_PROPERTIES = [
  'available', 'checksum', 'compression', 'compressratio', 'copies', 'creation', 'dedup', 'encryption',
  'keyformat', 'origin', 'pbkdf2iters', 'readonly', 'refreservation', 'reservation', 'snapdev', 'sync',
  'used', 'usedbychildren', 'usedbydataset', 'usedbyrefreservation', 'usedbysnapshots', 'special_small_blocks',
];
export const BASE_FILESYSTEM_PROPERTIES = [...BASE_PROPERTIES, 'aclmode', 'acltype', 'atime', 'casesensitivity', 'exec', 'mountpoint', 'quota', 'recordsize', 'refquota', 'snapdir', 'xattr'];
export const BASE_VOLUME_PROPERTIES = [...BASE_PROPERTIES, 'volblocksize', 'volsize'];

const SIZE = new Set(['used', 'usedbychildren', 'usedbydataset', 'usedbyrefreservation', 'usedbysnapshots', 'available', 'quota', 'refquota', 'reservation', 'refreservation', 'volsize']);
const BOOLEAN = new Set(['checksum', 'atime', 'devices', 'exec', 'setuid', 'readonly', 'jailed', 'canmount', 'xattr', 'utf8only', 'vscan', 'nbmand']);
const INTEGER = new Set(['used', 'available', 'referenced', 'recordsize', 'copies', 'version', 'usedbysnapshots', 'usedbydataset', 'usedbychildren', 'usedbyrefreservation', 'written', 'logicalused', 'logicalreferenced', 'volsize', 'volblocksize', 'filesystem_limit', 'snapshot_limit', 'filesystem_count', 'snapshot_count', 'special_small_block_size']);
const ZERO_IS_NONE = new Set(['quota', 'reservation', 'refquota', 'refreservation']);
const STRING = new Set(['compression', 'snapdir', 'aclmode', 'aclinherit', 'normalization', 'casesensitivity', 'sharesmb', 'sharenfs', 'primarycache', 'secondarycache', 'logbias', 'deduplication', 'mislabel', 'sync', 'refcompressratio', 'compressratio', 'volmode', 'redundant_metadata', 'type', 'mountpoint', 'pbkdf2iters', 'encryption_algorithm', 'key_format', 'origin']);

/** TrueNAS's creation `value`: local time, "%a %b %d %H:%M %Y" with the hour padded by a space. */
function creationText(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const h = d.getHours();
  return `${day} ${mon} ${String(d.getDate()).padStart(2, '0')} ${h < 10 ? ` ${h}` : h}:${String(d.getMinutes()).padStart(2, '0')} ${d.getFullYear()}`;
}

/** "131072" -> "128K" (TrueNAS's recordsize / volblocksize value). */
function blockText(n: number): string {
  if (n >= 1024 * 1024) return `${Math.trunc(n / (1024 * 1024))}M`;
  if (n >= 1024) return `${Math.trunc(n / 1024)}K`;
  return String(n);
}

/** One property in TrueNAS's form; `name` is the TrueNAS field name. */
export function mapProperty(name: string, pv: PropertyValue): DatasetPropertyT {
  let raw: string = pv.raw;
  const source: PropertySourceKind = pv.source;
  const out = (parsed: unknown, value: string | null, rawvalue: string | null = raw): DatasetPropertyT => ({ parsed, rawvalue, value, source, source_info: pv.from });
  if (name === 'creation') {
    const secs = Number(raw);
    if (/^\d+$/.test(raw)) return out({ $date: secs * 1000 }, creationText(secs * 1000));
    return out(raw, raw.toUpperCase());
  }
  if (BOOLEAN.has(name)) return out(raw === 'on' ? true : raw === 'off' ? false : null, raw.toUpperCase());
  if (ZERO_IS_NONE.has(name)) {
    if (raw === '0' || raw === 'none') return out(null, null);
    const n = Number(raw);
    return /^\d+$/.test(raw) ? out(n, formatSize(n)) : out(raw, raw.toUpperCase());
  }
  if (STRING.has(name)) {
    if (name === 'compressratio' || name === 'refcompressratio') {
      // `zfs get -p` prints "1.00" on OpenZFS and "1.00x" on zfs-fuse; TrueNAS's raw has no "x".
      raw = raw.replace(/x$/, '');
      return out(raw, `${raw}x`, raw);
    }
    if (name === 'encryption_algorithm' && raw === 'off') return out(raw, null);
    if (name === 'key_format' && raw === 'none') return out('none', null);
    if (name === 'origin' && (raw === 'none' || raw === '-' || raw === '')) return out('', '', '');
    return out(raw, raw.toUpperCase());
  }
  if (INTEGER.has(name) && /^\d+$/.test(raw)) {
    const n = Number(raw);
    if (name === 'recordsize' || name === 'volblocksize') return out(n, blockText(n));
    return out(n, SIZE.has(name) ? formatSize(n) : raw.toUpperCase());
  }
  return out(raw, raw.toUpperCase());
}

/** A user property: its value as is, with its real source. */
function mapUserProperty(pv: PropertyValue): DatasetPropertyT {
  return { parsed: pv.raw, rawvalue: pv.raw, value: pv.raw, source: pv.source, source_info: pv.from };
}

export interface DatasetMapOptions {
  /** ZFS property names to map; default: TrueNAS's base set for the dataset's type. */
  properties?: readonly string[];
  /** Include user_properties (default true). */
  userProperties?: boolean;
}

/** One dataset's `zfs get` row -> a pool.dataset.query item (children empty). */
export function mapDataset(name: string, props: Map<string, PropertyValue>, o: DatasetMapOptions = {}): DatasetEntryT {
  const zfsType = props.get('type')?.raw ?? 'filesystem';
  const type = zfsType === 'volume' ? 'VOLUME' : 'FILESYSTEM';
  const wanted = o.properties ?? (type === 'VOLUME' ? BASE_VOLUME_PROPERTIES : BASE_FILESYSTEM_PROPERTIES);
  const entry: DatasetEntryT = {
    id: name,
    name,
    pool: name.split('/')[0]!,
    type,
    // No encryption is mapped yet: the installed ZFS may not have it (zfs-fuse); when a
    // dataset reports an encryption root, it is shown.
    encrypted: false,
    encryption_root: null,
    key_loaded: false,
    locked: false,
    mountpoint: null,
    user_properties: {},
    children: [],
  };
  for (const zname of wanted) {
    const pv = props.get(zname);
    if (pv === undefined || zname.includes(':')) continue;
    // Fields of the item itself, not properties: asking for them must not replace them.
    if (zname === 'mountpoint' || zname === 'type' || zname === 'name') continue;
    entry[RENAMED[zname] ?? zname] = mapProperty(RENAMED[zname] ?? zname, pv);
  }
  const er = props.get('encryptionroot')?.raw;
  const enc = props.get('encryption')?.raw;
  if (enc !== undefined && enc !== 'off' && enc !== '-') {
    entry.encrypted = true;
    entry.encryption_root = er && er !== '-' ? er : null;
    const ks = props.get('keystatus')?.raw;
    entry.key_loaded = ks === 'available';
    entry.locked = ks !== undefined && ks !== 'available';
  }
  const mp = props.get('mountpoint')?.raw;
  entry.mountpoint = type === 'VOLUME' || mp === undefined || mp === '-' ? null : mp;
  for (const [k, pv] of props) {
    if (!k.includes(':')) continue;
    const managed = MANAGED_USER_PROPERTIES[k];
    if (managed !== undefined) entry[managed] = mapUserProperty(pv);
    else if (o.userProperties !== false) entry.user_properties[k] = mapUserProperty(pv);
  }
  return entry;
}

/**
 * All filesystems and volumes of a `zfs get` table (snapshots are skipped), either flat or
 * nested: each item's `children` holds its direct children, and only items whose parent is
 * not in the table are returned at the top.
 */
export function mapDatasets(table: PropertyTable, o: DatasetMapOptions & { flat?: boolean } = {}): DatasetEntryT[] {
  const items: DatasetEntryT[] = [];
  const byName = new Map<string, DatasetEntryT>();
  for (const [name, props] of table) {
    if (name.includes('@')) continue;
    const t = props.get('type')?.raw;
    if (t === 'snapshot' || t === 'bookmark') continue;
    const item = mapDataset(name, props, o);
    items.push(item);
    byName.set(name, item);
  }
  if (o.flat) return items;
  const roots: DatasetEntryT[] = [];
  for (const item of items) {
    const parent = byName.get(item.id.slice(0, Math.max(0, item.id.lastIndexOf('/'))));
    if (parent && item.id.includes('/')) parent.children.push(item);
    else roots.push(item);
  }
  return roots;
}
