// The Sessions page in a real headless Chromium against a real daemon: every session for an
// admin, live; ending one closes it and its tokens, so a dashboard it belonged to cannot log back
// in; "end all other sessions"; a user without roles sees only its own sessions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { browserTest, chromiumPath, launchBrowser, q, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';

const PW = 'pw-sessions';
const it = browserTest(test);
let d: TestDaemon;
let browser: Browser | null = null;
let shots: string;
const contexts: BrowserContext[] = [];
const clients: Client[] = [];

test.before(async () => {
  shots = await mkdtemp(join(tmpdir(), 'midship-ui-sessions-'));
  d = await startDaemon({ modules, adminPassword: PW, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 50 } });
  const root = await Client.connect(d.socketPath);
  await root.call('user.create', { username: 'bob', password: 'bob-password-1', roles: [] });
  await root.call('user.create', { username: 'carol', password: 'carol-password-1', roles: [] });
  await root.close();
  if (chromiumPath() !== null) browser = await launchBrowser();
});

test.after(async () => {
  for (const c of clients) c.ws.terminate();
  for (const c of contexts) await c.close();
  await browser?.close();
  await d?.cleanup();
  await rm(shots, { recursive: true, force: true });
});

async function login(username: string, password: string): Promise<Client> {
  const c = await Client.connect(d.url);
  clients.push(c);
  await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password });
  return c;
}

async function dashboard(username: string, password: string): Promise<{ page: Page; watch: ReturnType<typeof watchPage> }> {
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${d.port}/ui/#/sessions`);
  await uiLogin(page, username, password);
  await page.waitForSelector('[data-testid=sessions-table]');
  return { page, watch };
}

const rows = (page: Page) => page.$$eval('[data-testid=sessions-table] tbody tr', (trs) => trs.map((tr) => (tr as unknown as { textContent: string }).textContent));
const rowOf = async (c: Client) => `tr[data-session="${((await c.call('auth.sessions', [['current', '=', true]], { get: true })) as { id: string }).id}"]`;

it('an admin sees every session live and ends one: its connection closes and its dashboard cannot log back in', async () => {
  const bobApi = await login('bob', 'bob-password-1');
  const bobToken = (await bobApi.call('auth.generate_token', 600)) as string;
  const bobUi = await dashboard('bob', 'bob-password-1');
  const { page, watch } = await dashboard('admin', PW);
  await untilInPage(page, `document.querySelectorAll('[data-testid=sessions-table] tbody tr').length === 3`);
  const all = await rows(page);
  const text = all.join('\n');
  assert.match(text, /admin.*this session/);
  assert.is(all.filter((r) => r.includes('bob')).length, 2);
  assert.match(text, /127\.0\.0\.1:\d+/);
  assert.match(text, /Password/);

  // A login elsewhere shows up by itself.
  const carol = await login('carol', 'carol-password-1');
  await page.waitForSelector(await rowOf(carol));
  await screenshot(page, shots, 'sessions');

  // End bob's API session: closed at once, its token revoked, its row gone.
  const row = await rowOf(bobApi);
  await page.click(`${row} [data-testid=session-end]`);
  await page.click(`${row} [data-testid=session-end-confirm]`);
  assert.is(await bobApi.closed, 1008);
  await untilInPage(page, `document.querySelector(${q(row)}) === null`);
  const retry = await Client.connect(d.url);
  clients.push(retry);
  assert.equal(await retry.call('auth.login_ex', { mechanism: 'TOKEN_PLAIN', token: bobToken }), { response_type: 'AUTH_ERR' });

  // End bob's dashboard session: the page reconnects, its stored token is revoked, it asks for a login.
  const uiRow = `tr[data-session]:has-text("bob")`;
  await page.click(`${uiRow} [data-testid=session-end]`);
  await page.click(`${uiRow} [data-testid=session-end-confirm]`);
  await bobUi.page.waitForSelector('[data-testid=login-error]');
  assert.match((await bobUi.page.textContent('[data-testid=login-error]')) ?? '', /session has ended/);
  await untilInPage(page, `document.querySelectorAll('[data-testid=sessions-table] tbody tr').length === 2`);

  // End all the others: carol goes, the admin stays.
  await page.click('[data-testid=sessions-end-others]');
  await page.click('[data-testid=sessions-end-others-confirm]');
  assert.is(await carol.closed, 1008);
  await untilInPage(page, `document.querySelectorAll('[data-testid=sessions-table] tbody tr').length === 1`);
  assert.match((await rows(page)).join(''), /admin.*this session/);
  assert.equal(watch.problems, []);
  assert.equal(bobUi.watch.problems, []);
});

it('a user without roles sees only its own sessions and can end them', async () => {
  const other = await login('carol', 'carol-password-1');
  const own = await login('bob', 'bob-password-1');
  const { page, watch } = await dashboard('bob', 'bob-password-1');
  await untilInPage(page, `document.querySelectorAll('[data-testid=sessions-table] tbody tr').length === 2`);
  const text = (await rows(page)).join('\n');
  assert.not.match(text, /carol|admin/);
  const row = await rowOf(own);
  await page.click(`${row} [data-testid=session-end]`);
  await page.click(`${row} [data-testid=session-end-confirm]`);
  assert.is(await own.closed, 1008);
  await untilInPage(page, `document.querySelectorAll('[data-testid=sessions-table] tbody tr').length === 1`);
  assert.is(other.closeCode, null, "carol's session is not bob's to end");
  assert.equal(watch.problems, []);
});

test.run();
