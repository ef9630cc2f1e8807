// The dashboard's jobs page in a real headless Chromium against a real daemon: login, live
// progress and logs, abort, filters, pagination, HTML in job text, parent/child links, keyboard,
// phone size, dark mode, and batching under a flood of job events.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { browserTest, chromiumPath, floodJobEvents, inPage, launchBrowser, q, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
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

interface JobRow {
  id: number;
  state: string;
  result: unknown;
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midship-ui-jobs-'));
  d = await startDaemon({ modules, adminPassword: PW, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 50 } });
  admin = await Client.connect(d.url);
  await admin.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: PW });
  if (chromiumPath() !== null) browser = await launchBrowser();
});

test.after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await admin?.close();
  await d?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${d.port}/ui/`;

async function newPage(options: { width?: number; height?: number } = {}): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const ctx = await browser!.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 800 }, acceptDownloads: true });
  contexts.push(ctx);
  const page = await ctx.newPage();
  const watch = watchPage(page);
  return { page, watch };
}

async function loggedIn(options: { width?: number; height?: number } = {}): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const p = await newPage(options);
  await p.page.goto(base());
  await uiLogin(p.page, 'admin', PW);
  await p.page.waitForSelector('[data-testid=jobs-table]');
  return p;
}

async function job(id: number): Promise<JobRow> {
  return (await admin.call('core.get_jobs', [['id', '=', id]], { get: true })) as JobRow;
}

function untilFinished(id: number): Promise<JobRow> {
  return until(async () => {
    const j = await job(id);
    return ['SUCCESS', 'FAILED', 'ABORTED'].includes(j.state) ? j : null;
  }, `job ${id} to end`, 60_000);
}

const startJob = async (o: Record<string, unknown>) => (await admin.call('test.job', o)) as number;
const row = (id: number) => `tr[data-job="${id}"]`;

it('login: a wrong password shows why; the right one opens the jobs page; reload keeps the session; logout', async () => {
  const { page, watch } = await newPage();
  await page.goto(`http://127.0.0.1:${d.port}/`);
  assert.is(new URL(page.url()).pathname, '/ui/', 'the root redirects to the dashboard');
  await uiLogin(page, 'admin', 'wrong');
  const err = await page.waitForSelector('[data-testid=login-error]');
  assert.is(await err.textContent(), 'Wrong username or password.');
  await screenshot(page, dir, 'login-failed');
  await uiLogin(page, 'admin', PW);
  await page.waitForSelector('[data-testid=jobs-table]');
  assert.is(await page.textContent('[data-testid=whoami]'), 'admin');
  await untilInPage(page, `sessionStorage.getItem('midship.token') !== null`);
  const token = await inPage<string | null>(page, `sessionStorage.getItem('midship.token')`);
  assert.ok(token && token.length > 20, 'a session token is kept in sessionStorage');
  assert.not.ok(page.url().includes(token!), 'never in the URL');
  await page.reload();
  await page.waitForSelector('[data-testid=jobs-table]');
  assert.is(await page.locator('#login-secret').count(), 0, 'no login form after a reload');
  await page.click('text=Log out');
  await page.waitForSelector('#login-secret');
  assert.is(await inPage(page, `sessionStorage.getItem('midship.token')`), null);
  await page.reload();
  await page.waitForSelector('#login-secret');
  assert.equal(watch.problems, []);
});

it('login with an API key', async () => {
  const key = ((await admin.call('api_key.create', { name: 'ui-test', username: 'admin' })) as { key: string }).key;
  const { page, watch } = await newPage();
  await page.goto(base());
  await uiLogin(page, 'admin', `${key}x`, 'api_key');
  assert.is(await (await page.waitForSelector('[data-testid=login-error]')).textContent(), 'Wrong username or API key.');
  await uiLogin(page, 'admin', key, 'api_key');
  await page.waitForSelector('[data-testid=jobs-table]');
  assert.equal(watch.problems, []);
});

