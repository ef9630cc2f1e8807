// Checks of the LevelDB files under <data-dir>/db before LevelDB opens them. LevelDB itself is
// forgiving in the worst way: without CURRENT it starts an empty database and deletes the old
// tables as obsolete, and it drops a damaged write-ahead log tail with only a line in db/LOG. Here
// every such case is a refusal naming the problem; `midshipd --repair-db` is the way out.
//
// Log and MANIFEST files share one record format: 32 KiB blocks of records, each with a 7-byte
// header (masked CRC-32C of type and payload, 2-byte length, type 1-4); fewer than 7 bytes left
// in a block are zero padding.
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataDirError } from './errors.js';

const BLOCK = 32 * 1024;
const HEADER = 7;
const DB_FILE = /^(\d+\.(log|ldb|sst)|MANIFEST-\d+)$/;
const LOG_FILE = /^\d+\.log$/;

function repairHint(dataDir: string): string {
  return `run \`midshipd --repair-db --data-dir ${dataDir}\`: it copies the damaged files aside, recovers what LevelDB can read, and reports what it kept`;
}

let crcTable: Uint32Array | null = null;

/** CRC-32C (Castagnoli), as LevelDB computes it. */
function crc32c(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = start; i < end; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function masked(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** The first damage in a log-format file, or null when every record is whole and intact. */
function logFormatDamage(buf: Buffer): string | null {
  let off = 0;
  while (off < buf.length) {
    const left = BLOCK - (off % BLOCK);
    if (left < HEADER) {
      off += left; // block trailer padding
      continue;
    }
    if (buf.length - off < HEADER) return `truncated at byte ${off} (a record header is cut off)`;
    const length = buf.readUInt16LE(off + 4);
    const type = buf[off + 6]!;
    if (type === 0 && length === 0 && buf.readUInt32LE(off) === 0) return `zeroed from byte ${off}`;
    if (type < 1 || type > 4) return `garbled at byte ${off} (record type ${type})`;
    if (HEADER + length > left) return `garbled at byte ${off} (a record of ${length} bytes cannot fit its block)`;
    if (off + HEADER + length > buf.length) return `truncated at byte ${off} (a ${length}-byte record is cut off at the end)`;
    const actual = masked(crc32c(buf, off + 6, off + HEADER + length));
    if (actual !== buf.readUInt32LE(off)) return `garbled at byte ${off} (checksum mismatch)`;
    off += HEADER + length;
  }
  return null;
}

/** Refuse to open `<dataDir>/db` when its files are missing pieces or damaged. */
export async function checkDatabase(dataDir: string): Promise<void> {
  const dbDir = join(dataDir, 'db');
  const st = await lstat(dbDir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
  if (st === null) return; // first start
  if (!st.isDirectory()) {
    throw new DataDirError(`${dbDir} is not a directory (a file is where the database should be)`, `move it away (it is not a Midship database), or choose another --data-dir`);
  }
  const names = await readdir(dbDir);
  const dbFiles = names.filter((n) => DB_FILE.test(n));
  if (!names.includes('CURRENT')) {
    if (dbFiles.length === 0) return; // an empty or never-written database
    throw new DataDirError(
      `${dbDir} holds database files (${dbFiles.slice(0, 3).join(', ')}${dbFiles.length > 3 ? ', ...' : ''}) but no CURRENT file: opening it would start an empty database and delete them`,
      repairHint(dataDir),
    );
  }
  const current = await readFile(join(dbDir, 'CURRENT'), 'latin1');
  const manifest = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (manifest === undefined) {
    throw new DataDirError(`${join(dbDir, 'CURRENT')} is damaged: it does not name a MANIFEST file (${JSON.stringify(current.slice(0, 40))})`, repairHint(dataDir));
  }
  if (!names.includes(manifest)) {
    throw new DataDirError(`${join(dbDir, 'CURRENT')} names ${manifest}, which is missing`, repairHint(dataDir));
  }
  for (const name of [manifest, ...names.filter((n) => LOG_FILE.test(n))]) {
    const damage = logFormatDamage(await readFile(join(dbDir, name)));
    if (damage !== null) throw new DataDirError(`${join(dbDir, name)} is ${damage}: opening it would silently drop what follows`, repairHint(dataDir));
  }
}

/** LevelDB's own refusal to open, with the hint that fits it. */
export function openFailure(dataDir: string, err: unknown): DataDirError {
  const cause = (err as { cause?: { message?: string } }).cause;
  const message = cause?.message ?? (err as Error).message;
  if (/\block\b/i.test(message) && /(temporarily unavailable|already held|Resource)/i.test(message)) {
    return new DataDirError(`the database in ${dataDir} is locked by another process (${message})`, 'stop the other midshipd using this data dir, or choose another --data-dir');
  }
  if (/permission denied/i.test(message)) {
    return new DataDirError(`no permission to open the database in ${dataDir} (${message})`, 'run midshipd as the user that owns the data dir, or fix its ownership/permissions');
  }
  return new DataDirError(`cannot open the database in ${dataDir}: ${message}`, repairHint(dataDir));
}
