// The System and Shell pages in a real headless Chromium against a real daemon: the host's facts,
// live charts (uPlot) that gain points from reporting.realtime, history ranges from
// reporting.get_data; a terminal (xterm.js) that runs `echo $((6*7))` in the web shell and shows
// 42, and whose shell ends when the page is left. No script error and no CSP refusal throughout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { browserTest, chromiumPath, inPage, launchBrowser, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { isAlive } from './helpers/pids.js';
import { useEmptyHome } from './helpers/shell-home.js';
import { until } from './helpers/until.js';

const PW = 'pw-system-ui';
const it = browserTest(test);
let d: TestDaemon;
let browser: Browser | null = null;
let shots: string;
let restoreHome: () => Promise<void>;

test.before(async () => {
  restoreHome = await useEmptyHome();
  shots = await mkdtemp(join(tmpdir(), 'midship-ui-system-'));
  d = await startDaemon({ adminPassword: PW });
  if (chromiumPath() !== null) browser = await launchBrowser();
});

test.after(async () => {
  await browser?.close();
  await d?.cleanup();
  await restoreHome();
  await rm(shots, { recursive: true, force: true });
});

async function open(hash: string): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${d.port}/ui/#/${hash}`);
  await uiLogin(page, 'admin', PW);
  return { page, watch };
}

const points = (page: Page, id: string) => inPage<number>(page, `Number(document.querySelector('[data-testid=chart-${id}]')?.dataset.points ?? -1)`);

it('System page: facts, live charts that grow, history ranges', async () => {
  const { page, watch } = await open('system');
  try {
    await page.waitForSelector('[data-testid=system-hostname]');
    const hostname = (await page.textContent('[data-testid=system-hostname]'))!;
    assert.is(hostname, ((await d.daemon.call('system.info', [])) as { hostname: string }).hostname);
    assert.match((await page.textContent('[data-testid=system-version]'))!, /^Midship \d+\.\d+\.\d+/);
    for (const id of ['cpu', 'memory', 'network', 'disk']) await page.waitForSelector(`[data-testid=chart-${id}] canvas`);
    await until(async () => (await points(page, 'cpu')) >= 2, 'two live points', 30_000, 200);
    const before = await points(page, 'cpu');
    await until(async () => (await points(page, 'cpu')) > before, 'the live chart to grow', 30_000, 200);
    assert.ok((await page.textContent('[data-testid=chart-cpu] .u-legend'))!.includes('usage'), 'uPlot legend');
    assert.match((await page.textContent('[data-testid=chart-pools]'))!, /No pools/);
    await screenshot(page, shots, 'system-live', true);

    await page.click('[data-testid=range-hour]');
    await untilInPage(page, `document.querySelector('.charts')?.dataset.range === 'hour'`);
    await page.waitForSelector('[data-testid=chart-cpu] canvas');
    // The first 10 s history row exists once the daemon ran a little: the hour range shows it.
    await until(async () => {
      await page.click('[data-testid=range-day]');
      await page.click('[data-testid=range-hour]');
      await untilInPage(page, `document.querySelector('.charts')?.dataset.range === 'hour'`);
      return (await points(page, 'cpu')) > 0;
    }, 'a history row in the hour range', 60_000, 2000);
    await page.click('[data-testid=range-month]');
    await untilInPage(page, `document.querySelector('.charts')?.dataset.range === 'month'`);
    await page.waitForSelector('[data-testid=chart-memory] canvas');
    await screenshot(page, shots, 'system-month', true);
    assert.equal(watch.problems, []);
  } finally {
    await page.context().close();
  }
});

it('Shell page: a terminal that runs a command, and whose shell ends when the page is left', async () => {
  const { page, watch } = await open('shell');
  try {
    await untilInPage(page, `document.querySelector('[data-testid=shell-status]')?.dataset.state === 'connected'`);
    await page.waitForSelector('[data-testid=shell-terminal] .xterm-rows');
    await page.click('[data-testid=shell-terminal]');
    await page.keyboard.type('echo $((6*7)) "pid=$$"');
    await page.keyboard.press('Enter');
    const rows = () => inPage<string[]>(page, `[...document.querySelectorAll('[data-testid=shell-terminal] .xterm-rows > div')].map((r) => r.textContent.replace(/\\u00a0/g, ' ').trimEnd())`);
    const line = await until(async () => (await rows()).find((r) => /^42 pid=\d+$/.test(r)), 'the line "42 pid=N" on the terminal', 20_000, 100);
    const pid = Number(/pid=(\d+)/.exec(line)![1]);
    await screenshot(page, shots, 'shell');
    assert.equal(watch.problems, []);
    // Leaving the page closes the socket: the shell goes.
    await page.evaluate(`location.hash = '#/jobs'`);
    await until(() => !isAlive(pid), 'the shell to end once the page is left');
  } finally {
    await page.context().close();
  }
});

test.run();