it("a running job's progress bar advances without a reload", async () => {
  const { page, watch } = await loggedIn();
  await inPage(page, 'window.marker = 42');
  const id = await startJob({ steps: 40, delay: 250 });
  const bar = `${row(id)} [role=progressbar]`;
  await page.waitForSelector(bar);
  const first = Number(await page.getAttribute(bar, 'aria-valuenow'));
  await untilInPage(page, `Number(document.querySelector(${q(bar)})?.getAttribute('aria-valuenow')) > ${first}`);
  assert.ok(/Running/.test((await page.textContent(`${row(id)} .state`)) ?? ''));
  await untilInPage(page, `/Step \\d+/.test(document.querySelector(${q(`${row(id)} .progress-text`)})?.textContent ?? '')`);
  assert.is(await inPage(page, 'window.marker'), 42, 'the page was not reloaded');
  await screenshot(page, dir, 'jobs');
  await admin.call('core.job_abort', id);
  await untilFinished(id);
  assert.equal(watch.problems, []);
});

it('the live log shows lines as the job writes them; the full log downloads', async () => {
  const { page, watch } = await loggedIn();
  const id = await startJob({ steps: 25, delay: 200 });
  await page.click(`${row(id)} a`);
  await page.waitForSelector('[data-testid=job-detail]');
  assert.ok(page.url().endsWith(`#/jobs/${id}`));
  await untilInPage(page, `/step 2 of 25/.test(document.querySelector('[data-testid=log-text]')?.textContent ?? '')`);
  assert.is((await job(id)).state, 'RUNNING', 'the line showed while the job was still running');
  await untilInPage(page, `/step 5 of 25/.test(document.querySelector('[data-testid=log-text]')?.textContent ?? '')`);
  await screenshot(page, dir, 'job-detail-log');
  await untilFinished(id);
  await untilInPage(page, `document.querySelector('[data-testid=log-status]')?.textContent === 'complete'`);
  const text = (await page.textContent('[data-testid=log-text]')) ?? '';
  assert.ok(text.includes('step 25 of 25'));
  assert.is(text.split('step 1 of 25').length, 2, 'each line once');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-log]')]);
  assert.is(download.suggestedFilename(), `job-${id}.log`);
  const saved = join(dir, `job-${id}.log`);
  await download.saveAs(saved);
  const body = await readFile(saved, 'utf8');
  assert.ok(body.includes('step 1 of 25') && body.includes('step 25 of 25'));
  assert.ok(/SUCCESS|Success/.test((await page.textContent('[data-testid=detail-state]')) ?? ''));
  assert.equal(watch.problems, []);
});

it('the log follows the end, pauses when scrolled up, and follows again on request', async () => {
  const { page, watch } = await loggedIn();
  const id = await startJob({ steps: 60, delay: 150 });
  await page.click(`${row(id)} a`);
  const log = `document.querySelector('[data-testid=log-text]')`;
  const atBottom = `(${log}.scrollTop + ${log}.clientHeight >= ${log}.scrollHeight - 8)`;
  // Enough lines to overflow the box, and it sticks to the end.
  await untilInPage(page, `/step 20 of 60/.test(${log}?.textContent ?? '') && ${log}.scrollHeight > ${log}.clientHeight`);
  assert.ok(await inPage(page, atBottom), 'following the end');
  await inPage(page, `${log}.scrollTop = 0`);
  await untilInPage(page, `/paused/.test(document.querySelector('[data-testid=log-status]').textContent)`);
  const seen = await inPage<string>(page, `${log}.textContent`);
  await untilInPage(page, `${log}.textContent.length > ${seen.length}`);
  assert.is(await inPage(page, `${log}.scrollTop`), 0, 'new output does not move a reader who scrolled up');
  await page.click('text=New output \u2014 follow');
  await untilInPage(page, atBottom);
  assert.ok(/live/.test((await page.textContent('[data-testid=log-status]')) ?? ''));
  await admin.call('core.job_abort', id);
  await untilFinished(id);
  assert.equal(watch.problems, []);
});

it('abort from the UI, after confirming, ends the job ABORTED', async () => {
  const { page, watch } = await loggedIn();
  const id = await startJob({ steps: 200, delay: 100 });
  await page.click(`${row(id)} a`);
  await page.click('[data-testid=abort]');
  await page.waitForSelector('[data-testid=abort-confirm]');
  assert.is((await job(id)).state, 'RUNNING', 'nothing happens before the confirmation');
  await screenshot(page, dir, 'abort-confirm');
  await page.click('[data-testid=abort-confirm]');
  await untilInPage(page, `/Aborted/.test(document.querySelector('[data-testid=detail-state]')?.textContent ?? '')`);
  assert.is((await untilFinished(id)).state, 'ABORTED');
  assert.ok(/Aborted/.test((await page.textContent(`${row(id)} .state`)) ?? ''), 'the table row follows');
  assert.is(await page.locator('[data-testid=abort]').count(), 0, 'no abort button on a finished job');
  assert.equal(watch.problems, []);
});

