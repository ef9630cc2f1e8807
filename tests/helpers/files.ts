// Files for the storage tests and bench: random data written through to the disk, a tree's files
// by SHA-256 (what a replication or a rollback must keep), and damage to a vdev's backing file
// that spares its labels (what a scrub must find and repair).
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const MiB = 1024 * 1024;
/** ZFS keeps two 256 KiB labels at each end of a vdev. */
const LABELS = 512 * 1024;

/** `mib` MiB of random bytes, synced; the file is closed even on failure (an open file keeps its dataset busy). */
export async function writeRandom(path: string, mib: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) await fh.write(randomBytes(MiB));
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Every regular file under `dir` (relative path) -> the SHA-256 of its content. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out[relative(dir, p)] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  }
  await walk(dir);
  return out;
}

/** Overwrites a vdev's backing file (`size` bytes) with random bytes between its front and back labels. */
export async function corruptBetweenLabels(file: string, size: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    for (let off = LABELS + MiB; off + MiB <= size - LABELS - MiB; off += MiB) await fh.write(randomBytes(MiB), 0, MiB, off);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
