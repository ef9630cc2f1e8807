// Dashboard figures (issue 8), measured in a real headless Chromium against an in-process daemon:
//  - progress -> DOM: from a job's setProgress() in the daemon to the table cell showing the new
//    text (MutationObserver in the page), p50/p99 over 500 changes. The two clocks are the same
//    wall clock; their offset is measured by round trips and taken out.
//  - first screen with 200,000 jobs in history: from navigation start (a reload, logged in by the
//    session token) to the first page of rows in the table, and to the summary counts; plus how
//    many job objects the page received to get there (one page: 50).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Type } from '@sinclair/typebox';
import { ClassicLevel } from 'classic-level';
import type { Browser, Page } from 'playwright-core';
import { defaultConfig } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import type { JobHandle } from '../daemon/jobs/handle.js';
import { JobStore } from '../daemon/jobs/store.js';
import { jobTime, type JobRecord, type JobState } from '../daemon/jobs/types.js';
import { method, type ModuleFactory } from '../daemon/registry.js';
import { modules as builtIn } from '../methods/index.js';
import { chromiumPath, inPage, INSTALL_HINT, launchBrowser, uiLogin, untilInPage } from '../tests/helpers/browser.js';
import { Client } from '../tests/helpers/daemon.js';

const PASSWORD = 'bench-password';
const CHANGES = 500;
const HELD_JOBS = 10;
/** The daemon sends at most one progress event per job per 100 ms; changes to one job are spaced wider. */
const PER_JOB_GAP_MS = 120;
const HISTORY = 200_000;
const LOAD_RUNS = 5;

/** A job that stays RUNNING until aborted, its handle kept so the bench can move its progress. */
function holdModule(held: Map<number, JobHandle>): ModuleFactory {
  return () => ({
    services: [{ name: 'bench', type: 'service' }],
    methods: [
      method('bench.hold', {
        description: 'Runs until aborted; the benchmark sets its progress.',
        args: [],
        result: Type.Null(),
        job: { abortable: true, description: () => 'Benchmark job' },
        handler: (_ctx, job) =>
          new Promise<null>((resolve) => {
            held.set(job.id, job);
            job.signal.addEventListener('abort', () => resolve(null));
          }),
      }),
    ],
  });
}

async function startDaemon(dataDir: string, extra: ModuleFactory[] = []): Promise<Daemon> {
  const config = defaultConfig({ dataDir, port: 0, logLevel: 'warn', adminPassword: PASSWORD });
  config.limits.anonCallsPerMinute = 100_000;
  return Daemon.start(config, [...builtIn, ...extra]);
}

const wallNow = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Page clock minus this process's clock, from the round trip with the least delay. */
async function clockOffset(page: Page): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 30; i++) {
    const t1 = wallNow();
    const pageNow = await inPage<number>(page, 'performance.timeOrigin + performance.now()');
    const t2 = wallNow();
    if (t2 - t1 < best.rtt) best = { rtt: t2 - t1, offset: pageNow - (t1 + t2) / 2 };
  }
  return best.offset;
}

async function progressToDom(browser: Browser, dir: string): Promise<Record<string, number>> {
  const held = new Map<number, JobHandle>();
  const daemon = await startDaemon(join(dir, 'latency'), [holdModule(held)]);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await ctx.newPage();
    await page.goto(`http://127.0.0.1:${daemon.port}/ui/`);
    await uiLogin(page, 'admin', PASSWORD);
    await page.waitForSelector('[data-testid=jobs-table]');
    const client = await Client.connect(`ws://127.0.0.1:${daemon.port}/api/current`);
    await client.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: PASSWORD });
    const ids: number[] = [];
    for (let i = 0; i < HELD_JOBS; i++) ids.push((await client.call('bench.hold')) as number);
    while (held.size < HELD_JOBS) await new Promise((r) => setTimeout(r, 10));
    await untilInPage(page, `${JSON.stringify(ids)}.every((id) => /Running/.test(document.querySelector('tr[data-job="' + id + '"] .state')?.textContent ?? ''))`);
    // Page side: note when each "tick N" first appears in a progress cell.
    await inPage(page, `(() => {
      window.benchSeen = new Map();
      window.benchWaiters = new Map();
      const scan = () => {
        const now = performance.timeOrigin + performance.now();
        for (const el of document.querySelectorAll('table.jobs .pdesc')) {
          const m = /^tick (\\d+)$/.exec(el.textContent ?? '');
          if (!m) continue;
          const n = Number(m[1]);
          if (window.benchSeen.has(n)) continue;
          window.benchSeen.set(n, now);
          window.benchWaiters.get(n)?.();
        }
      };
      new MutationObserver(scan).observe(document.querySelector('table.jobs tbody'), { subtree: true, childList: true, characterData: true });
      window.benchWait = (n) => window.benchSeen.has(n) ? true : new Promise((resolve) => window.benchWaiters.set(n, () => resolve(true)));
    })()`);
    const offset = await clockOffset(page);
    const lastChange = new Map<number, number>();
    const latencies: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const id = ids[i % ids.length]!;
      const gap = (lastChange.get(id) ?? 0) + PER_JOB_GAP_MS - performance.now();
      if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      const sent = wallNow();
      lastChange.set(id, performance.now());
      held.get(id)!.setProgress(i % 100, `tick ${i}`);
      await inPage(page, `window.benchWait(${i})`);
      const seen = await inPage<number>(page, `window.benchSeen.get(${i})`);
      latencies.push(seen - offset - sent);
    }
    for (const id of ids) await client.call('core.job_abort', id);
    await client.close();
    latencies.sort((a, b) => a - b);
    return { ui_progress_to_dom_p50_ms: round(percentile(latencies, 50)), ui_progress_to_dom_p99_ms: round(percentile(latencies, 99)) };
  } finally {
    await ctx.close();
    await daemon.stop();
  }
}