it('filter by FAILED shows only failed jobs, all of them', async () => {
  const ids = [await startJob({ steps: 1, delay: 1, fail: 'call' }), await startJob({ steps: 1, delay: 1 }), await startJob({ steps: 1, delay: 1, fail: 'validation' })];
  for (const id of ids) await untilFinished(id);
  const failed = (await admin.call('core.get_jobs', [['state', '=', 'FAILED']], { count: true })) as number;
  const { page, watch } = await loggedIn();
  await page.selectOption('[data-testid=filter-state]', 'FAILED');
  await untilInPage(page, `(() => {
    const rows = [...document.querySelectorAll('table.jobs tbody tr')];
    return rows.length === ${Math.min(failed, 50)} && rows.every((r) => r.querySelector('.state-failed'));
  })()`);
  assert.ok(((await page.textContent('[data-testid=page-info]')) ?? '').includes(`of ${failed}`));
  assert.is(await page.locator(row(ids[1]!)).count(), 0, 'the successful job is not listed');
  await page.click(`${row(ids[2]!)} a`);
  await page.waitForSelector('[data-testid=job-error]');
  assert.ok(((await page.textContent('[data-testid=job-detail]')) ?? '').includes('too few steps'), 'validation errors listed');
  await screenshot(page, dir, 'jobs-failed-filter');
  assert.equal(watch.problems, []);
});

it('the summary counts follow the jobs live', async () => {
  const { page, watch } = await loggedIn();
  const num = (id: string) => `Number(document.querySelector('[data-testid=${id}] .num')?.textContent?.replace(/,/g, ''))`;
  await untilInPage(page, `!Number.isNaN(${num('sum-failed')}) && !Number.isNaN(${num('sum-running')})`);
  const failedBefore = await inPage<number>(page, num('sum-failed'));
  const long = await startJob({ steps: 100, delay: 100 });
  await untilInPage(page, `${num('sum-running')} >= 1`);
  await untilFinished(await startJob({ steps: 1, delay: 1, fail: 'call' }));
  await untilInPage(page, `${num('sum-failed')} === ${failedBefore + 1}`);
  await admin.call('core.job_abort', long);
  await untilFinished(long);
  await untilInPage(page, `${num('sum-running')} === 0`);
  assert.equal(watch.problems, []);
});

it('filter by method and by free text', async () => {
  const noop = (await admin.call('test.noop')) as number;
  const other = await startJob({ steps: 1, delay: 1 });
  await untilFinished(noop);
  await untilFinished(other);
  const { page, watch } = await loggedIn();
  const methods = `[...document.querySelectorAll('table.jobs tbody tr td[data-label="Method"]')].map((td) => td.textContent)`;
  await page.fill('[data-testid=filter-method]', 'test.noop');
  await untilInPage(page, `(() => { const m = ${methods}; return m.length > 0 && m.every((x) => x === 'test.noop'); })()`);
  await page.fill('[data-testid=filter-method]', 'test.*');
  await untilInPage(page, `(() => { const m = ${methods}; return m.includes('test.job') && m.includes('test.noop') && m.every((x) => x.startsWith('test.')); })()`);
  await page.fill('[data-testid=filter-method]', '');
  await page.fill('[data-testid=filter-text]', String(other));
  await untilInPage(page, `!!document.querySelector(${q(row(other))})`);
  await page.fill('[data-testid=filter-text]', 'WITH 1 STEPS');
  await untilInPage(page, `(() => { const d = [...document.querySelectorAll('table.jobs tbody td.desc')].map((td) => td.textContent); return d.length > 0 && d.every((x) => x === 'Test job with 1 steps'); })()`);
  assert.equal(watch.problems, []);
});

