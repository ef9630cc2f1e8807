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
import { browserTest, chromiumPath, inPage, launchBrowser, q, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { jobEnd, run } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { until } from './helpers/until.js';

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

type J = { id: number; state: string; method: string; arguments: unknown[]; parent_id: number | null };
const jobs = async (filters: unknown[]) => (await admin.call('core.get_jobs', filters, { order_by: ['id'] })) as J[];
const row = (id: number) => `tr[data-job="${id}"]`;
const text = async (page: Page, sel: string) => ((await page.textContent(sel)) ?? '').trim();
const finishedJob = async (o: Record<string, unknown>) => (await jobEnd(admin, (await admin.call('test.job', o)) as number)).id;

it('select rows, delete: the confirmation states the count; nothing happens before it; running jobs are left alone', async () => {
  const done: number[] = [];
  for (let i = 0; i < 4; i++) done.push(await finishedJob({ steps: 1, delay: 1 }));
  const running = (await admin.call('test.until_aborted')) as number;
  const { page, watch } = await loggedIn();
  await page.waitForSelector(row(running));
  for (const id of [done[0]!, done[1]!, done[3]!, running]) await page.check(`${row(id)} input[data-select]`);
  assert.is(await text(page, '[data-testid=bulk-count]'), '4 selected');
  await page.click('[data-testid=bulk-delete]');
  await page.waitForSelector('[data-testid=bulk-confirm]');
  assert.is(await text(page, '[data-testid=bulk-question]'), 'Delete 3 finished jobs and their logs?');
  assert.is(await text(page, '[data-testid=bulk-skipped]'), '(1 selected job still waiting or running is not deleted)');
  assert.is(await text(page, '[data-testid=bulk-confirm]'), 'Yes, delete 3');
  await screenshot(page, dir, 'bulk-delete-confirm');
  assert.is((await jobs([['id', 'in', done]])).length, 4, 'nothing deleted before the confirmation');
  await page.click('[data-testid=bulk-confirm]');
  await untilInPage(page, `document.querySelector('[data-testid=bulk-result]')?.textContent === 'Deleted 3 jobs.'`);
  assert.equal((await jobs([['id', 'in', done]])).map((j) => j.id), [done[2]!]);
  await untilInPage(page, `![${[done[0], done[1], done[3]].join(',')}].some((id) => document.querySelector('tr[data-job="' + id + '"]'))`);
  assert.ok(await page.locator(row(running)).count() === 1, 'the running job is still listed');
  await admin.call('core.job_abort', running);
  await jobEnd(admin, running);
  assert.equal(watch.problems, []);
});

it('"all matching this search" reaches past the page: deleting 60 jobs of a method after confirming 60', async () => {
  const bulk = (await admin.call('core.bulk', 'test.noop', Array.from({ length: 60 }, () => []))) as number;
  await jobEnd(admin, bulk);
  const { page, watch } = await loggedIn();
  await page.fill('[data-testid=filter-method]', 'test.noop');
  await untilInPage(page, `/of 60/.test(document.querySelector('[data-testid=page-info]')?.textContent ?? '')`);
  await page.check('[data-testid=select-page]');
  assert.is(await text(page, '[data-testid=bulk-count]'), '50 selected');
  await page.click('[data-testid=select-all-matching]');
  assert.is(await text(page, '[data-testid=bulk-count]'), 'All 60 jobs matching this search are selected');
  await page.click('[data-testid=bulk-delete]');
  await page.waitForSelector('[data-testid=bulk-confirm]');
  assert.is(await text(page, '[data-testid=bulk-question]'), 'Delete 60 finished jobs and their logs?');
  await page.click('[data-testid=bulk-confirm]');
  await untilInPage(page, `document.querySelector('[data-testid=bulk-result]')?.textContent === 'Deleted 60 jobs.'`);
  assert.is(await admin.call('core.get_jobs', [['method', '=', 'test.noop']], { count: true }), 0);
  assert.is((await jobs([['id', '=', bulk]])).length, 1, 'the bulk job itself did not match');
  await untilInPage(page, `document.querySelectorAll('table.jobs tbody tr').length === 0`);
  assert.equal(watch.problems, []);
});

it('abort the selected: not abortable jobs are counted out and keep running', async () => {
  const ids = await Promise.all([1, 2, 3].map(() => admin.call('test.until_aborted') as Promise<number>));
  const fixed = (await admin.call('test.fixed', 5000)) as number;
  const { page, watch } = await loggedIn();
  await page.selectOption('[data-testid=filter-state]', 'RUNNING');
  await untilInPage(page, `${q([...ids, fixed])}.every((id) => document.querySelector('tr[data-job="' + id + '"]'))`);
  await page.check('[data-testid=select-page]');
  await page.click('[data-testid=bulk-abort]');
  await page.waitForSelector('[data-testid=bulk-confirm]');
  assert.is(await text(page, '[data-testid=bulk-question]'), 'Abort 3 jobs?');
  assert.is(await text(page, '[data-testid=bulk-skipped]'), '(1 job cannot be aborted)');
  await page.click('[data-testid=bulk-confirm]');
  await untilInPage(page, `document.querySelector('[data-testid=bulk-result]')?.textContent === 'Aborted 3 jobs.'`);
  for (const id of ids) assert.is((await jobEnd(admin, id)).state, 'ABORTED');
  assert.is((await jobEnd(admin, fixed)).state, 'SUCCESS', 'the job that cannot be aborted ran to its end');
  assert.equal(watch.problems, []);
});

it('re-run the selected cron runs: each cron job once; other jobs are counted out', async () => {
  const a = await cron('echo a');
  const b = await cron('echo b');
  const runs = [await run(admin, a), await run(admin, a), await run(admin, b)];
  for (const id of runs) await jobEnd(admin, id);
  const other = await finishedJob({ steps: 1, delay: 1 });
  const before = (await jobs([['method', '=', 'cronjob.run']])).length;
  const { page, watch } = await loggedIn();
  await page.waitForSelector(row(other));
  for (const id of [...runs, other]) await page.check(`${row(id)} input[data-select]`);
  await page.click('[data-testid=bulk-rerun]');
  await page.waitForSelector('[data-testid=bulk-confirm]');
  assert.is(await text(page, '[data-testid=bulk-question]'), 'Run 2 cron jobs again?');
  assert.is(await text(page, '[data-testid=bulk-skipped]'), '(1 selected job is not a cron run and cannot be re-run)');
  await page.click('[data-testid=bulk-confirm]');
  await untilInPage(page, `document.querySelector('[data-testid=bulk-result]')?.textContent === 'Started 2 runs.'`);
  const after = await until(async () => {
    const all = await jobs([['method', '=', 'cronjob.run']]);
    return all.length === before + 2 ? all.slice(-2) : null;
  }, 'two new runs');
  assert.equal(after.map((j) => j.arguments[0]).sort(), [a, b].sort());
  assert.equal(watch.problems, []);
});

it('the tree: top-level jobs, unfolded level by level down to the grandchildren', async () => {
  const outer = (await admin.call('core.bulk', 'core.bulk', [['test.noop', [[], []]], ['test.noop', [[]]]])) as number;
  await jobEnd(admin, outer);
  const children = await jobs([['parent_id', '=', outer]]);
  assert.is(children.length, 2);
  const grandchildren = await jobs([['parent_id', '=', children[0]!.id]]);
  const { page, watch } = await loggedIn();
  await page.check('[data-testid=filter-tree]');
  await page.waitForSelector(`${row(outer)} [data-testid=toggle]`);
  const depthOf = (id: number) => inPage<string | null>(page, `document.querySelector(${q(row(id))})?.getAttribute('data-depth') ?? null`);
  assert.is(await page.locator(row(children[0]!.id)).count(), 0, 'children are not top-level rows');
  await page.click(`${row(outer)} [data-testid=toggle]`);
  await page.waitForSelector(`${row(children[1]!.id)}`);
  assert.is(await depthOf(children[0]!.id), '1');
  assert.is(await page.getAttribute(`${row(outer)} [data-testid=toggle]`, 'aria-expanded'), 'true');
  await page.click(`${row(children[0]!.id)} [data-testid=toggle]`);
  await page.waitForSelector(row(grandchildren[1]!.id));
  assert.is(await depthOf(grandchildren[0]!.id), '2');
  const order = await inPage<number[]>(page, `[...document.querySelectorAll('table.jobs tbody tr')].map((r) => Number(r.getAttribute('data-job')))`);
  const at = (id: number) => order.indexOf(id);
  assert.ok(at(outer) < at(children[0]!.id) && at(children[0]!.id) < at(grandchildren[0]!.id) && at(grandchildren[1]!.id) < at(children[1]!.id), 'each child under its parent');
  await screenshot(page, dir, 'jobs-tree');
  await page.click(`${row(outer)} [data-testid=toggle]`);
  await untilInPage(page, `!document.querySelector(${q(row(grandchildren[0]!.id))})`);
  assert.equal(watch.problems, []);
});

test.run();
