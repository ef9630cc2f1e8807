// The web shell starts the daemon user's login shell, which reads that user's dotfiles. On a
// shared machine those are not the test's to trust: root's .bashrc here runs `pyenv rehash`,
// which waits a minute on a lock any killed shell leaves behind. Shell tests give the daemon a
// fresh, empty HOME, so they test the daemon's shell and not somebody's dotfiles.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Points HOME (what the daemon's shells start in and read) at a new empty directory; the function returned undoes it. */
export async function useEmptyHome(): Promise<() => Promise<void>> {
  const before = process.env.HOME;
  const home = await mkdtemp(join(tmpdir(), 'midship-shell-home-'));
  process.env.HOME = home;
  return async () => {
    if (before === undefined) delete process.env.HOME;
    else process.env.HOME = before;
    await rm(home, { recursive: true, force: true });
  };
}
