// `midshipd --repair-db`: the way out of a refused start (daemon/dbcheck.ts). The damaged files
// are copied aside first, then LevelDB's own repair rebuilds the database from every table and
// log it can read, and the report says what was there before and after: what a plain open would
// have kept (read from a throwaway copy), and what the repaired database holds.
import { cp, lstat, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { lockDataDir, prepareDataDir, tightenModes } from './datadir.js';
import { DataDirError } from './errors.js';
import { checkDatabase } from './dbcheck.js';

/** Records per sublevel path ("jobs/rec", "users", ...) of the database at `location`. */
async function countRecords(location: string): Promise<Map<string, number>> {
  const db = new ClassicLevel<string, string>(location, { createIfMissing: false, keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const counts = new Map<string, number>();
  try {
    for await (const key of db.keys()) {
      // Sublevel keys are `!name!` prefixes, nested ones `!jobs!!rec!<key>`.
      const path: string[] = [];
      let rest = key;
      while (rest.startsWith('!')) {
        const end = rest.indexOf('!', 1);
        if (end < 0) break;
        path.push(rest.slice(1, end));
        rest = rest.slice(end + 1);
      }
      const name = path.length > 0 ? path.join('/') : '(root)';
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  } finally {
    await db.close();
  }
  return counts;
}

function describe(counts: Map<string, number>): string {
  const jobs = counts.get('jobs/rec') ?? 0;
  const parts = [...counts].filter(([name]) => name === 'jobs/rec' || !name.startsWith('jobs/')).sort(([a], [b]) => a.localeCompare(b));
  return `${jobs} jobs; records by part: ${parts.map(([name, n]) => `${name} ${n}`).join(', ') || 'none'}`;
}

/** What LevelDB's repairer wrote to db/LOG about this run: drops, corruption, the summary. */
async function repairLogLines(dbDir: string): Promise<string[]> {
  const text = await readFile(join(dbDir, 'LOG'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.replace(/^\S+ \S+\s+/, '').trim())
    .filter((l) => /dropping|ignoring|Corruption|ops saved|entries|Repaired|Archiving/i.test(l));
}

/** Repair the database of `dataDir`; every line of the report goes to `report`. */
export async function repairDatabase(dataDir: string, report: (line: string) => void): Promise<void> {
  await prepareDataDir(dataDir);
  const lock = await lockDataDir(dataDir);
  try {
    const dbDir = join(dataDir, 'db');
    const st = await lstat(dbDir).catch(() => null);
    if (st === null) throw new DataDirError(`there is no database in ${dataDir} (no db/ directory)`, 'nothing to repair: start midshipd normally');
    if (!st.isDirectory()) throw new DataDirError(`${dbDir} is not a directory (a file is where the database should be)`, 'repair cannot help: move it away, or choose another --data-dir');
    const problem = await checkDatabase(dataDir).then(() => null, (err: unknown) => {
      if (err instanceof DataDirError) return err.problem;
      throw err;
    });
    report(`midshipd --repair-db: ${dbDir}`);
    report(`  found: ${problem ?? 'no damage the start-up checks can see (repairing anyway)'}`);

    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const aside = join(dataDir, `db.damaged-${stamp}`);
    await cp(dbDir, aside, { recursive: true, errorOnExist: true, force: false });
    report(`  the files as they were: ${aside}`);

    // What a plain open would have read, on a copy (an open writes: it may delete what it
    // cannot account for).
    const probe = join(dataDir, `.repair-probe-${process.pid}`);
    try {
      await cp(dbDir, probe, { recursive: true });
      report(`  before repair (a plain open): ${describe(await countRecords(probe))}`);
    } catch (err) {
      report(`  before repair: a plain open fails (${(err as { cause?: Error }).cause?.message ?? (err as Error).message})`);
    } finally {
      await rm(probe, { recursive: true, force: true });
    }

    await ClassicLevel.repair(dbDir);
    for (const line of await repairLogLines(dbDir)) report(`  leveldb: ${line}`);
    report(`  after repair: ${describe(await countRecords(dbDir))}`);
    await checkDatabase(dataDir);
    await tightenModes(dataDir);
    report('  the database opens cleanly now: start midshipd as usual');
  } finally {
    await lock.release();
  }
}
