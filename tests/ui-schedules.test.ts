// The Schedules page in a real headless Chromium against a real daemon with the cronjob module:
// validation errors next to their field, create/edit/enable/delete, run now opening the run's live
// panel, Run again, and live updates from other clients.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { browserTest, chromiumPath, inPage, launchBrowser, q, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { until } from './helpers/until.js';

const PW = 'pw-schedules';
const it = browserTest(test);
const me = userInfo().username;
let d: TestDaemon;
let browser: Browser | null = null;
let admin: Client;
let dir: string;
let ctx: BrowserContext | null = null;
let page: Page;
let watch: ReturnType<typeof watchPage>;

interface Cron {
  id: number;
  enabled: boolean;
  description: string;
  schedule: Record<string, string>;
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midship-ui-cron-'));
  d = await startDaemon({ modules, adminPassword: PW, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 50 } });
  admin = await Client.connect(d.url);
  await admin.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: PW });
  if (chromiumPath() === null) return;
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await ctx.newPage();
  watch = watchPage(page);
});

test.after(async () => {
  await ctx?.close();
  await browser?.close();
  await admin?.close();
  await d?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const crons = async () => (await admin.call('cronjob.query', [], { order_by: ['id'] })) as Cron[];

function untilJobEnds(id: number): Promise<string> {
  return until(async () => {
    const j = (await admin.call('core.get_jobs', [['id', '=', id]], { get: true })) as { state: string };
    return ['SUCCESS', 'FAILED', 'ABORTED'].includes(j.state) ? j.state : null;
  }, `job ${id} to end`, 60_000);
}

it('creating a cron job with a bad schedule shows the error on that field', async () => {
  await page.goto(`http://127.0.0.1:${d.port}/ui/#/schedules`);
  await uiLogin(page, 'admin', PW);
  await page.waitForSelector('[data-testid=cron-new]');
  await page.click('[data-testid=cron-new]');
  await page.waitForSelector('[data-testid=cron-form]');
  await page.fill('#cron-description', 'Say hello');
  await page.fill('#cron-command', 'echo hello-from-cron; sleep 0.5; echo done');
  await page.fill('#cron-user', me);
  await page.fill('#cron-minute', '61');
  await page.fill('#cron-hour', '3');
  await page.click('[data-testid=cron-save]');
  const err = await page.waitForSelector('[data-testid="error-schedule.minute"]');
  assert.match((await err.textContent()) ?? '', /61/);
  assert.is(await page.getAttribute('#cron-minute', 'aria-invalid'), 'true');
  assert.is(await page.getAttribute('#cron-minute', 'aria-describedby'), 'cron-minute-error');
  assert.is(await page.getAttribute('#cron-hour', 'aria-invalid'), null, 'only the field at fault');
  await untilInPage(page, `document.activeElement?.id === 'cron-minute'`);
  assert.is(await page.locator('[data-testid=form-error]').count(), 0, 'not a general error');
  assert.equal(await crons(), [], 'nothing was created');
  await screenshot(page, dir, 'cron-bad-schedule');
});

it('a valid schedule creates the cron job, listed with its schedule in words and next run', async () => {
  await page.fill('#cron-minute', '30');
  await page.click('[data-testid=cron-save]');
  await page.waitForSelector('[data-testid=cron-table]');
  await untilInPage(page, `location.hash === '#/schedules'`);
  const list = await crons();
  assert.is(list.length, 1);
  assert.is(list[0]!.schedule.minute, '30');
  assert.is(await page.textContent('[data-testid=cron-words]'), 'every day at 03:30');
  assert.match((await page.textContent(`tr[data-cron="${list[0]!.id}"]`)) ?? '', /in \d+/);
  await screenshot(page, dir, 'schedules');
});

it('run now opens the run in the jobs panel, with its live log; Run again starts another', async () => {
  const [cron] = await crons();
  await page.click(`tr[data-cron="${cron!.id}"] [data-testid=cron-run]`);
  await untilInPage(page, `/^#\\/jobs\\/\\d+$/.test(location.hash)`);
  const jobId = Number((await inPage<string>(page, 'location.hash')).split('/').pop());
  await page.waitForSelector('[data-testid=job-detail]');
  assert.ok(((await page.textContent('#detail-title')) ?? '').includes('cronjob.run'));
  await untilInPage(page, `/hello-from-cron/.test(document.querySelector('[data-testid=log-text]')?.textContent ?? '')`);
  assert.is(await untilJobEnds(jobId), 'SUCCESS');
  await untilInPage(page, `/Success/.test(document.querySelector('[data-testid=detail-state]')?.textContent ?? '')`);
  await screenshot(page, dir, 'cron-run');
  await page.click('[data-testid=run-again]');
  await untilInPage(page, `location.hash !== ${q(`#/jobs/${jobId}`)}`);
  const again = Number((await inPage<string>(page, 'location.hash')).split('/').pop());
  assert.ok(again > jobId);
  assert.is(await untilJobEnds(again), 'SUCCESS');
  const runs = (await admin.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', cron!.id]], { count: true })) as number;
  assert.is(runs, 2);
});

it('disable, edit and delete from the page; changes by other clients show up live', async () => {
  await page.click('nav >> text=Schedules');
  await page.waitForSelector('[data-testid=cron-table]');
  const [cron] = await crons();
  const sel = `tr[data-cron="${cron!.id}"]`;
  await untilInPage(page, `/Success/.test(document.querySelector(${q(`${sel} td[data-label="Last run"]`)})?.textContent ?? '')`);
  await page.uncheck(`${sel} [data-testid=cron-enabled]`);
  await untilInPage(page, `/paused/.test(document.querySelector(${q(sel)})?.textContent ?? '')`);
  assert.is((await crons())[0]!.enabled, false);

  await page.click(`${sel} >> text=Edit`);
  await page.waitForSelector('[data-testid=cron-form]');
  assert.is(await page.inputValue('#cron-minute'), '30', 'the form holds the stored values');
  await page.fill('#cron-description', 'Say hello, edited');
  await page.click('[data-testid=cron-save]');
  await untilInPage(page, `/Say hello, edited/.test(document.querySelector(${q(sel)})?.textContent ?? '')`);
  assert.is((await crons())[0]!.description, 'Say hello, edited');

  const other = (await admin.call('cronjob.create', { command: 'true', user: me, description: 'made elsewhere', schedule: { minute: '*/5', hour: '*' } })) as Cron;
  await untilInPage(page, `!!document.querySelector(${q(`tr[data-cron="${other.id}"]`)})`);
  assert.is(await page.textContent(`tr[data-cron="${other.id}"] [data-testid=cron-words]`), 'every 5 minutes');

  await page.click(`${sel} >> text=Delete`);
  await page.click(`${sel} >> text=Yes, delete`);
  await untilInPage(page, `!document.querySelector(${q(sel)})`);
  assert.equal((await crons()).map((c) => c.id), [other.id]);
  await admin.call('cronjob.delete', other.id);
  await untilInPage(page, `!!document.querySelector('.empty')`);
  assert.equal(watch.problems, []);
});

test.run();
