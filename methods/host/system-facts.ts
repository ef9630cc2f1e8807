// What system.info says about the machine (MODULES.md §1), read from procfs and sysfs. Fields the
// host cannot answer are null: DMI is absent in most VMs and containers, product_serial is
// readable by root only.
import { createHash } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { toSource, type FileSource, type HostRoot } from './files.js';
import { readMemory } from './memory.js';
import { timedeltaText } from './timedelta.js';
import { readCpuTopology } from './topology.js';

export interface SystemFacts {
  hostname: string;
  /** Bytes (MemTotal × 1024). */
  physmem: number | null;
  model: string | null;
  /** Online logical CPUs. */
  cores: number | null;
  physical_cores: number | null;
  loadavg: [number, number, number] | null;
  uptime_seconds: number | null;
  /** Python timedelta text of uptime_seconds. */
  uptime: string | null;
  /** Epoch milliseconds (the caller encodes it as {"$date": ...}). */
  boottime: number | null;
  datetime: number;
  timezone: string;
  system_serial: string | null;
  system_product: string | null;
  system_product_version: string | null;
  system_manufacturer: string | null;
  ecc_memory: boolean;
  boot_id: string | null;
  host_id: string | null;
}

export interface SystemFactsOptions {
  /** Epoch ms; tests pass a fixed clock. */
  now?: () => number;
  /** A durable id the caller generated and stored, used when the host has no /etc/hostid or /etc/machine-id. */
  fallbackHostId?: string | null;
}

export async function readLoadAvg(root: HostRoot = '/'): Promise<[number, number, number] | null> {
  const text = await toSource(root).read('/proc/loadavg');
  const f = text?.trim().split(/\s+/).slice(0, 3).map(Number);
  return f && f.length === 3 && f.every(Number.isFinite) ? [f[0]!, f[1]!, f[2]!] : null;
}

/** Seconds since boot (/proc/uptime, CLOCK_BOOTTIME). */
export async function readUptime(root: HostRoot = '/'): Promise<number | null> {
  const text = await toSource(root).read('/proc/uptime');
  const n = text === null ? NaN : Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** The CPU model: "model name" on x86, "Processor"/"cpu model" on older ARM and MIPS kernels. */
export function cpuModel(cpuinfo: string | null): string | null {
  if (cpuinfo === null) return null;
  for (const key of ['model name', 'Processor', 'cpu model']) {
    const m = new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo);
    if (m && m[1]!.trim() !== '') return m[1]!.trim();
  }
  return null;
}

async function readTimezone(files: FileSource): Promise<string> {
  const file = (await files.read('/etc/timezone'))?.trim();
  if (file) return file;
  const link = await files.link('/etc/localtime');
  const zone = link?.split('zoneinfo/')[1];
  if (zone) return zone;
  if (files.root === '/') {
    const intl = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (intl) return intl;
  }
  return 'UTC';
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** sha256 hex of /etc/hostid (what TrueNAS reports), else of /etc/machine-id, else of the caller's id. */
async function readHostId(files: FileSource, fallback: string | null): Promise<string | null> {
  const hostid = await files.read('/etc/hostid');
  if (hostid !== null) {
    // The file is 4 binary bytes; read() gave latin1, which maps back to the same bytes.
    const bytes = Buffer.from(hostid, 'latin1');
    let start = 0;
    let end = bytes.length;
    const space = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);
    while (start < end && space(bytes[start]!)) start++;
    while (end > start && space(bytes[end - 1]!)) end--;
    if (end > start) return sha256(bytes.subarray(start, end));
  }
  // Hashed, never raw: machine-id(5) asks that the id itself not be exposed.
  const machineId = (await files.read('/etc/machine-id'))?.trim();
  if (machineId) return sha256(machineId);
  return fallback ? sha256(fallback) : null;
}

async function dmi(files: FileSource, name: string): Promise<string | null> {
  const v = (await files.read(`/sys/class/dmi/id/${name}`))?.trim();
  return v ? v : null;
}

/** ECC is on when the kernel registered an EDAC memory controller (DMI type 16 is not in sysfs). */
async function eccMemory(files: FileSource): Promise<boolean> {
  const mcs = await files.list('/sys/devices/system/edac/mc');
  return (mcs ?? []).some((n) => /^mc\d+$/.test(n));
}

export async function readSystemFacts(root: HostRoot = '/', options: SystemFactsOptions = {}): Promise<SystemFacts> {
  const files = toSource(root);
  const now = (options.now ?? Date.now)();
  const [kernelHostname, memory, cpuinfo, topology, loadavg, uptime, timezone, serial, product, productVersion, vendor, ecc, bootId, hostId] =
    await Promise.all([
      files.read('/proc/sys/kernel/hostname'),
      readMemory(files),
      files.read('/proc/cpuinfo'),
      readCpuTopology(files),
      readLoadAvg(files),
      readUptime(files),
      readTimezone(files),
      dmi(files, 'product_serial'),
      dmi(files, 'product_name'),
      dmi(files, 'product_version'),
      dmi(files, 'sys_vendor'),
      eccMemory(files),
      files.read('/proc/sys/kernel/random/boot_id'),
      readHostId(files, options.fallbackHostId ?? null),
    ]);
  return {
    hostname: kernelHostname?.trim() || osHostname(),
    physmem: memory?.total ?? null,
    model: cpuModel(cpuinfo),
    cores: topology ? topology.logical.length : null,
    physical_cores: topology ? topology.physical.length : null,
    loadavg,
    uptime_seconds: uptime,
    uptime: uptime === null ? null : timedeltaText(uptime),
    boottime: uptime === null ? null : Math.round(now - uptime * 1000),
    datetime: now,
    timezone,
    system_serial: serial,
    system_product: product,
    system_product_version: productVersion,
    system_manufacturer: vendor,
    ecc_memory: ecc,
    boot_id: bootId?.trim() || null,
    host_id: hostId,
  };
}
