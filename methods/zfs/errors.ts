// The errors the ZFS driver throws. They carry a Linux errno name (errno(3); TrueNAS reports
// the same ones, e.g. ENOTEMPTY for "filesystem has children") so the storage module can map
// them to CallError / ValidationErrors without parsing messages; this folder never imports the
// engine. Every name here is in the engine's errno table (ERRNO of the module door), so the
// module maps one with ERRNO[err.errno].

export type ZfsErrno =
  | 'ENOENT' | 'EEXIST' | 'EBUSY' | 'EINVAL' | 'EPERM' | 'ENOSPC' | 'ENOTEMPTY'
  | 'EOPNOTSUPP' | 'ETIMEDOUT' | 'ECANCELED' | 'EFAULT';

/** A `zpool` / `zfs` command ended badly: non-zero exit, killed by a signal, timed out or aborted. */
export class ZfsCommandError extends Error {
  /** The program, e.g. `zfs`. */
  readonly command: string;
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What ZFS said, cleaned of usage text and benign warnings; empty when it said nothing. */
  readonly zfsMessage: string;
  readonly stderr: string;
  readonly errno: ZfsErrno;

  constructor(init: {
    command: string; args: readonly string[]; exitCode: number | null; signal: NodeJS.Signals | null;
    stderr: string; zfsMessage: string; errno: ZfsErrno; reason?: string;
  }) {
    const what = `${init.command} ${init.args.join(' ')}`;
    const why = init.reason ?? (init.zfsMessage || (init.signal ? `killed by ${init.signal}` : `exit code ${init.exitCode}`));
    super(`${what}: ${why}`);
    this.name = 'ZfsCommandError';
    this.command = init.command;
    this.args = init.args;
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.stderr = init.stderr;
    this.zfsMessage = init.zfsMessage;
    this.errno = init.errno;
  }
}

/** A name or value refused before any command ran; `field` names the offending argument. */
export class ZfsInputError extends Error {
  readonly field: string;
  readonly errno: ZfsErrno = 'EINVAL';

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ZfsInputError';
    this.field = field;
  }
}

/** The installed ZFS cannot do this (e.g. encryption or dRAID on zfs-fuse); never faked. */
export class ZfsUnsupportedError extends Error {
  readonly feature: string;
  readonly errno: ZfsErrno = 'EOPNOTSUPP';

  constructor(feature: string, detail: string) {
    super(`${feature} is not supported by the installed ZFS (${detail})`);
    this.name = 'ZfsUnsupportedError';
    this.feature = feature;
  }
}

/** Output of a command that does not have the shape its parser expects. */
export class ZfsParseError extends Error {
  readonly errno: ZfsErrno = 'EFAULT';

  constructor(what: string, line: string) {
    super(`cannot parse ${what}: ${JSON.stringify(line.slice(0, 200))}`);
    this.name = 'ZfsParseError';
  }
}

// ZFS reports failures as text; these phrases are stable across zfs-fuse and OpenZFS 2.x.
const ERRNO_BY_PHRASE: Array<[RegExp, ZfsErrno]> = [
  [/does not exist|no such pool|no such dataset|no such tag|could not find any snapshots|no such device|no active scrub|cannot open '[^']*': no such/i, 'ENOENT'],
  [/already exists|tag already exists|name already in use/i, 'EEXIST'],
  [/has children|has dependent clones|snapshots? (?:exist|present)|filesystem has dependent/i, 'ENOTEMPTY'],
  [/\bbusy\b|is part of (?:active|exported|potentially active) pool|currently in use|in use by/i, 'EBUSY'],
  [/permission denied|insufficient privileges/i, 'EPERM'],
  [/out of space|no space left|quota exceeded/i, 'ENOSPC'],
  [/not supported|unsupported|invalid option|unrecognized command|operation not applicable/i, 'EOPNOTSUPP'],
  [/invalid|bad property|must be|cannot be|too many|too long|missing/i, 'EINVAL'],
];

export function errnoFromMessage(message: string): ZfsErrno {
  for (const [re, errno] of ERRNO_BY_PHRASE) if (re.test(message)) return errno;
  return 'EFAULT';
}

// zfs-fuse prints these on success too; they are not the reason anything failed.
const BENIGN = [/^Defaulting to 4K blocksize \(ashift=12\) for /, /^falling back on built-in implementation/];

/** The meaningful part of stderr: no usage text, no benign warnings, one line. */
export function zfsMessageFrom(stderr: string): string {
  const lines: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (/^usage:/i.test(line)) break;
    if (line === '' || BENIGN.some((re) => re.test(line))) continue;
    lines.push(line);
  }
  return lines.join(' ').slice(0, 2000);
}
