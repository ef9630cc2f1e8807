// What the installed `zpool` / `zfs` can do, found out once by asking them (usage texts, the
// property table, the feature list), never by guessing from a distribution name. Everything
// else in this folder asks the Dialect instead of knowing command-line differences itself.

export type Flavor = 'openzfs' | 'zfs-fuse' | 'legacy';

export interface Dialect {
  flavor: Flavor;
  /** Userland version from `zfs version` (OpenZFS), e.g. "2.2.2"; null when the tool has no such command. */
  version: string | null;
  /** Legacy pool version (zfs-fuse: 23); null for feature-flag pools (OpenZFS: 5000). */
  poolVersion: number | null;
  /** Pool features this ZFS supports (feature flags), empty for legacy versions. */
  features: string[];
  /** Pool properties `zpool get` knows (size, allocated, free, health, guid, fragmentation, ...). */
  poolProperties: string[];
  /** Dataset properties `zfs get` knows (native ones; user properties are always allowed). */
  datasetProperties: string[];
  zpoolListParsable: boolean;   // zpool list -p
  zpoolGetScripted: boolean;    // zpool get -H -p -o name,property,value,source
  zpoolStatusParsable: boolean; // zpool status -p (exact error counters)
  zpoolStatusGuids: boolean;    // zpool status -g (vdev guids instead of names)
  zpoolStatusFullPaths: boolean; // zpool status -P
  zfsListParsable: boolean;     // zfs list -p
  zfsGetTypes: boolean;         // zfs get -t snapshot
  zfsSetMany: boolean;          // zfs set a=1 b=2 ds (several properties in one command)
  zfsSnapshotMany: boolean;     // zfs snapshot a@s b@s (several snapshots atomically)
  holdsParsable: boolean;       // zfs holds -H -p
  scrubPause: boolean;          // zpool scrub -p
  sendDryRun: boolean;          // zfs send -n -v -P (size estimate without sending)
  receiveProperties: boolean;   // zfs receive -o / -x (override or exclude properties)
  holdsList: boolean;           // zfs holds works (zfs-fuse needs a Python helper Debian does not ship)
  snapshotsChanged: boolean;    // dataset property snapshots_changed (OpenZFS 2.2)
  encryption: boolean;
  draid: boolean;
  /** special and dedup allocation classes */
  allocationClasses: boolean;
  /** `zdb -C` prints the cache file quickly (vdev guids where `zpool status -g` is missing) */
  zdbConfig: boolean;
  /** zfs-fuse: destroy / export can fail with "busy" while its FUSE unmount is still settling */
  busyAfterUnmount: boolean;
}

/** The raw texts the detection reads; each is stdout and stderr of one probe, joined. */
export interface DialectProbes {
  zpoolUsage: string;     // `zpool` with no arguments
  zfsUsage: string;       // `zfs` with no arguments
  zfsGetHelp: string;     // `zfs get` with no arguments: usage plus the property table
  zpoolGetHelp: string;   // `zpool get` with no arguments: usage plus the pool property table
  zpoolUpgradeV: string;  // `zpool upgrade -v`
  zfsVersion: string | null;   // `zfs version` when it exited 0, else null
  zfsHolds: string;       // `zfs holds` with no arguments
  /** A `zfs-fuse` program is installed beside zpool (the FUSE port answers to the same commands). */
  zfsFuseBinary: boolean;
}

/**
 * The lines of one subcommand in a usage text: its own line(s) starting with a tab and the
 * subcommand name, and their continuation lines (indented deeper).
 */
export function usageBlock(usage: string, sub: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of usage.split('\n')) {
    const start = new RegExp(`^\\t${sub}(?:\\s|$)`).test(line);
    if (start) {
      inside = true;
      out.push(line);
    } else if (inside && /^\t {2,}\S/.test(line)) {
      out.push(line);
    } else {
      inside = false;
    }
  }
  return out.join('\n');
}

