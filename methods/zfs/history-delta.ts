// Reading what changed in a pool from the new lines of `zpool history -i` (zfs-fuse's format:
// "2026-11-28.17:00:16 zfs snapshot -r tank/a@s1" for commands, "... [internal snapshot
// txg:17] dataset = 39" for what ZFS did). Only the commands the snapshot index can follow
// are understood; anything else asks for a full re-read. The internal records say how many
// snapshots were created and destroyed, which the index checks its partial re-read against.

export interface RefreshTarget {
  dataset: string;
  /** The dataset's descendants too. */
  recursive: boolean;
}

export type HistoryDelta =
  | { kind: 'none' }
  | { kind: 'partial'; targets: RefreshTarget[]; created: number; destroyed: number }
  | { kind: 'full'; why: string };

// Commands that never change which snapshots exist.
const HARMLESS_ZFS = new Set(['hold', 'set', 'inherit', 'create', 'clone', 'mount', 'unmount', 'umount', 'share', 'unshare', 'allow', 'unallow', 'upgrade']);
const HARMLESS_ZPOOL = new Set(['scrub', 'clear', 'set', 'online', 'offline', 'history', 'upgrade']);
// Internal records that do not change snapshots, or whose effect is counted.
const KNOWN_INTERNAL = new Set(['snapshot', 'destroy', 'property set', 'property inherit', 'user hold', 'user release', 'create']);

/**
 * The options before the operands, and the operand naming a dataset of this pool. History
 * records are argv joined by spaces, and names, tags and values may contain spaces: the name
 * is taken from the first word that starts with "<pool>/" or "<pool>@" to the end. A wrong
 * guess names a dataset that cannot be read, which makes the index fall back to a full read.
 */
function split(tokens: string[], pool: string): { flags: Set<string>; name: string | null } {
  const at = tokens.findIndex((t) => t === pool || t.startsWith(`${pool}/`) || t.startsWith(`${pool}@`));
  const flags = new Set<string>();
  for (const t of at < 0 ? tokens : tokens.slice(0, at)) if (/^-[A-Za-z]+$/.test(t)) for (const c of t.slice(1)) flags.add(c);
  return { flags, name: at < 0 ? null : tokens.slice(at).join(' ') };
}

function datasetOf(snapshot: string | null): string | null {
  if (snapshot === null) return null;
  const at = snapshot.indexOf('@');
  return at > 0 && snapshot.indexOf('@', at + 1) < 0 ? snapshot.slice(0, at) : null;
}

/** What the new history lines of `pool` mean for its snapshot list. */
export function historyDelta(pool: string, lines: readonly string[]): HistoryDelta {
  const targets: RefreshTarget[] = [];
  let created = 0;
  let destroyed = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const m = /^\d{4}-\d{2}-\d{2}\.\d{2}:\d{2}:\d{2} (.*)$/.exec(line);
    if (!m) return { kind: 'full', why: `unknown history line: ${line.slice(0, 80)}` };
    const text = m[1]!;
    const internal = /^\[internal (.+?) txg:\d+\]/.exec(text);
    if (internal) {
      const kind = internal[1]!;
      if (!KNOWN_INTERNAL.has(kind)) return { kind: 'full', why: `internal ${kind}` };
      if (kind === 'snapshot') created++;
      if (kind === 'destroy') destroyed++;
      continue;
    }
    const tokens = text.split(' ');
    const [prog, sub] = tokens;
    const args = tokens.slice(2);
    if (prog === 'zpool' && HARMLESS_ZPOOL.has(sub ?? '')) continue;
    if (prog !== 'zfs') return { kind: 'full', why: text.slice(0, 80) };
    if (HARMLESS_ZFS.has(sub ?? '')) continue;
    if (sub === 'snapshot') {
      const { flags, name } = split(args, pool);
      const ds = datasetOf(name);
      if (ds === null) return { kind: 'full', why: text.slice(0, 80) };
      targets.push({ dataset: ds, recursive: flags.has('r') });
    } else if (sub === 'destroy' || sub === 'rollback') {
      const { flags, name } = split(args, pool);
      const ds = datasetOf(name);
      // A filesystem destroyed, or clones (-R) destroyed elsewhere: too wide to follow.
      if (ds === null || flags.has('R')) return { kind: 'full', why: text.slice(0, 80) };
      targets.push({ dataset: ds, recursive: sub === 'destroy' && flags.has('r') });
    } else if (sub === 'release') {
      // Releasing the last hold of a snapshot marked for deferred destroy destroys it.
      const { flags, name } = split(args, pool);
      const ds = datasetOf(name);
      if (ds === null) return { kind: 'full', why: text.slice(0, 80) };
      targets.push({ dataset: ds, recursive: flags.has('r') });
    } else {
      return { kind: 'full', why: text.slice(0, 80) };
    }
  }
  if (targets.length === 0 && created === 0 && destroyed === 0) return { kind: 'none' };
  if (targets.length === 0) return { kind: 'full', why: 'snapshots changed without a command that says where' };
  return { kind: 'partial', targets, created, destroyed };
}
