// Command-line options of `npm run bench -- [options]`, bounded so a typo cannot start an
// endless run.
export interface BenchOptions {
  rounds: number;
  warmupMs: number;
  measureMs: number;
  seqWarmupCalls: number;
  seqCalls: number;
  /** Before each run, wait up to this long for the machine to be quiet (0: do not wait). */
  waitQuietMs: number;
  /** Write a CPU profile of the Midship daemon to .bench/. */
  profile: boolean;
  /** Sections not to run, by name (`--skip jobs`, or the older `--skip-jobs`). */
  skip: Set<string>;
}

export const DEFAULTS: BenchOptions = { rounds: 3, warmupMs: 1000, measureMs: 3000, seqWarmupCalls: 1000, seqCalls: 5000, waitQuietMs: 30_000, profile: false, skip: new Set() };

function usage(sections: readonly string[]): string {
  return `usage: npm run bench -- [--rounds N (1-10)] [--warmup-ms MS] [--measure-ms MS (100-30000)]
                        [--seq-calls N (100-100000)] [--wait-quiet-s S (0-600)] [--profile] [--skip SECTION]...
  SECTION: ${sections.join(', ')} (also written --skip-SECTION)`;
}

/** `sections`: the names `--skip` accepts (sections.ts). */
export function parseOptions(argv: string[], sections: readonly string[]): BenchOptions {
  const USAGE = usage(sections);
  const bounded = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} needs an integer ${min}-${max}\n${USAGE}`);
    return n;
  };
  const o = { ...DEFAULTS, skip: new Set<string>() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--rounds') o.rounds = bounded(a, argv[++i], 1, 10);
    else if (a === '--warmup-ms') o.warmupMs = bounded(a, argv[++i], 0, 10_000);
    else if (a === '--measure-ms') o.measureMs = bounded(a, argv[++i], 100, 30_000);
    else if (a === '--seq-calls') o.seqCalls = bounded(a, argv[++i], 100, 100_000);
    else if (a === '--wait-quiet-s') o.waitQuietMs = bounded(a, argv[++i], 0, 600) * 1000;
    else if (a === '--profile') o.profile = true;
    else if (a === '--skip' || a.startsWith('--skip-')) {
      const name = a === '--skip' ? argv[++i] : a.slice('--skip-'.length);
      if (name === undefined || !sections.includes(name)) throw new Error(`${a} needs one of ${sections.join(', ')}\n${USAGE}`);
      o.skip.add(name);
    }
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option '${a}'\n${USAGE}`);
  }
  return o;
}