it('pagination walks the whole history, one page at a time', async () => {
  const bulk = (await admin.call('core.bulk', 'test.noop', Array.from({ length: 60 }, () => []))) as number;
  await untilFinished(bulk);
  const total = (await admin.call('core.get_jobs', [], { count: true })) as number;
  assert.ok(total > 60);
  const { page, watch } = await loggedIn();
  const pageInfo = `(document.querySelector('[data-testid=page-info]')?.textContent ?? '')`;
  await untilInPage(page, `${pageInfo}.startsWith(${q(`1\u201350 of ${total}`)})`);
  const ids = () => inPage<number[]>(page, `[...document.querySelectorAll('table.jobs tbody tr')].map((r) => Number(r.getAttribute('data-job')))`);
  const first = await ids();
  assert.is(first.length, 50);
  const newest = (await admin.call('core.get_jobs', [], { order_by: ['-id'], limit: 1, select: ['id'] })) as Array<{ id: number }>;
  assert.is(first[0], newest[0]!.id, 'newest first');
  assert.equal([...first].sort((a, b) => b - a), first);
  await page.click('[data-testid=page-older]');
  const idle = `document.querySelector('[data-testid=jobs-table]').getAttribute('aria-busy') === 'false'`;
  await untilInPage(page, `${pageInfo}.startsWith('51') && ${idle}`);
  const second = await ids();
  assert.is(second.length, Math.min(50, total - 50));
  assert.ok(second[0]! < first[first.length - 1]!, 'older jobs on page 2');
  await page.click('[data-testid=page-newer]');
  await untilInPage(page, `${pageInfo}.startsWith('1\u2013') && ${idle}`);
  assert.equal(await ids(), first);
  assert.equal(watch.problems, []);
});

it('a job description containing HTML is rendered as text', async () => {
  const evil = '<img src=x onerror=alert(1)>';
  const { page, watch } = await loggedIn();
  const id = (await admin.call('core.bulk', evil, [], '<b>bold</b>')) as number;
  await untilFinished(id);
  await page.waitForSelector(row(id));
  assert.is(await page.textContent(`${row(id)} td.desc`), `Bulk ${evil} (0 calls)`);
  await page.click(`${row(id)} a`);
  await page.waitForSelector('[data-testid=job-error]');
  assert.is(await page.textContent('[data-testid=detail-description]'), `Bulk ${evil} (0 calls)`);
  assert.ok(((await page.textContent('[data-testid=job-error]')) ?? '').includes(evil));
  assert.ok(((await page.textContent('[data-testid=job-args]')) ?? '').includes(evil));
  assert.is(await page.locator('img').count(), 0, 'no element was made from the text');
  assert.is(await page.locator('b').count(), 0);
  assert.equal(watch.dialogs, [], 'no script ran');
  await screenshot(page, dir, 'html-as-text');
  assert.equal(watch.problems, []);
});

it('parent and child jobs link to each other', async () => {
  const bulk = (await admin.call('core.bulk', 'test.job', [[{ steps: 1, delay: 1 }], [{ steps: 1, delay: 1 }]])) as number;
  const done = await untilFinished(bulk);
  const children = (done.result as Array<{ job_id: number }>).map((r) => r.job_id);
  assert.is(children.length, 2);
  const { page, watch } = await loggedIn();
  await page.click(`${row(bulk)} a`);
  await page.waitForSelector('[data-testid=child-links]');
  assert.equal(await inPage(page, `[...document.querySelectorAll('[data-testid=child-links] a')].map((a) => a.textContent)`), children.map(String));
  await page.click(`[data-testid=child-links] a >> text="${children[0]}"`);
  await untilInPage(page, `location.hash === ${q(`#/jobs/${children[0]}`)}`);
  await page.waitForSelector('[data-testid=parent-link]');
  assert.is(await page.textContent('[data-testid=parent-link]'), `Job ${bulk}`);
  assert.equal(watch.problems, []);
});

it('keyboard: Tab reaches a job, Enter opens its panel, Escape closes it', async () => {
  const id = await startJob({ steps: 1, delay: 1 });
  await untilFinished(id);
  const { page, watch } = await loggedIn();
  await page.waitForSelector(row(id));
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await inPage<boolean>(page, `document.activeElement?.closest('table.jobs tbody') != null && document.activeElement?.tagName === 'A'`);
  }
  assert.ok(reached, 'a job link is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=job-detail]');
  assert.ok(await inPage(page, `document.activeElement?.closest('[data-testid=job-detail]') != null`), 'focus moves into the panel');
  await page.keyboard.press('Escape');
  await untilInPage(page, `!document.querySelector('[data-testid=job-detail]')`);
  assert.equal(watch.problems, []);
});

