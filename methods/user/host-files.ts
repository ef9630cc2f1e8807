// /etc/passwd and /etc/group as plain records, for listing the host's users (user.query). Written
// by root, but read as untrusted text all the same: a line that does not parse, or a name holding
// control characters, whitespace or NIS compat markers (+/-), is left out, never passed on.

export interface PasswdLine {
  name: string;
  uid: number;
  gid: number;
  /** The GECOS field's first part, the full name ("PostgreSQL administrator,,," gives "PostgreSQL administrator"). */
  fullName: string;
  home: string;
  shell: string;
}

export interface GroupLine {
  name: string;
  gid: number;
  members: string[];
}

// (uid_t)-1 means "no id" to the kernel, so the largest real id is one below it.
const MAX_ID = 4_294_967_294;
const BAD_NAME = /[\u0000-\u0020\u007f-\u009f]|^[+-]/;

function parseId(field: string | undefined): number | null {
  if (field === undefined || !/^\d{1,10}$/.test(field)) return null;
  const n = Number(field);
  return n <= MAX_ID ? n : null;
}

function goodName(name: string | undefined): name is string {
  return name !== undefined && name !== '' && !BAD_NAME.test(name);
}

/**
 * The users of a passwd file, in file order. As getpwnam and getpwuid return the first match, a
 * name or a uid seen before is skipped: a second name for uid 0 (toor) would otherwise share root's
 * entry id, which is made from the uid.
 */
export function parsePasswd(text: string): PasswdLine[] {
  const out: PasswdLine[] = [];
  const names = new Set<string>();
  const uids = new Set<number>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length !== 7) continue;
    const [name, , uidField, gidField, gecos, home, shell] = f as [string, string, string, string, string, string, string];
    const uid = parseId(uidField);
    const gid = parseId(gidField);
    if (!goodName(name) || uid === null || gid === null || names.has(name) || uids.has(uid)) continue;
    names.add(name);
    uids.add(uid);
    // passwd(5): an empty home is /, an empty shell is /bin/sh.
    out.push({ name, uid, gid, fullName: clean(gecos.split(',')[0] ?? ''), home: clean(home) || '/', shell: clean(shell) || '/bin/sh' });
  }
  return out;
}

/** The groups of a group file, in file order; the first of a gid wins. Members with bad names are dropped. */
export function parseGroup(text: string): GroupLine[] {
  const out: GroupLine[] = [];
  const gids = new Set<number>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length !== 4) continue;
    const gid = parseId(f[2]);
    if (!goodName(f[0]) || gid === null || gids.has(gid)) continue;
    gids.add(gid);
    out.push({ name: f[0], gid, members: f[3]!.split(',').filter(goodName) });
  }
  return out;
}

/** Free text fields (full name, home, shell) lose control characters rather than the whole line. */
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
