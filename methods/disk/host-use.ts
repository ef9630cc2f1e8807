// Disks the host itself uses, whatever ZFS says: one with a mounted file system (on the disk or
// on one of its partitions, the root disk among them), one used as swap, and one another block
// device is stacked on (LVM, md, dm-crypt: sysfs `holders/`). TrueNAS never sees these (its boot
// disk is in boot-pool); on any other Linux host, listing them as unused would let pool.create
// wipe the disk the system runs from.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlockDevice } from './sysfs.js';

async function text(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** "maj:min" of every mounted block device (field 3 of mountinfo). */
export function mountedDevices(mountinfo: string): Set<string> {
  const out = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const dev = line.split(' ')[2];
    if (dev !== undefined && /^\d+:\d+$/.test(dev)) out.add(dev);
  }
  return out;
}

/** Device names (without /dev/) of the swap areas that are devices, not files. */
export function swapDevices(swaps: string): Set<string> {
  const out = new Set<string>();
  for (const line of swaps.split('\n').slice(1)) {
    const [file, type] = line.trim().split(/\s+/);
    if (file?.startsWith('/dev/') && type === 'partition') out.add(file.slice('/dev/'.length));
  }
  return out;
}

/** Disk name -> why the host uses it, for the disks that it does use. */
export async function hostUse(disks: readonly BlockDevice[], o: { sysRoot?: string; procRoot?: string } = {}): Promise<Map<string, string>> {
  const sys = o.sysRoot ?? '/sys';
  const proc = o.procRoot ?? '/proc';
  const mounted = mountedDevices((await text(join(proc, 'self/mountinfo'))) ?? '');
  const swap = swapDevices((await text(join(proc, 'swaps'))) ?? '');
  const out = new Map<string, string>();
  for (const d of disks) {
    for (const [name, dir] of [[d.name, join(sys, 'block', d.name)], ...d.partitions.map((p) => [p, join(sys, 'block', d.name, p)])] as Array<[string, string]>) {
      const dev = (await text(join(dir, 'dev')))?.trim();
      const holders = await entries(join(dir, 'holders'));
      const why = dev !== undefined && mounted.has(dev) ? `${name} is mounted`
        : swap.has(name) ? `${name} is swap`
        : holders.length > 0 ? `${name} holds ${holders.sort().join(', ')}`
        : null;
      if (why !== null) {
        out.set(d.name, why);
        break;
      }
    }
  }
  return out;
}
