// The "config:" table of `zpool status` and `zpool import` into a vdev tree. ZFS prints one row
// per vdev as "\t<indent><name padded to a common width>  <state> [read write cksum] [note]",
// indenting two spaces per level, with section rows ("logs", "cache", "spares", "special",
// "dedup") between the classes. Names may contain spaces (ZFS allows them), so in `status` the
// state column is found from the header row, not by splitting on whitespace.
import { ZfsParseError } from './errors.js';
import type { Topology, VdevErrors, VdevStatus } from './types.js';
import { isExactInteger, parseNiceSize } from './units.js';

const SECTIONS: Record<string, keyof Topology> = {
  logs: 'log', log: 'log', cache: 'cache', spares: 'spare', special: 'special', dedup: 'dedup',
};

const STATES = 'ONLINE|DEGRADED|FAULTED|OFFLINE|UNAVAIL|REMOVED|AVAIL|INUSE|SUSPENDED|CORRUPT|UNKNOWN|HEALTHY|CANT_OPEN';
const STATE_RE = new RegExp(`^(?:${STATES})$`);

interface Row {
  depth: number;
  name: string;
  rest: string;
}

export interface ConfigTable {
  root: VdevStatus | null;
  topology: Topology;
}

export function emptyTopology(): Topology {
  return { data: [], log: [], cache: [], spare: [], special: [], dedup: [] };
}

function node(name: string): VdevStatus {
  return { name, kind: 'disk', parity: null, id: null, state: null, errors: null, note: null, path: null, guid: null, size: null, children: [] };
}

function parseErrors(r: string, w: string, c: string): VdevErrors | null {
  const read = parseNiceSize(r);
  const write = parseNiceSize(w);
  const checksum = parseNiceSize(c);
  if (read === null || write === null || checksum === null) return null;
  return { read, write, checksum, exact: isExactInteger(r) && isExactInteger(w) && isExactInteger(c) };
}

/** Fills state, counters and note of a vdev from the text after its name. */
function fillColumns(v: VdevStatus, rest: string, counters: boolean): void {
  const m = /^\s*(\S+)(?:\s+(\S+)\s+(\S+)\s+(\S+))?(?:\s+(.*?))?\s*$/.exec(rest);
  if (!m || !STATE_RE.test(m[1]!)) {
    v.note = rest.trim() || null;
    return;
  }
  v.state = m[1]!;
  const errors = counters && m[2] !== undefined ? parseErrors(m[2], m[3]!, m[4]!) : null;
  if (errors) {
    v.errors = errors;
    v.note = m[5] ?? null;
  } else {
    // No counters printed (spares, import listings): everything after the state is the note.
    const note = rest.trim().slice(m[1]!.length).trim();
    v.note = note || null;
  }
}

/** Kind, id and parity of an interior vdev from its printed name ("raidz2-1", "mirror-0", "spare-3"). */
function classifyInterior(v: VdevStatus): void {
  const n = v.name;
  const idm = /-(\d+)$/.exec(n);
  v.id = idm ? Number(idm[1]) : null;
  let m: RegExpExecArray | null;
  if (/^mirror(?:-\d+)?$/.test(n)) v.kind = 'mirror';
  else if ((m = /^raidz([123])?(?:-\d+)?$/.exec(n))) {
    v.kind = 'raidz';
    v.parity = Number(m[1] ?? 1);
  } else if ((m = /^draid([123])?[^-\s]*(?:-\d+)?$/.exec(n))) {
    v.kind = 'draid';
    v.parity = Number(m[1] ?? 1);
  } else if (/^spare(?:-\d+)?$/.test(n)) v.kind = 'spare';
  else if (/^replacing(?:-\d+)?$/.test(n)) v.kind = 'replacing';
  else v.kind = 'mirror'; // an unknown grouping vdev: treat like a mirror of its children
}

