// Host figures (issue 17): the size on disk of 30 days of reporting history for a host like this
// one. The series are the ones a real sample of this host produces (its CPUs, interfaces and
// disks) plus two pools; 31 days of 10 s samples with wandering values go through the real
// store, driven by a clock this bench moves, so roll-ups and pruning run as they would. Run
// alone with `node dist/bench/host-history.js`.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { HistoryStore, type HistoryPoint } from '../methods/host/history/store.js';
import { toHistoryPoints } from '../methods/host/history/points.js';
import { getData } from '../methods/host/history/query.js';
import { HostSampler } from '../methods/host/sampler.js';
import { isInternalInterface } from '../methods/host/net-internal.js';

export interface HostHistoryResult {
  series: number;
  days: number;
  appends: number;
  /** Bytes of the database directory right after the run (closed). */
  bytes: number;
  /** The same after a full compaction (LevelDB's steady state without the deleted rows). */
  compactedBytes: number;
  fineRows: number;
  coarseRows: number;
  loadSeconds: number;
  /** get_data for 30 days of one graph, then for the last 24 h. */
  monthQueryMs: number;
  dayQueryMs: number;
}

const DAYS = 31;

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** The point set of a real sample of this host, as a template for the synthetic ones. */
async function templatePoints(): Promise<HistoryPoint[]> {
  const sampler = new HostSampler({ includeInterface: (n) => !isInternalInterface(n) });
  await sampler.sample();
  const s = await sampler.sample();
  await sampler.close();
  const gib = 1024 ** 3;
  return toHistoryPoints(s, { tank: { available: 900 * gib, used: 100 * gib, total: 1000 * gib }, backup: { available: 3000 * gib, used: 1000 * gib, total: 4000 * gib } });
}

/** Values that wander like real ones: each step moves a little from the last. */
function wander(template: HistoryPoint[]): (step: number) => HistoryPoint[] {
  const state = template.map((p) => ({ ...p, values: { ...p.values } }));
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  return () => state.map((p) => {
    for (const k of Object.keys(p.values)) {
      const v = p.values[k] ?? 0;
      const scale = Math.max(1, Math.abs(v)) * 0.05;
      let next = Math.max(0, v + (rand() - 0.5) * scale);
      // Percentages and rates look like the real ones: two decimals; byte counts are integers.
      next = Math.abs(next) >= 1000 ? Math.round(next) : Math.round(next * 100) / 100;
      p.values[k] = next;
    }
    return { graph: p.graph, identifier: p.identifier, values: { ...p.values } };
  });
}

export async function benchHostHistory(): Promise<HostHistoryResult> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-history-'));
  const template = await templatePoints();
  const next = wander(template);
  const start = Math.floor(Date.now() / 1000 / 300) * 300 - DAYS * 86400;
  let now = start;
  const clock = () => now * 1000;
  const db = new ClassicLevel<string, unknown>(dir, { valueEncoding: 'json' });
  try {
    await db.open();
    const store = new HistoryStore(db.sublevel<string, unknown>('reporting', { valueEncoding: 'json' }), { now: clock });
    await store.open();
    const t0 = performance.now();
    let appends = 0;
    for (let t = start; t < start + DAYS * 86400; t += 10) {
      now = t;
      await store.append(t, next(t));
      appends++;
    }
    const loadSeconds = (performance.now() - t0) / 1000;
    const q0 = performance.now();
    await getData(store, [{ name: 'cpu' }], { unit: 'MONTH' }, now);
    const monthQueryMs = performance.now() - q0;
    const q1 = performance.now();
    await getData(store, [{ name: 'cpu' }], { unit: 'DAY' }, now);
    const dayQueryMs = performance.now() - q1;
    await store.flush();
    const count = async (level: string) => (await db.sublevel<string, unknown>(['reporting', level], { valueEncoding: 'json' }).keys().all()).length;
    const fineRows = await count('fine');
    const coarseRows = await count('coarse');
    await db.close();
    const bytes = await dirBytes(dir);
    const again = new ClassicLevel<string, unknown>(dir, { valueEncoding: 'json' });
    await again.open();
    await again.compactRange('\x00', '\uffff');
    await again.close();
    const compactedBytes = await dirBytes(dir);
    return { series: template.length, days: DAYS, appends, bytes, compactedBytes, fineRows, coarseRows, loadSeconds, monthQueryMs, dayQueryMs };
  } finally {
    if (db.status === 'open') await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function hostHistoryLines(r: HostHistoryResult): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  return [
    `  ${r.days} days of 10 s samples, ${r.series} series (this host's CPUs, interfaces, disks + 2 pools): ${r.appends.toLocaleString('en-US')} appends in ${r.loadSeconds.toFixed(1)} s`,
    `  kept: ${r.fineRows.toLocaleString('en-US')} rows at 10 s, ${r.coarseRows.toLocaleString('en-US')} rows at 5 min`,
    `  on disk: ${mb(r.bytes)} MB as left by the run, ${mb(r.compactedBytes)} MB compacted`,
    `  ${r.bytes < 50e6 ? 'PASS' : 'MISS'}  30 days of history under 50 MB: ${mb(r.bytes)} MB`,
    `  get_data cpu: 30 days ${r.monthQueryMs.toFixed(1)} ms, 24 h ${r.dayQueryMs.toFixed(1)} ms`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchHostHistory().then((r) => console.log(hostHistoryLines(r)), (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