/** Single-letter options a usage block mentions: "[-gHLpPv]" -> g H L p P v; "[-s | -p]" -> s p. */
export function usageFlags(usage: string, sub: string): Set<string> {
  const flags = new Set<string>();
  const block = usageBlock(usage, sub);
  for (const m of block.matchAll(/(?:^|[\s[|<])-([A-Za-z]+)/g)) for (const c of m[1]!) flags.add(c);
  return flags;
}

/** Long options a usage block mentions, without dashes: "--json". */
export function usageLongFlags(usage: string, sub: string): Set<string> {
  return new Set([...usageBlock(usage, sub).matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!));
}

/** Property names in `zfs get`'s table (first column of lines like "\tavailable   NO   NO   <size>"). */
export function propertyTable(help: string): Set<string> {
  const props = new Set<string>();
  for (const m of help.matchAll(/^\t([a-z][a-z0-9_]*(?:@\.\.\.)?)\s+(?:YES|NO)\s/gm)) props.add(m[1]!);
  return props;
}

export function detectDialect(p: DialectProbes): Dialect {
  const legacy = /currently running ZFS pool version (\d+)/.exec(p.zpoolUpgradeV);
  const poolVersion = legacy ? Number(legacy[1]) : null;
  const version = p.zfsVersion === null ? null : (/^zfs-(\d+\.\d+(?:\.\d+)?)/m.exec(p.zfsVersion)?.[1] ?? null);
  // Feature flag lines of `zpool upgrade -v`: "name                          (read-only compatible)".
  const features = legacy
    ? []
    : [...p.zpoolUpgradeV.matchAll(/^([a-z][a-z0-9_]*)(?:\s+\(read-only compatible\))?[ \t]*$/gm)].map((m) => m[1]!);
  // Feature flags or a `zfs version` command mean OpenZFS; a legacy pool version is zfs-fuse
  // when its daemon program is installed, otherwise some other pre-feature-flag port.
  const flavor: Flavor = version !== null || poolVersion === null ? 'openzfs' : p.zfsFuseBinary ? 'zfs-fuse' : 'legacy';
  const zpoolList = usageFlags(p.zpoolUsage, 'list');
  const zpoolGet = usageFlags(p.zpoolUsage, 'get');
  const zpoolStatus = usageFlags(p.zpoolUsage, 'status');
  const scrub = usageFlags(p.zpoolUsage, 'scrub');
  const zfsList = usageFlags(p.zfsUsage, 'list');
  const zfsGet = usageFlags(p.zfsGetHelp + '\n' + p.zfsUsage, 'get');
  const send = usageFlags(p.zfsUsage, 'send');
  const props = propertyTable(p.zfsGetHelp);
  const holds = usageFlags(p.zfsUsage, 'holds');
  const has = (f: string) => features.includes(f);
  return {
    flavor,
    version,
    poolVersion,
    features,
    poolProperties: [...propertyTable(p.zpoolGetHelp)],
    datasetProperties: [...props],
    zpoolListParsable: zpoolList.has('p'),
    zpoolGetScripted: zpoolGet.has('H') && zpoolGet.has('p'),
    zpoolStatusParsable: zpoolStatus.has('p'),
    zpoolStatusGuids: zpoolStatus.has('g'),
    zpoolStatusFullPaths: zpoolStatus.has('P'),
    zfsListParsable: zfsList.has('p'),
    zfsGetTypes: zfsGet.has('t'),
    zfsSetMany: /<property=value> \.\.\./.test(usageBlock(p.zfsUsage, 'set')),
    zfsSnapshotMany: /@<?snap\w*>? \.\.\./.test(usageBlock(p.zfsUsage, 'snapshot')),
    holdsParsable: holds.has('H') && holds.has('p'),
    scrubPause: scrub.has('p'),
    sendDryRun: send.has('n') && send.has('v') && send.has('P'),
    receiveProperties: usageFlags(p.zfsUsage, 'receive').has('x'),
    holdsList: !/internal error|pyzfs/.test(p.zfsHolds),
    snapshotsChanged: props.has('snapshots_changed'),
    encryption: has('encryption') || props.has('encryption'),
    draid: has('draid'),
    allocationClasses: has('allocation_classes'),
    zdbConfig: flavor === 'zfs-fuse',
    busyAfterUnmount: flavor === 'zfs-fuse',
  };
}