/** Kind and path of a leaf. */
function classifyLeaf(v: VdevStatus): void {
  if (/^indirect-\d+$/.test(v.name)) {
    v.kind = 'indirect';
    return;
  }
  if (/^hole/.test(v.name)) {
    v.kind = 'hole';
    return;
  }
  const was = v.note ? /^was (\/\S.*)$/.exec(v.note) : null;
  // Short names ("sdb", "loop0") are device names under /dev; missing devices may print a guid.
  v.path = was ? was[1]! : v.name.startsWith('/') ? v.name : /^\d+$/.test(v.name) ? null : `/dev/${v.name}`;
  v.kind = v.path === null ? 'missing' : v.path.startsWith('/dev/') ? 'disk' : 'file';
}

function finish(v: VdevStatus, isRoot: boolean): void {
  for (const c of v.children) finish(c, false);
  if (isRoot) {
    v.kind = 'root';
    return;
  }
  if (v.children.length > 0) classifyInterior(v);
  else classifyLeaf(v);
}

function leadingSpaces(s: string): number {
  let i = 0;
  while (s[i] === ' ') i++;
  return i;
}

/**
 * Splits a row into name and the rest. With a header (status), the state column is exact;
 * without one (import), the name ends at the first run of two or more spaces before a state word.
 */
function splitRow(line: string, stateCol: number | null): Row | null {
  const depth = leadingSpaces(line);
  const body = line.slice(depth);
  if (body.trim() === '') return null;
  if (stateCol !== null && line.length > stateCol && line[stateCol - 1] === ' ' && /^[A-Z_]+(?:\s|$)/.test(line.slice(stateCol))) {
    const name = line.slice(depth, stateCol).trimEnd();
    if (name !== '') return { depth, name, rest: line.slice(stateCol) };
  }
  const m = new RegExp(`^(.*?\\S)\\s{2,}((?:${STATES})(?:\\s.*)?)$`).exec(body);
  if (m) return { depth, name: m[1]!, rest: m[2]! };
  return { depth, name: body.trimEnd(), rest: '' };
}

/**
 * Parses the rows of a config table (the lines after "config:", tab prefix included or not).
 * `counters` says whether rows carry READ/WRITE/CKSUM columns (status) or not (import).
 */
export function parseConfigTable(lines: readonly string[], counters: boolean): ConfigTable {
  const topology = emptyTopology();
  let root: VdevStatus | null = null;
  let stateCol: number | null = null;
  let section: keyof Topology | null = null;
  // Stack of open vdevs with the depth of their rows.
  let stack: Array<{ depth: number; v: VdevStatus }> = [];
  for (const raw of lines) {
    const line = raw.replace(/^\t/, '').replace(/\t+$/, '').replace(/\x1b\[[0-9;]*m/g, '');
    if (line.trim() === '') continue;
    if (/^\s*NAME\s+STATE\b/.test(line)) {
      stateCol = line.indexOf('STATE');
      continue;
    }
    const word = line.trim();
    if (leadingSpaces(line) === 0 && SECTIONS[word] !== undefined && !/\s/.test(word)) {
      section = SECTIONS[word]!;
      stack = [];
      continue;
    }
    const row = splitRow(line, stateCol);
    if (row === null) continue;
    const v = node(row.name);
    fillColumns(v, row.rest, counters && section !== 'spare');
    if (section === null && row.depth === 0) {
      if (root !== null) throw new ZfsParseError('zpool config table (two root rows)', raw);
      root = v;
      stack = [{ depth: 0, v }];
      continue;
    }
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= row.depth) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent === undefined || (section === null && parent.v === root)) {
      // A top-level vdev of the current class.
      topology[section ?? 'data'].push(v);
      if (section === null && parent === undefined) throw new ZfsParseError('zpool config table (vdev before the pool row)', raw);
    } else {
      parent.v.children.push(v);
    }
    stack.push({ depth: row.depth, v });
  }
  if (root) finish(root, true);
  for (const list of Object.values(topology)) for (const v of list) finish(v, false);
  return { root, topology };
}
