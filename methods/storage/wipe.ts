// "Formatting" and "cleaning" a disk as TrueNAS's quick wipe does: zeroes over the first and the
// last MiB, where ZFS keeps its four labels (two of 256 KiB at each end) and partition tables
// live. Only ever called on disks checked to be free (pool.create) or just destroyed (pool.export
// with destroy).
import { open } from 'node:fs/promises';

const SPAN = 1024 * 1024;

export async function wipeLabels(device: string, size: number): Promise<void> {
  const fh = await open(device, 'r+');
  try {
    const zeros = Buffer.alloc(Math.min(SPAN, size));
    await fh.write(zeros, 0, zeros.length, 0);
    if (size > SPAN) await fh.write(zeros, 0, zeros.length, size - zeros.length);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
