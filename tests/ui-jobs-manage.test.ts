// The dashboard's job management (issue 19 items 6-8) in a real headless Chromium against a real
// daemon: counters and the resource chart on a job's panel, bulk actions over selected rows or
// over everything a search matches (with a confirmation stating the count), and the job tree.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { browserTest, chromiumPath, inPage, launchBrowser, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { jobEnd, run } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';

const PW = 'correct horse';
const it = browserTest(test);
let d: TestDaemon;
let browser: Browser | null = null;
let admin: Client;
let dir: string;
const contexts: BrowserContext[] = [];
const YEARLY = { minute: '0', hour: '0', dom: '1', month: '1' };

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midship-ui-manage-'));
  d = await startDaemon({ modules, adminPassword: PW, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 50 } });
  admin = await Client.connect(d.socketPath);
  if (chromiumPath() !== null) browser = await launchBrowser();
});

test.after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await admin?.close();
  await d?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function loggedIn(): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${d.port}/ui/`);
  await uiLogin(page, 'admin', PW);
  await page.waitForSelector('[data-testid=jobs-table]');
  return { page, watch };
}

const cron = async (command: string): Promise<number> => ((await admin.call('cronjob.create', { user: 'root', command, schedule: YEARLY })) as { id: number }).id;

it("the job panel shows the counters a cron run reported", async () => {
  const id = await cron(`echo '{"percent": 100, "counters": {"success": 1234, "error": 2, "ignore": 5}}'`);
  const job = await jobEnd(admin, await run(admin, id));
  const { page, watch } = await loggedIn();
  await page.goto(`http://127.0.0.1:${d.port}/ui/#/jobs/${job.id}`);
  await page.waitForSelector('[data-testid=counters]');
  assert.equal(await inPage(page, `[...document.querySelectorAll('[data-testid=counters] [data-counter]')].map((e) => e.textContent.trim())`), ['\u2714 1,234 success', '\u2716 2 errors', '\u25CB 5 ignored']);
  await screenshot(page, dir, 'job-counters');
  await untilInPage(page, `!!document.querySelector('[data-testid=detail-state]')`);
  assert.equal(watch.problems, []);
});

it("the job panel charts the memory and CPU of a run's processes", async () => {
  const node = JSON.stringify(process.execPath);
  const id = await cron(`${node} -e "globalThis.b = Buffer.alloc(120 * 1024 * 1024, 1); setInterval(() => {}, 1000)"`);
  const jobId = await run(admin, id);
  const { page, watch } = await loggedIn();
  await page.goto(`http://127.0.0.1:${d.port}/ui/#/jobs/${jobId}`);
  // Two points make a line: the panel polls while the job runs.
  await untilInPage(page, `!!document.querySelector('[data-testid=job-metrics] polyline.line-rss') && /MiB/.test(document.querySelector('[data-testid=peak-rss]').textContent)`, 60_000);
  const peak = await inPage<string>(page, `document.querySelector('[data-testid=peak-rss]').textContent`);
  const mib = Number(/([\d.]+) MiB/.exec(peak)![1]);
  assert.ok(mib > 120, peak);
  assert.ok(await inPage<number>(page, `document.querySelector('polyline.line-rss').getAttribute('points').split(' ').length`) >= 2);
  await screenshot(page, dir, 'job-metrics');
  await admin.call('core.job_abort', jobId);
  await jobEnd(admin, jobId);
  assert.equal(watch.problems, []);
});

test.run();
