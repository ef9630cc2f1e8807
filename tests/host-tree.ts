// Fake /proc and /sys trees for the host reader tests: files, directories and symbolic links
// written under a temp root, then read through the same readers as the real host.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Path -> file text; a value of { link } makes a symbolic link, { dir: true } an empty directory. */
export type TreeSpec = Record<string, string | { link: string } | { dir: true }>;

export async function makeTree(spec: TreeSpec): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'midship-host-'));
  await writeTree(root, spec);
  return root;
}

/** Writes (or rewrites in place: same inode, as procfs counters change) the files of `spec`. */
export async function writeTree(root: string, spec: TreeSpec): Promise<void> {
  for (const [path, value] of Object.entries(spec)) {
    const full = join(root, path);
    if (typeof value === 'object' && 'dir' in value) {
      await mkdir(full, { recursive: true });
      continue;
    }
    await mkdir(dirname(full), { recursive: true });
    if (typeof value === 'string') await writeFile(full, value);
    else await symlink(value.link, full).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
  }
}

export async function removeTree(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

/** A /proc/stat with the given ticks per line: [user, nice, system, idle, iowait, irq, softirq, steal]. */
export function procStat(lines: Record<string, number[]>): string {
  const body = Object.entries(lines).map(([name, t]) => `${name.padEnd(4)} ${[...t, 0, 0].join(' ')}`).join('\n');
  return `${body}\nintr 1 2 3\nctxt 100\nbtime 1700000000\nprocesses 10\n`;
}