/** Writes `n` finished jobs straight into a data dir's job store, as a long-running daemon would have left them. */
async function prefillHistory(dataDir: string, n: number): Promise<void> {
  const db = new ClassicLevel<string, unknown>(join(dataDir, 'db'), { valueEncoding: 'json' });
  await db.open();
  const store = new JobStore(db);
  await store.open();
  const methods = ['cronjob.run', 'pool.scrub.run', 'replication.run', 'cloudsync.sync', 'core.bulk'];
  const t0 = Date.now() - n * 400;
  let batch: Array<Promise<void>> = [];
  for (let i = 1; i <= n; i++) {
    const failed = i % 17 === 0;
    const started = t0 + i * 400;
    const rec: JobRecord = {
      id: await store.allocateId(),
      message_ids: [],
      method: methods[i % methods.length]!,
      arguments: [i % 50],
      transient: false,
      description: `Historic job ${i}`,
      abortable: true,
      logs_path: null,
      logs_excerpt: null,
      progress: { percent: 100, description: 'done', extra: null },
      result: failed ? null : { ok: true },
      result_encoding_error: null,
      error: failed ? '[EIO] Simulated failure' : null,
      exception: null,
      exc_info: failed ? { repr: "CallError('Simulated failure', 5)", type: 'CallError', errno: 5, extra: null } : null,
      state: (failed ? 'FAILED' : 'SUCCESS') as JobState,
      time_started: jobTime(started),
      time_finished: jobTime(started + 250),
      credentials: null,
    };
    batch.push(store.put(rec, null));
    if (batch.length >= 5000) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  await db.close();
}

async function firstScreen(browser: Browser, dir: string): Promise<Record<string, number>> {
  const dataDir = join(dir, 'history');
  await prefillHistory(dataDir, HISTORY);
  const daemon = await startDaemon(dataDir);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await ctx.newPage();
    // Installed before the page's own scripts on every load (not subject to the page's CSP).
    await page.addInitScript(`(() => {
      const done = () => {
        const rows = document.querySelectorAll('table.jobs tbody tr').length;
        if (rows >= 50 && window.benchRows === undefined) window.benchRows = performance.now();
        const nums = [...document.querySelectorAll('.summary .num')].map((e) => e.textContent);
        if (nums.length === 4 && nums.every((t) => t !== '\\u2026') && window.benchSummary === undefined) window.benchSummary = performance.now();
      };
      new MutationObserver(done).observe(document, { subtree: true, childList: true, characterData: true });
    })()`);
    let jobsReceived = 0;
    page.on('websocket', (ws) => ws.on('framereceived', (f) => {
      const text = typeof f.payload === 'string' ? f.payload : f.payload.toString();
      if (!text.includes('"result"')) return;
      const m = JSON.parse(text) as { result?: unknown };
      if (Array.isArray(m.result)) jobsReceived += m.result.filter((r) => typeof r === 'object' && r !== null && 'state' in r).length;
    }));
    await page.goto(`http://127.0.0.1:${daemon.port}/ui/`);
    await uiLogin(page, 'admin', PASSWORD);
    await untilInPage(page, 'window.benchRows !== undefined && window.benchSummary !== undefined', 120_000);
    const rowsMs: number[] = [];
    const summaryMs: number[] = [];
    let received = 0;
    for (let i = 0; i < LOAD_RUNS; i++) {
      jobsReceived = 0;
      await page.reload();
      await untilInPage(page, 'window.benchRows !== undefined && window.benchSummary !== undefined', 120_000);
      rowsMs.push(await inPage<number>(page, 'window.benchRows'));
      summaryMs.push(await inPage<number>(page, 'window.benchSummary'));
      received = Math.max(received, jobsReceived);
    }
    rowsMs.sort((a, b) => a - b);
    summaryMs.sort((a, b) => a - b);
    return {
      ui_first_screen_200k_rows_ms: round(percentile(rowsMs, 50), 0),
      ui_first_screen_200k_summary_ms: round(percentile(summaryMs, 50), 0),
      ui_first_screen_200k_jobs_fetched: received,
    };
  } finally {
    await ctx.close();
    await daemon.stop();
  }
}

/** The dashboard's benchmark figures; {} (with a note) when no Chromium is installed. */
export async function benchUi(): Promise<Record<string, number>> {
  if (chromiumPath() === null) {
    console.warn(`benchUi: skipped, no Chromium: ${INSTALL_HINT}`);
    return {};
  }
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-ui-'));
  const browser = await launchBrowser();
  try {
    return { ...(await progressToDom(browser, dir)), ...(await firstScreen(browser, dir)) };
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchUi());
}
