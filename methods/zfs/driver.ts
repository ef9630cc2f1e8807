// The one driver over `zpool` and `zfs`: `await ZfsDriver.open()` asks the installed tools what
// they support, then pools / datasets / snapshots / streams speak that dialect. No state is
// global: each driver has its own dialect and snapshot index.
import { DEFAULT_PROGRAMS, probeDialect, ZfsCommands, type ZfsPrograms } from './commands.js';
import { Datasets } from './datasets.js';
import type { Dialect } from './dialect.js';
import { Pools } from './pools.js';
import { Snapshots } from './snapshots.js';
import { Streams } from './streams.js';

export interface ZfsDriverOptions {
  programs?: Partial<ZfsPrograms>;
  /** Default limit for one command (streams have none); default 120 s. */
  timeoutMs?: number;
  /** Skip detection (tests of one dialect); normally detected. */
  dialect?: Dialect;
  signal?: AbortSignal;
}

export class ZfsDriver {
  readonly commands: ZfsCommands;
  readonly pools: Pools;
  readonly datasets: Datasets;
  readonly snapshots: Snapshots;
  readonly streams: Streams;

  private constructor(commands: ZfsCommands) {
    this.commands = commands;
    this.pools = new Pools(commands);
    this.datasets = new Datasets(commands);
    this.snapshots = new Snapshots(commands);
    this.streams = new Streams(commands);
  }

  get dialect(): Dialect {
    return this.commands.dialect;
  }

  static async open(opts: ZfsDriverOptions = {}): Promise<ZfsDriver> {
    const programs = { ...DEFAULT_PROGRAMS, ...opts.programs };
    const dialect = opts.dialect ?? (await probeDialect(programs, opts.signal));
    return new ZfsDriver(new ZfsCommands(programs, dialect, opts.timeoutMs ?? 120_000));
  }
}
