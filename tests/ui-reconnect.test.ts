// The dashboard's connection in a real headless Chromium: a dropped socket reconnects by itself
// (token login, subscriptions renewed, live updates resume); a daemon restart shows the
// "reconnecting" banner, then asks for a login (tokens do not survive a restart) and the durable
// history is there again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { browserTest, chromiumPath, launchBrowser, q, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { Client, startDaemon, type StartOptions, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';

const PW = 'pw-reconnect';
const it = browserTest(test);
let d: TestDaemon;
let browser: Browser | null = null;
let dataDir: string;
let shots: string;

const options = (port: number): StartOptions => ({ modules, adminPassword: PW, dataDir, port, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 50 } });

async function adminClient(): Promise<Client> {
  const c = await Client.connect(d.url);
  await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: PW });
  return c;
}

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'midship-ui-reconnect-'));
  shots = await mkdtemp(join(tmpdir(), 'midship-ui-reconnect-shots-'));
  d = await startDaemon(options(0));
  if (chromiumPath() !== null) browser = await launchBrowser();
});

test.after(async () => {
  await browser?.close();
  await d?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(shots, { recursive: true, force: true });
});

it('a dropped connection comes back by itself: no login, live updates resume', async () => {
  const page = await browser!.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${d.port}/ui/`);
  await uiLogin(page, 'admin', PW);
  await page.waitForSelector('[data-testid=jobs-table]');
  // The daemon closes every logged-in connection; the token the page keeps is still valid.
  assert.is(d.daemon.auth.endSessions(() => true, 'test: dropped'), 1);
  await untilInPage(page, `/reconnecting/.test(document.querySelector('[data-testid=conn-banner]')?.textContent ?? '')`);
  await untilInPage(page, `document.querySelector('[data-testid=conn-banner]')?.textContent === ''`);
  assert.is(await page.locator('#login-secret').count(), 0, 'no login needed');
  const admin = await adminClient();
  const id = (await admin.call('test.job', { steps: 20, delay: 100 })) as number;
  await untilInPage(page, `/Success/.test(document.querySelector(${q(`tr[data-job="${id}"] .state`)})?.textContent ?? '')`);
  await admin.close();
  await page.close();
  assert.equal(watch.problems, []);
});

it('after a daemon restart: the reconnecting banner, then the same session and history, live again', async () => {
  const admin = await adminClient();
  const before = (await admin.call('test.job', { steps: 1, delay: 1 })) as number;
  await admin.close();
  const page = await browser!.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${d.port}/ui/`);
  await uiLogin(page, 'admin', PW);
  await page.waitForSelector(`tr[data-job="${before}"]`);
  const port = d.port;
  await d.stop();
  await untilInPage(page, `/reconnecting/.test(document.querySelector('[data-testid=conn-banner]')?.textContent ?? '')`);
  assert.ok(await page.isVisible('[data-testid=conn-banner]'));
  await screenshot(page, shots, 'reconnecting');
  d = await startDaemon(options(port));
  await untilInPage(page, `document.querySelector('[data-testid=conn-banner]')?.textContent === ''`);
  // Tokens are durable: the page logs in again by itself and shows the same history.
  await page.waitForSelector(`tr[data-job="${before}"]`);
  assert.is(await page.locator('#login-secret').count(), 0, 'no login needed after the restart');
  const again = await adminClient();
  const after = (await again.call('test.job', { steps: 5, delay: 50 })) as number;
  await untilInPage(page, `/Success/.test(document.querySelector(${q(`tr[data-job="${after}"] .state`)})?.textContent ?? '')`);
  await again.close();
  await page.close();
  assert.equal(watch.problems, []);
});

test.run();
