// `zpool status` (and the importable-pool listing of `zpool import`, which has the same
// layout) into typed records. Both print, per pool, right-aligned labels ("  pool:", " state:",
// "status:", "  scan:" or " scrub:", "config:", "errors:") whose values may continue on
// tab-indented lines, and a config table after "config:".
import { ZfsParseError } from './errors.js';
import { emptyTopology, parseConfigTable } from './parse-config.js';
import { parseScan } from './parse-scan.js';
import type { ImportablePool, PoolStatus, ScanStatus } from './types.js';

interface Paragraphs {
  fields: Map<string, string[]>;
  /** Every scan paragraph in order (OpenZFS can print a scrub and a resilver). */
  scans: string[][];
  config: string[];
}

const LABEL = /^\s{0,8}(pool|id|state|status|action|see|scan|scrub|config|errors|remove|expand|checkpoint|comment):(?: (.*))?$/;

/** Splits one pool's block into labelled paragraphs and the config table rows. */
function paragraphs(lines: readonly string[]): Paragraphs {
  const fields = new Map<string, string[]>();
  const scans: string[][] = [];
  const config: string[] = [];
  let current: string[] | null = null;
  let inConfig = false;
  for (const line of lines) {
    const m = LABEL.exec(line);
    // Inside the config table a row never looks like a label: rows start with a tab.
    if (m && !line.startsWith('\t')) {
      inConfig = m[1] === 'config';
      current = [m[2] ?? ''];
      if (m[1] === 'scan' || m[1] === 'scrub') scans.push(current);
      else if (!inConfig) fields.set(m[1]!, current);
      continue;
    }
    if (inConfig) {
      // The table ends at the first blank line after its rows; text after it (OpenZFS's
      // "Additional devices are known to be part of this pool") is not a vdev.
      if (line.trim() === '') {
        if (config.length > 0) inConfig = false;
      } else {
        config.push(line);
      }
    } else if (current !== null && line.startsWith('\t')) {
      current.push(line.trim());
    }
  }
  return { fields, scans, config };
}

/** Cuts command output into one block per pool, each starting at its "pool:" label. */
function poolBlocks(text: string): string[][] {
  const blocks: string[][] = [];
  let cur: string[] | null = null;
  for (const line of text.split('\n')) {
    if (/^\s{0,4}pool: /.test(line) && !line.startsWith('\t')) {
      cur = [line];
      blocks.push(cur);
    } else if (cur) {
      cur.push(line);
    }
  }
  return blocks;
}

function joined(p: Paragraphs, key: string): string | null {
  const v = p.fields.get(key);
  if (!v) return null;
  const s = v.join(' ').replace(/\s+/g, ' ').trim();
  return s === '' ? null : s;
}

function pickScan(scans: Array<ScanStatus | null>): ScanStatus | null {
  const present = scans.filter((s): s is ScanStatus => s !== null);
  return present.find((s) => s.state === 'SCANNING') ?? present[0] ?? null;
}

/** The "errors:" line: "No known data errors" -> 0, "3 data errors, use '-v' for a list" -> 3. */
function dataErrors(text: string | null): number | null {
  if (text === null) return null;
  if (/^No known data errors/.test(text)) return 0;
  const m = /^(\d+) data errors/.exec(text);
  if (m) return Number(m[1]);
  // "-v" lists files ("Permanent errors have been detected ..."): at least one.
  return /Permanent errors/.test(text) ? 1 : null;
}

/** Parses `zpool status [pool...]`. `now` (epoch ms) is when the command ran. */
export function parseZpoolStatus(text: string, now: number): PoolStatus[] {
  if (/^\s*no pools available\s*$/m.test(text) && !/pool: /.test(text)) return [];
  return poolBlocks(text).map((block) => {
    const p = paragraphs(block);
    const name = joined(p, 'pool');
    const state = joined(p, 'state');
    if (name === null || state === null) throw new ZfsParseError('zpool status', block.join('\n'));
    const table = p.config.length > 0 ? parseConfigTable(p.config, true) : { root: null, topology: emptyTopology() };
    const errorsText = joined(p, 'errors');
    return {
      name,
      state,
      status: joined(p, 'status'),
      action: joined(p, 'action'),
      see: joined(p, 'see'),
      scan: pickScan(p.scans.map((s) => parseScan(s, now))),
      root: table.root,
      topology: table.topology,
      dataErrors: dataErrors(errorsText),
      errorsText,
    };
  });
}

/** Parses the listing `zpool import` (no pool argument) prints: the pools that could be imported. */
export function parseZpoolImport(text: string): ImportablePool[] {
  return poolBlocks(text).map((block) => {
    const p = paragraphs(block);
    const name = joined(p, 'pool');
    const guid = joined(p, 'id');
    const stateText = joined(p, 'state');
    if (name === null || guid === null || stateText === null || !/^\d+$/.test(guid)) {
      throw new ZfsParseError('zpool import listing', block.join('\n'));
    }
    const destroyed = /\(DESTROYED\)/.test(stateText);
    const table = p.config.length > 0 ? parseConfigTable(p.config, false) : { root: null, topology: emptyTopology() };
    return {
      name,
      guid,
      state: stateText.replace(/\s*\(DESTROYED\)/, ''),
      destroyed,
      status: joined(p, 'status'),
      action: joined(p, 'action'),
      comment: joined(p, 'comment'),
      root: table.root,
      topology: table.topology,
    };
  });
}
