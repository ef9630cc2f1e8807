// Block devices as sysfs describes them (<sysRoot>/block/<name>/...), read without udev,
// smartctl or ioctls so the same code runs on the real /sys and on a fake tree in a test.
// Which devices count as disks follows TrueNAS (utils/disks_/disk_class.py VALID_WHOLE_DISK);
// loop devices are added only when asked (labs and tests build pools on them).
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface BlockDevice {
  /** TrueNAS's key: {serial_lunid}<serial>_<lunid>, {serial}<serial> or {devicename}<name>. */
  identifier: string;
  name: string;
  devname: string;
  /** Bus the device hangs off (the parent device's subsystem: scsi, nvme, virtio, ...), '' for virtual devices. */
  subsystem: string;
  /** Device number as makedev(major, minor). */
  number: number;
  serial: string | null;
  /** The WWN (sysfs wwid without its naa./eui./0x prefix), else null. */
  lunid: string | null;
  /** Bytes. */
  size: number;
  model: string | null;
  vendor: string | null;
  description: string;
  /** Spindle speed; sysfs does not know it (TrueNAS asks the drive), so always null here. */
  rotationrate: number | null;
  type: 'HDD' | 'SSD';
  bus: string;
  /** Partitions of the disk, e.g. ["sda1", "sda2"]. */
  partitions: string[];
  /** A loop device's backing file, else null. */
  backingFile: string | null;
  readOnly: boolean;
}

export interface ReadOptions {
  /** Include bound loop devices (loopN with a backing file). */
  includeLoop?: boolean;
}

/** sda, vda, xvda, nvme0n1, pmem0 — whole disks, not partitions (TrueNAS VALID_WHOLE_DISK). */
export const WHOLE_DISK = /^(?:sd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+|pmem\d+)$/;
const LOOP = /^loop\d+$/;

async function text(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function bytes(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch {
    return null;
  }
}

/** glibc makedev(): the number TrueNAS reports as `number`. */
export function makedev(major: number, minor: number): number {
  return Number(((BigInt(major) & 0xfffn) << 8n) | (BigInt(minor) & 0xffn) | ((BigInt(minor) & ~0xffn) << 12n) | ((BigInt(major) & ~0xfffn) << 32n));
}

// Characters that break JSON or are invalid in a SCSI serial (TrueNAS strips the same).
const SERIAL_STRIP = /[\x00-\x1f\x7f"\\]/g;

/** Unit Serial Number VPD page 0x80: 4-byte header, length in byte 3, then ASCII. */
export function serialFromVpd80(raw: Buffer): string | null {
  if (raw.length < 4) return null;
  const len = Math.min(raw[3]!, raw.length - 4);
  const s = raw.subarray(4, 4 + len).toString('latin1').replace(SERIAL_STRIP, '').trim();
  return s === '' ? null : s;
}

/** sysfs wwid -> lunid as TrueNAS (and udev's ID_WWN) form it: prefix stripped, NAA cut to 16 hex digits. */
export function lunidFromWwid(wwid: string | null): string | null {
  if (wwid === null) return null;
  let w = wwid.trim().toLowerCase();
  const prefix = ['naa.', '0x', 'eui.'].find((p) => w.startsWith(p));
  if (prefix === undefined) return null; // t10.* and others are not WWNs
  w = w.slice(prefix.length).replace(/ /g, '');
  if (prefix !== 'eui.' && w.length > 16 && /^[0-9a-f]{16}/.test(w)) w = w.slice(0, 16);
  return w === '' ? null : w;
}

async function readSerial(dir: string): Promise<string | null> {
  for (const f of ['device/serial', 'serial']) {
    const s = await text(join(dir, f));
    if (s) return s.replace(SERIAL_STRIP, '').trim() || null;
  }
  const vpd = await bytes(join(dir, 'device/vpd_pg80'));
  if (vpd) {
    const s = serialFromVpd80(vpd);
    if (s) return s;
  }
  const uuid = await text(join(dir, 'uuid'));
  return uuid ? uuid : null;
}

async function readOne(sysRoot: string, name: string): Promise<BlockDevice | null> {
  const dir = join(sysRoot, 'block', name);
  const sectors = Number(await text(join(dir, 'size')));
  const loopBacking = LOOP.test(name) ? await text(join(dir, 'loop/backing_file')) : null;
  if (LOOP.test(name) && loopBacking === null) return null; // an unbound loop device
  if (!Number.isFinite(sectors) || sectors <= 0) return null; // no medium (empty card reader, unbound device)
  const [maj, min] = ((await text(join(dir, 'dev'))) ?? '0:0').split(':').map(Number);
  let subsystem = '';
  try {
    subsystem = basename(await readlink(join(dir, 'device/subsystem')));
  } catch {
    // virtual devices (loop, zram) have no parent device
  }
  const serial = await readSerial(dir);
  const lunid = lunidFromWwid((await text(join(dir, 'device/wwid'))) ?? (await text(join(dir, 'wwid'))));
  const model = (await text(join(dir, 'device/model'))) || null;
  const vendor = (await text(join(dir, 'device/vendor'))) || null;
  const partitions: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith(name) && e.name !== name && (e.isDirectory() || e.isSymbolicLink())) {
      if ((await text(join(dir, e.name, 'partition'))) !== null) partitions.push(e.name);
    }
  }
  partitions.sort();
  const identifier = serial && lunid ? `{serial_lunid}${serial}_${lunid}` : serial ? `{serial}${serial}` : `{devicename}${name}`;
  return {
    identifier,
    name,
    devname: name,
    subsystem,
    number: makedev(maj ?? 0, min ?? 0),
    serial,
    lunid,
    size: sectors * 512,
    model,
    vendor,
    description: model ?? '',
    rotationrate: null,
    type: (await text(join(dir, 'queue/rotational'))) === '1' ? 'HDD' : 'SSD',
    bus: name.startsWith('nvme') ? 'NVME' : 'UNKNOWN',
    partitions,
    backingFile: loopBacking,
    readOnly: (await text(join(dir, 'ro'))) === '1',
  };
}

/** The disks under <sysRoot>/block (sysRoot is "/sys" on a real system), sorted by name. */
export async function readBlockDevices(sysRoot = '/sys', o: ReadOptions = {}): Promise<BlockDevice[]> {
  let names: string[];
  try {
    names = await readdir(join(sysRoot, 'block'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const wanted = names.filter((n) => WHOLE_DISK.test(n) || (o.includeLoop === true && LOOP.test(n)));
  const found = await Promise.all(wanted.map(async (n) => {
    try {
      await stat(join(sysRoot, 'block', n));
      return await readOne(sysRoot, n);
    } catch (e) {
      // A device that vanished while being read is not a disk any more.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }));
  return found.filter((d): d is BlockDevice => d !== null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
