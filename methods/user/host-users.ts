// The host's users, as user.query lists them beside Midship's accounts (issue 20): the TrueNAS web
// UI checks a cron job's "Run As User" with user.query, and a cron job runs as a host user.
//
// They are shown the way TrueNAS shows its builtin users, and that is all they are: a view of
// <etc>/passwd and <etc>/group. Nothing reads them to decide anything. Logins and API keys look
// at Midship's accounts only, so a host user can never log in; its entry holds no role and cannot
// be changed or deleted here; whom a cron job may run as is decided by --cron-users and the cron
// job's author (methods/cronjob/users.ts), never by this list.
//
// Ids are HOST_USER_ID_BASE + uid, as TrueNAS numbers the users it does not store: the same at
// every start and on every machine with that uid, and never a Midship account's id (those stay
// below the base, daemon/auth/users.ts).
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_USER_ID_BASE, type Logger, type Static } from '#midship/module-api';
import type { HostUserEntry } from '../../schemas/user.js';
import { parseGroup, parsePasswd, type GroupLine, type PasswdLine } from './host-files.js';

export type HostUser = Static<typeof HostUserEntry>;

/** Beyond this a file is not read (a passwd file of a quarter of a million users). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * System users: Debian's and TrueNAS's system range below 1000, and nobody / overflow ids from
 * 65534 up. A Midship account may not take such a name (it would hide the host user).
 */
export function isSystemUid(uid: number): boolean {
  return uid < 1000 || uid >= 65534;
}

export function hostUserId(uid: number): number {
  return HOST_USER_ID_BASE + uid;
}

function entry(p: PasswdLine, groupsByGid: Map<number, GroupLine>, memberOf: Map<string, Set<number>>): HostUser {
  return {
    id: hostUserId(p.uid),
    uid: p.uid,
    username: p.name,
    full_name: p.fullName,
    email: null,
    roles: [],
    locked: true,
    builtin: true,
    local: true,
    immutable: true,
    password_disabled: true,
    twofactor_auth_configured: false,
    smb: false,
    webshare: false,
    unixhash: null,
    smbhash: null,
    home: p.home,
    shell: p.shell,
    userns_idmap: null,
    group: {
      id: hostUserId(p.gid),
      bsdgrp_gid: p.gid,
      bsdgrp_group: groupsByGid.get(p.gid)?.name ?? null,
      bsdgrp_builtin: true,
      bsdgrp_smb: false,
      bsdgrp_sudo_commands: [],
      bsdgrp_sudo_commands_nopasswd: [],
    },
    groups: [...(memberOf.get(p.name) ?? [])].filter((gid) => gid !== p.gid).map(hostUserId),
    ssh_password_enabled: false,
    sshpubkey: null,
    sudo_commands: [],
    sudo_commands_nopasswd: [],
    sid: null,
    last_password_change: null,
    password_age: null,
    password_history: null,
    password_change_required: false,
    api_keys: [],
  };
}

export function hostUserEntries(passwd: PasswdLine[], groups: GroupLine[]): HostUser[] {
  const groupsByGid = new Map(groups.map((g) => [g.gid, g]));
  const memberOf = new Map<string, Set<number>>();
  for (const g of groups) {
    for (const m of g.members) {
      const gids = memberOf.get(m) ?? new Set<number>();
      memberOf.set(m, gids.add(g.gid));
    }
  }
  return passwd.map((p) => entry(p, groupsByGid, memberOf));
}

/**
 * The host users of `etc` (`/etc` on a real system), read again only when passwd or group
 * changed (a stat per call: user.query is asked at every key press of the UI's user field).
 */
export class HostUsers {
  #key = '';
  #entries: HostUser[] = [];
  #reading: Promise<HostUser[]> | null = null;

  constructor(private readonly etc: string, private readonly log: Logger) {}

  /** Every host user, in passwd order. */
  list(): Promise<HostUser[]> {
    // Callers arriving during a read share it; one arriving after sees any later change.
    this.#reading ??= this.#refresh().finally(() => (this.#reading = null));
    return this.#reading;
  }

  async #refresh(): Promise<HostUser[]> {
    const files = ['passwd', 'group'].map((f) => join(this.etc, f));
    const stats = await Promise.all(files.map((f) => stat(f).catch(() => null)));
    const key = stats.map((s) => (s ? `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : '-')).join('|');
    if (key === this.#key) return this.#entries;
    const [passwd, group] = await Promise.all(files.map((f, i) => this.#read(f, stats[i]?.size ?? null)));
    this.#entries = hostUserEntries(parsePasswd(passwd!), parseGroup(group!));
    this.#key = key;
    return this.#entries;
  }

  /** A file's text; '' when it is missing, too large or unreadable (Midship's own accounts still list). */
  async #read(path: string, size: number | null): Promise<string> {
    if (size === null) return '';
    if (size > MAX_FILE_BYTES) {
      this.log.warn({ path, size }, `host users: ${path} is larger than ${MAX_FILE_BYTES} bytes, not read`);
      return '';
    }
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      this.log.warn({ path, err: (err as Error).message }, `host users: ${path} could not be read`);
      return '';
    }
  }
}
