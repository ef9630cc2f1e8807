// Whom a command runs as, and who may decide that. When the daemon is root it switches to the
// cron job's user (uid and primary gid; supplementary groups are dropped, as setuid spawning
// does); otherwise it can only run commands as itself and says so.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { CallError, ERRNO, isFullAdmin, type Credentials, type CredentialType, type UserRecord } from '#midship/module-api';

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

// ---- who may make cron jobs run as whom ----
//
// A cron job's command runs as its OS user, so a cron job is as strong as that user. Running as
// root (uid 0), or as any user outside the allow-list the daemon was started with
// (--cron-users / MIDSHIP_CRON_USERS, empty by default), takes a full admin: only a FULL_ADMIN
// session may create or update such a cron job. The author is stored with the cron job and checked
// again at every run, so a job saved by an admin stops running as root once that admin is
// deleted, locked or no longer FULL_ADMIN, and a job saved before these rules never runs as root.

/** Who last saved a cron job (stored with it). */
export interface CronAuthor {
  type: CredentialType;
  username: string;
  /** Local user id; null for the unix-socket administrator and the daemon itself. */
  user_id: number | null;
  full_admin: boolean;
}

export function cronAuthor(c: Credentials | null): CronAuthor {
  if (c === null) return { type: 'INTERNAL', username: 'root', user_id: null, full_admin: true };
  return { type: c.type, username: c.username, user_id: c.userId, full_admin: isFullAdmin(c) };
}

/** Whether running as `target` takes a full admin. */
export function needsFullAdmin(target: PasswdEntry, allowed: readonly string[]): boolean {
  return target.uid === 0 || !allowed.includes(target.name);
}

export function runAsRefusalText(target: PasswdEntry, allowed: readonly string[]): string {
  const why = target.uid === 0 ? `${target.name} is uid 0` : `${target.name} is not among the users the daemon allows (--cron-users: ${allowed.length > 0 ? allowed.join(', ') : 'none'})`;
  return `Only a full admin can make a cron job run as ${target.name}: ${why}`;
}

/** null when the author of a cron job that needs a full admin still is one; else why not. */
export function authorRefusal(author: CronAuthor | undefined, users: { get(id: number): UserRecord | undefined }): string | null {
  if (author === undefined) return 'it was saved before run-as rules existed';
  if (!author.full_admin) return `it was last saved by ${author.username}, who was not a full admin`;
  if (author.user_id === null) return null;
  const u = users.get(author.user_id);
  if (u === undefined || u.username !== author.username) return `${author.username}, who last saved it, no longer exists`;
  if (u.locked) return `${author.username}, who last saved it, is locked`;
  if (!u.roles.includes('FULL_ADMIN')) return `${author.username}, who last saved it, is no longer a full admin`;
  return null;
}

/**
 * Whether the user of `plan` can enter `dir`, asked of a shell running as that user: the answer
 * is what the cron job itself would see, so it tells nobody whether a directory they cannot reach
 * exists (a check as root would).
 */
export function canEnter(dir: string, plan: { uid?: number; gid?: number }): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      execFile('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { cwd: '/', env: {}, timeout: 10_000, ...plan }, (err) => resolve(err === null));
    } catch {
      resolve(false); // e.g. NUL in the path
    }
  });
}
