// ZFS's naming rules (OpenZFS module/zcommon/zfs_namecheck.c and libzfs zpool_name_valid),
// checked before any command runs. Each check names the field it refuses, so a hostile name
// (leading dash, newline, a second '@') never reaches argv as an option or a second operand.
import { ZfsInputError } from './errors.js';

/** ZFS_MAX_DATASET_NAME_LEN: names are shorter than this. */
export const MAX_NAME_LEN = 256;
/** A user property value is stored in a ZAP entry of at most this many bytes. */
export const MAX_PROPERTY_VALUE_LEN = 8191;

const VALID_CHAR = /^[A-Za-z0-9_.: -]$/;
const RESERVED_POOL_PREFIXES = ['mirror', 'raidz', 'draid', 'spare'];

function badChar(s: string, extra = ''): string | null {
  for (const c of s) {
    if (!VALID_CHAR.test(c) && !extra.includes(c)) return c;
  }
  return null;
}

function describe(c: string): string {
  const code = c.codePointAt(0)!;
  return code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).padStart(4, '0')}` : `'${c}'`;
}

export function checkPoolName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ZfsInputError(field, 'pool name must be a non-empty string');
  if (name.length >= MAX_NAME_LEN - 2 - 2 * '$ORIGIN'.length) throw new ZfsInputError(field, 'pool name is too long');
  const c = badChar(name);
  if (c !== null) throw new ZfsInputError(field, `invalid character ${describe(c)} in pool name`);
  if (!/^[A-Za-z]/.test(name)) throw new ZfsInputError(field, 'pool name must begin with a letter');
  if (RESERVED_POOL_PREFIXES.some((p) => name.startsWith(p)) || name === 'log') {
    throw new ZfsInputError(field, `pool name '${name}' is reserved`);
  }
  return name;
}

/** One component: a dataset path element or a snapshot name (the part after '@'). */
export function checkComponent(field: string, component: unknown, what = 'name'): string {
  if (typeof component !== 'string' || component === '') throw new ZfsInputError(field, `${what} must be a non-empty string`);
  if (component.length >= MAX_NAME_LEN) throw new ZfsInputError(field, `${what} is too long`);
  const c = badChar(component, '%');
  if (c !== null) throw new ZfsInputError(field, `invalid character ${describe(c)} in ${what}`);
  if (component === '.' || component === '..') throw new ZfsInputError(field, `${what} cannot be '${component}'`);
  return component;
}

function checkPath(field: string, path: string): void {
  if (path.startsWith('/')) throw new ZfsInputError(field, 'name must not begin with a slash');
  if (path.endsWith('/')) throw new ZfsInputError(field, 'name must not end with a slash');
  const parts = path.split('/');
  checkPoolName(field, parts[0]);
  for (const p of parts.slice(1)) {
    if (p === '') throw new ZfsInputError(field, 'name has an empty component');
    checkComponent(field, p, 'dataset name component');
  }
  if (parts.length - 1 > 50) throw new ZfsInputError(field, 'dataset is nested too deeply');
}

/** A filesystem or volume: `pool[/child...]`. */
export function checkDatasetName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ZfsInputError(field, 'dataset name must be a non-empty string');
  if (name.length >= MAX_NAME_LEN) throw new ZfsInputError(field, 'dataset name is too long');
  if (name.includes('@')) throw new ZfsInputError(field, "a dataset name cannot contain '@'");
  if (name.includes('#')) throw new ZfsInputError(field, "a dataset name cannot contain '#'");
  checkPath(field, name);
  return name;
}

/** A snapshot: `dataset@snap`. */
export function checkSnapshotName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ZfsInputError(field, 'snapshot name must be a non-empty string');
  if (name.length >= MAX_NAME_LEN) throw new ZfsInputError(field, 'snapshot name is too long');
  const at = name.indexOf('@');
  if (at < 0) throw new ZfsInputError(field, "a snapshot name needs '@' (dataset@snapshot)");
  if (name.indexOf('@', at + 1) >= 0) throw new ZfsInputError(field, "a snapshot name has one '@'");
  if (name.includes('#')) throw new ZfsInputError(field, "a snapshot name cannot contain '#'");
  checkPath(field, name.slice(0, at));
  checkComponent(field, name.slice(at + 1), 'snapshot name');
  return name;
}

/** A dataset or a snapshot. */
export function checkDatasetOrSnapshotName(field: string, name: unknown): string {
  return typeof name === 'string' && name.includes('@') ? checkSnapshotName(field, name) : checkDatasetName(field, name);
}

/** A user hold tag (`zfs hold TAG snap`): free text, but never an option and never a line break. */
export function checkHoldTag(field: string, tag: unknown): string {
  if (typeof tag !== 'string' || tag === '') throw new ZfsInputError(field, 'hold tag must be a non-empty string');
  if (tag.length >= MAX_NAME_LEN) throw new ZfsInputError(field, 'hold tag is too long');
  if (tag.startsWith('-')) throw new ZfsInputError(field, "hold tag must not begin with '-'");
  if (/[\x00-\x1f\x7f]/.test(tag)) throw new ZfsInputError(field, 'hold tag must not contain control characters');
  return tag;
}

/** A native property (`compression`) or a user property (`org.example:note`). */
export function checkPropertyName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ZfsInputError(field, 'property name must be a non-empty string');
  if (name.length >= MAX_NAME_LEN) throw new ZfsInputError(field, 'property name is too long');
  if (name.includes(':')) {
    if (!/^[a-z0-9_.:-]+$/.test(name)) {
      throw new ZfsInputError(field, 'a user property name may contain only lowercase letters, digits and : - . _');
    }
    if (name.startsWith('-')) throw new ZfsInputError(field, "property name must not begin with '-'");
    return name;
  }
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new ZfsInputError(field, `invalid property name '${name}'`);
  return name;
}

/** A property value: any text without control characters (output is parsed line by line and tab by tab). */
export function checkPropertyValue(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ZfsInputError(field, 'property value must be a string');
  if (value.length > MAX_PROPERTY_VALUE_LEN) throw new ZfsInputError(field, `property value is longer than ${MAX_PROPERTY_VALUE_LEN} characters`);
  if (/[\x00-\x1f\x7f]/.test(value)) throw new ZfsInputError(field, 'property value must not contain control characters (tab, newline, ...)');
  return value;
}

/** A device given to zpool: an absolute path, so it can never read as a keyword (`mirror`, `log`) or an option. */
export function checkDevicePath(field: string, path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new ZfsInputError(field, 'device must be a non-empty path');
  if (!path.startsWith('/')) throw new ZfsInputError(field, 'device must be an absolute path (for example /dev/sdb)');
  if (path.length > 4095) throw new ZfsInputError(field, 'device path is too long');
  if (/[\x00-\x1f\x7f]/.test(path)) throw new ZfsInputError(field, 'device path must not contain control characters');
  return path;
}

/** A directory for -R altroot, -m mountpoint or import -d. */
export function checkAbsolutePath(field: string, path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ZfsInputError(field, 'must be an absolute path');
  if (path.length > 4095) throw new ZfsInputError(field, 'path is too long');
  if (/[\x00-\x1f\x7f]/.test(path)) throw new ZfsInputError(field, 'path must not contain control characters');
  return path;
}

/** A pool guid: a decimal 64-bit number. */
export function checkGuid(field: string, guid: unknown): string {
  if (typeof guid !== 'string' || !/^[1-9][0-9]{0,19}$/.test(guid) || BigInt(guid) > 0xffffffffffffffffn) {
    throw new ZfsInputError(field, 'guid must be a decimal number of at most 64 bits');
  }
  return guid;
}
