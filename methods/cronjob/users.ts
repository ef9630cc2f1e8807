// Whom a command runs as. When the daemon is root it switches to the cron job's user (uid and
// primary gid; supplementary groups are dropped, as setuid spawning does); otherwise it can only
// run commands as itself and says so.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { CallError, ERRNO } from '../../daemon/errors.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function parsePasswdLine(line: string): PasswdEntry | null {
  const f = line.split(':');
  if (f.length < 7) return null;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!f[0] || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || f[2] === '' || f[3] === '') return null;
  return { name: f[0], uid, gid, home: f[5] ?? '/', shell: f[6] ?? '/bin/sh' };
}

function getent(name: string): Promise<PasswdEntry | null | undefined> {
  // undefined: getent itself is unavailable (fall back to /etc/passwd).
  return new Promise((resolve) => {
    execFile('getent', ['passwd', '--', name], { timeout: 10_000 }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve(code === 'ENOENT' ? undefined : null);
        return;
      }
      const entry = parsePasswdLine(stdout.trim().split('\n')[0] ?? '');
      resolve(entry?.name === name ? entry : null);
    });
  });
}

/** The account `name` (through NSS when getent exists, else /etc/passwd); null when there is none. */
export async function lookupUser(name: string): Promise<PasswdEntry | null> {
  const viaNss = await getent(name);
  if (viaNss !== undefined) return viaNss;
  try {
    for (const line of (await readFile('/etc/passwd', 'utf8')).split('\n')) {
      const e = parsePasswdLine(line);
      if (e?.name === name) return e;
    }
  } catch {
    // no passwd file: nobody exists
  }
  return null;
}

export interface CurrentUser {
  uid: number;
  name: string;
}

export function currentUser(): CurrentUser {
  return { uid: process.getuid?.() ?? -1, name: userInfo().username };
}

/** spawn() credentials for running as `target`; throws EPERM when that needs root and we are not. */
export function runAsPlan(target: PasswdEntry, current: CurrentUser): { uid?: number; gid?: number } {
  if (current.uid === 0) return target.uid === 0 ? {} : { uid: target.uid, gid: target.gid };
  if (target.uid === current.uid) return {};
  throw new CallError(
    `Cannot run commands as user "${target.name}": the daemon runs as "${current.name}" (uid ${current.uid}), not as root, so it can only run commands as "${current.name}"`,
    ERRNO.EPERM,
  );
}