it('phone-sized viewport: one column, nothing wider than the screen; dark mode is dark', async () => {
  const id = await startJob({ steps: 30, delay: 200 });
  const { page, watch } = await loggedIn({ width: 390, height: 844 });
  await page.waitForSelector(row(id));
  const fits = `document.documentElement.scrollWidth <= window.innerWidth`;
  assert.ok(await inPage(page, fits), 'no horizontal scrolling');
  const cells = await inPage<number[]>(page, `[...document.querySelectorAll(${q(`${row(id)} td`)})].map((td) => td.getBoundingClientRect().top)`);
  assert.ok(cells.every((top, i) => i === 0 || top > cells[i - 1]!), 'the cells of a row stack');
  await screenshot(page, dir, 'jobs-phone');
  await page.click(`${row(id)} a`);
  await page.waitForSelector('[data-testid=job-detail]');
  const [detailTop, tableTop] = await inPage<number[]>(page, `[document.querySelector('[data-testid=job-detail]').getBoundingClientRect().top, document.querySelector('[data-testid=jobs-table]').getBoundingClientRect().top]`);
  assert.ok(detailTop! < tableTop!, 'the panel comes first on a phone');
  assert.ok(await inPage(page, fits), 'no horizontal scrolling with the panel');
  await screenshot(page, dir, 'job-detail-phone');
  await page.emulateMedia({ colorScheme: 'dark' });
  const bg = await inPage<string>(page, 'getComputedStyle(document.body).backgroundColor');
  const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
  assert.ok(r! + g! + b! < 150, `dark background, got ${bg}`);
  await screenshot(page, dir, 'job-detail-phone-dark');
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, dir, 'job-detail-dark');
  await admin.call('core.job_abort', id);
  assert.equal(watch.problems, []);
});

it('under 1,000 job events a second, rendering is batched to animation frames and the page responds', async () => {
  // 100 real running jobs that report nothing of their own and run until aborted (so no real
  // event of theirs can overtake the flood however slow the machine); their events then come at
  // 1,000 a second for 3 s.
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(...(await Promise.all(Array.from({ length: 10 }, () => admin.call('test.until_aborted') as Promise<number>))));
  const jobs = (await admin.call('core.get_jobs', [['id', 'in', ids]], { order_by: ['-id'] })) as Array<Record<string, unknown> & { id: number }>;
  const { page, watch } = await loggedIn();
  await page.waitForSelector(row(ids[ids.length - 1]!));
  // An independent count of animation frames, to compare with the frames that applied events.
  await inPage(page, `(() => {
    window.frameCount = 0;
    window.countFrames = true;
    window.startStats = { ...window.midship.stats };
    const tick = () => {
      window.frameCount++;
      if (window.countFrames) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  const flood = floodJobEvents(d.daemon, jobs, 1000, 3000);
  // The page answers while the flood goes on: open a job's panel.
  await page.click(`${row(ids[ids.length - 2]!)} a`);
  await page.waitForSelector('[data-testid=job-detail]');
  const last = await flood;
  // Latest wins: every row shown ends with the last progress sent for its job.
  const shown = await inPage<number[]>(page, `[...document.querySelectorAll('table.jobs tbody tr')].map((r) => Number(r.getAttribute('data-job')))`);
  const expected = shown.filter((id) => last.has(id)).map((id) => [id, last.get(id)!]);
  assert.ok(expected.length >= 40, 'most of the page is under load');
  await untilInPage(page, `${q(expected)}.every(([id, text]) => document.querySelector('tr[data-job="' + id + '"] .pdesc')?.textContent === text)`);
  const r = await inPage<{ frames: number; events: number; flushes: number }>(page, `(() => {
    window.countFrames = false;
    return { frames: window.frameCount, events: window.midship.stats.events - window.startStats.events, flushes: window.midship.stats.flushes - window.startStats.flushes };
  })()`);
  console.log(`  load: ${r.events} job events received in 3 s, applied in ${r.flushes} frames (${r.frames} frames counted)`);
  assert.ok(r.events >= 2500, `the events arrived (${r.events})`);
  assert.ok(r.flushes <= r.frames + 1, 'at most one application per animation frame');
  assert.ok(r.flushes * 3 < r.events, 'events are applied in batches, not one by one');
  for (const id of ids) await admin.call('core.job_abort', id);
  for (const id of ids) await untilFinished(id);
  assert.equal(watch.problems, []);
});

test.run();
