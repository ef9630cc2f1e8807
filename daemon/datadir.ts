// The data dir at start: created private (0700), refused with the reason and the way out when it
// is not usable, locked against a second daemon before anything in it is touched, and every file
// in it made private (files 0600, directories 0700): it holds password hashes, API keys, cron
// environments and job logs, and any local user (or a cron job running as `nobody`) could read a
// 0644 file.
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, open, readFile, readdir, stat as statFollow, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DataDirError } from './errors.js';

const PID_FILE = 'midshipd.pid';

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** "running as uid 1000" and the owner, so a permission refusal says who should run it. */
async function whoCanUse(path: string): Promise<string> {
  const uid = process.getuid?.();
  const owner = await lstat(path).then((s) => s.uid, () => null);
  return `midshipd runs as uid ${uid ?? '?'}${owner === null ? '' : `, ${path} belongs to uid ${owner}`}`;
}

/** Refusal for EACCES/EPERM/EROFS on `path`. */
async function noPermission(path: string, err: unknown): Promise<DataDirError> {
  if (code(err) === 'EROFS') return new DataDirError(`${path} is on a read-only file system`, 'mount it read-write, or choose another --data-dir');
  return new DataDirError(
    `no permission to use ${path} (${code(err) ?? (err as Error).message}; ${await whoCanUse(path)})`,
    'run midshipd as the user that owns the data dir, or give that user read and write access to it (chown/chmod), or choose another --data-dir',
  );
}

/** Create the data dir (0700) or check that the existing one is a directory we may use. */
export async function prepareDataDir(dir: string): Promise<void> {
  let stat;
  try {
    stat = await lstat(dir);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw await noPermission(dir, err);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700); // mkdir's mode is filtered by the umask
    } catch (e) {
      throw code(e) === 'EACCES' || code(e) === 'EPERM' || code(e) === 'EROFS'
        ? await noPermission(dir, e)
        : new DataDirError(`cannot create the data dir ${dir}: ${(e as Error).message}`, 'create it yourself (mode 0700), or choose another --data-dir');
    }
    return;
  }
  if (stat.isSymbolicLink()) stat = await statFollow(dir).catch(() => null);
  if (stat === null || !stat.isDirectory()) {
    throw new DataDirError(`the data dir ${dir} is not a directory`, 'move that file away, or choose another --data-dir');
  }
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw await noPermission(dir, err);
  }
}

/** Whether `pid` is a live process that could be a midshipd (a node process). */
async function liveDaemon(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (code(err) !== 'EPERM') return false;
  }
  // A pid reused by some unrelated program is not a daemon holding the dir.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return cmdline === null || /node|midshipd/.test(cmdline);
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Take <dir>/midshipd.pid before touching anything else, so a second daemon refuses without
 * disturbing the first (its socket, its database lock, its files). A pid file whose process is
 * gone (kill -9, power cut) is stale and taken over; our own pid there is stale too (a restart
 * that got the same pid, as pid 1 in a container does); two daemons in one process are kept apart
 * by LevelDB's own lock.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const file = join(dir, PID_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // The pid, and a token so a release never removes a file another start wrote.
      const content = `${process.pid}\n${randomUUID()}\n`;
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      return {
        release: async () => {
          if ((await readFile(file, 'utf8').catch(() => '')) === content) await unlink(file).catch(() => undefined);
        },
      };
    } catch (err) {
      if (code(err) === 'EACCES' || code(err) === 'EPERM' || code(err) === 'EROFS') throw await noPermission(dir, err);
      if (code(err) !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && (await liveDaemon(pid))) break;
    await unlink(file).catch(() => undefined); // stale; a racing daemon may win the retry
  }
  const pid = (await readFile(file, 'utf8').catch(() => '?')).split('\n')[0];
  throw new DataDirError(
    `another midshipd (pid ${pid}) is using the data dir ${dir}`,
    `stop it first, or start this one with another --data-dir (if no such daemon runs, remove ${file})`,
  );
}

/** Written after a complete pass: from then on every file Midship creates is private already. */
const MODES_MARKER = '.modes-private-v1';

/**
 * Make every file below `dir` 0600 and every directory 0700 (sockets and symlinks are left as
 * they are). Returns how many entries were tightened, for the log line.
 *
 * The first pass visits everything. Later starts skip the contents of directories that are
 * still private (the job logs: a full walk of 100,000 files costs seconds at every start), but
 * always look at the top level and at db/, where LevelDB creates files with its own mode.
 */
export async function tightenModes(dir: string): Promise<number> {
  const marker = join(dir, MODES_MARKER);
  const full = (await lstat(marker).catch(() => null)) === null;
  let fixed = 0;
  const visit = async (path: string, isDir: boolean, depth: number): Promise<void> => {
    const st = await lstat(path).catch(() => null);
    if (st === null) return;
    const wanted = isDir ? 0o700 : 0o600;
    const loose = (st.mode & 0o777) !== wanted;
    if (loose) {
      await chmod(path, wanted).catch(() => undefined);
      fixed++;
    }
    if (!isDir || (!full && !loose && depth > 0 && !path.endsWith('/db'))) return;
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    await Promise.all(entries.map((e) => {
      if (e.isDirectory()) return visit(join(path, e.name), true, depth + 1);
      if (e.isFile()) return visit(join(path, e.name), false, depth + 1);
      return undefined;
    }));
  };
  await visit(dir, true, 0);
  if (full) await writeFile(marker, 'every file below this directory was made private (0600/0700)\n', { mode: 0o600 });
  return fixed;
}
