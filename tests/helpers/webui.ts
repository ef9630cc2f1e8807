// The official TrueNAS web UI (a production build in ../shared/truenas-webui, never copied into the
// repository) served by a real daemon (--webui-dir) and driven in headless Chromium. A suite
// starts one with startWebUi(), signs in with signIn() and checks a page with errorDialogs();
// a module adds its page the same way (open its route, act, assert no error dialog).
//
// Without the archive the tests are skipped with a one-line hint, unless MIDSHIP_REQUIRE_WEBUI=1
// (CI, where ../shared exists), where a missing archive is a failure.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test as uvuTest } from 'uvu';
import { DEFAULT_AUTH } from '../../daemon/config.js';
import { chromiumPath, INSTALL_HINT, launchBrowser } from './browser.js';
import { startDaemon, type StartOptions, type TestDaemon } from './daemon.js';
import { modules as builtIn } from '../../methods/index.js';
import { storageModule } from '../../methods/storage/index.js';

const run = promisify(execFile);

/** The web UI build archive beside the project (MIDSHIP_WEBUI_ARCHIVE overrides). */
export function webuiArchive(): string {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  return process.env.MIDSHIP_WEBUI_ARCHIVE ?? join(root, '..', 'shared', 'truenas-webui', 'webui-dist.tar.gz');
}

const HINT = `no TrueNAS web UI build at ${webuiArchive()} (set MIDSHIP_WEBUI_ARCHIVE to a webui-dist.tar.gz)`;

type TestFn = (name: string, fn: () => Promise<void> | void) => void;

/** `test` when the archive and a browser exist; else skipped with one line, or failing when required. */
export function webuiTest(test: typeof uvuTest = uvuTest): TestFn {
  const missing = !existsSync(webuiArchive()) ? HINT : chromiumPath() === null ? `no Chromium found: ${INSTALL_HINT}` : null;
  if (missing === null) return test;
  if (process.env.MIDSHIP_REQUIRE_WEBUI === '1' || (process.env.MIDSHIP_REQUIRE_BROWSER === '1' && chromiumPath() === null)) {
    return (name) => test(name, () => {
      throw new Error(`${missing} (MIDSHIP_REQUIRE_WEBUI=1)`);
    });
  }
  console.log(`SKIPPING web UI tests: ${missing}`);
  return (name, fn) => test.skip(name, fn);
}

export interface WebUi {
  d: TestDaemon;
  browser: Browser;
  /** http://127.0.0.1:PORT/webui/ */
  base: string;
  contexts: BrowserContext[];
  cleanup(): Promise<void>;
}

/** Unpack the build to a temp dir, start a daemon serving it and a browser. */
export async function startWebUi(options: StartOptions = {}): Promise<WebUi> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-webui-'));
  await run('tar', ['-xzf', webuiArchive(), '-C', dir]);
  // Quick failures: a wrong password costs the test one second, not the default's.
  // Without the storage module: the zfs-fuse these machines share stalls for minutes while other
  // test files hammer it, and the dashboard's pool.query would wait on it (its own tests cover
  // storage; a stalled ZFS is an environment fault, not the UI's). Its calls then fail as
  // LATER_MODULES allows.
  const modules = options.modules ?? builtIn.filter((m) => m !== storageModule);
  const d = await startDaemon({ limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 50 }, ...options, modules, webuiDir: dir });
  const browser = await launchBrowser();
  const contexts: BrowserContext[] = [];
  return {
    d,
    browser,
    base: `http://127.0.0.1:${d.port}/webui/`,
    contexts,
    cleanup: async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await d.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh browser context (its own storage) and page, downloads accepted. */
export async function newPage(ui: WebUi): Promise<Page> {
  const ctx = await ui.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  ui.contexts.push(ctx);
  return ctx.newPage();
}

/**
 * The UI's error dialogs open now ("Method does not exist", "Not authorized", ...): the title and
 * text of each. The UI opens them for calls that fail; a page without any is what a test wants.
 */
export async function errorDialogs(page: Page): Promise<string[]> {
  return page.locator('ix-error-dialog, mat-dialog-container:has(.error-dialog), mat-dialog-container:has(ix-error-template)').evaluateAll(
    (nodes) => nodes.map((n) => (n.textContent ?? '').replace(/\s+/g, ' ').trim()),
  );
}

/** Open the sign-in page and sign in; resolves on the dashboard. */
export async function signIn(ui: WebUi, username: string, password: string, page?: Page): Promise<Page> {
  const p = page ?? (await newPage(ui));
  await p.goto(ui.base);
  await p.locator('input[formcontrolname="username"], ix-input[formcontrolname="username"] input').first().fill(username);
  await p.locator('input[formcontrolname="password"], ix-input[formcontrolname="password"] input').first().fill(password);
  await p.locator('button[type="submit"]').first().click();
  await p.waitForURL(/\/webui\/dashboard/, { timeout: 60_000 });
  return p;
}

/** Go to a page of the UI by its route (e.g. `system/cron`) and wait until `ready` is visible. */
export async function openPage(ui: WebUi, page: Page, route: string, ready: string): Promise<void> {
  await page.goto(`${ui.base}${route}`);
  await page.locator(ready).first().waitFor({ state: 'visible', timeout: 60_000 });
}

export interface CallFailure {
  method: string;
  error: string;
}

/**
 * Every call the page's WebSocket makes that fails, as `method` (or `core.subscribe:<event>`) and
 * the error's message; `pending` lists the calls not answered yet.
 */
export function trackCalls(page: Page): { failures: CallFailure[]; pending: () => string[] } {
  const sockets = new Set<Map<string, string>>();
  const failures: CallFailure[] = [];
  page.on('websocket', (ws) => {
    // Per socket: a call sent on a socket the UI then closed is never answered, and not pending.
    const sent = new Map<string, string>();
    sockets.add(sent);
    ws.on('close', () => sockets.delete(sent));
    ws.on('framesent', ({ payload }) => {
      const m = JSON.parse(String(payload)) as { id?: string; method?: string; params?: unknown[] };
      // core.set_options is sent as the socket opens, sometimes on one the UI then abandons.
      if (m.id === undefined || m.method === undefined || m.method === 'core.set_options') return;
      sent.set(m.id, m.method === 'core.subscribe' ? `core.subscribe:${String(m.params?.[0])}` : m.method);
    });
    ws.on('framereceived', ({ payload }) => {
      const m = JSON.parse(String(payload)) as { id?: string; error?: { message?: string; data?: { reason?: string } } };
      if (m.id === undefined || !sent.has(m.id)) return;
      const method = sent.get(m.id)!;
      sent.delete(m.id);
      if (m.error) failures.push({ method, error: m.error.data?.reason?.trim() ?? m.error.message ?? 'error' });
    });
  });
  return { failures, pending: () => [...sockets].flatMap((s) => [...s.values()]) };
}

/**
 * Calls the web UI makes that belong to modules not written yet (rsync and cloud sync tasks,
 * network change check-ins, apps, VMs), and storage (left out of these daemons: see startWebUi).
 */
export const LATER_MODULES = /^(core\.subscribe:)?(interface\.(checkin_waiting|has_pending_changes)$|pool\.|disk\.|replication\.|rsynctask\.|cloudsync\.|systemdataset\.|app\.|virt\.|vm\.|container\.)/;

/** Go to a route of the UI inside the running app (no reload), as its own links do. */
export async function navigate(page: Page, route: string): Promise<void> {
  const path = JSON.stringify(new URL(route, page.url()).pathname);
  await page.evaluate(`history.pushState({}, '', ${path}); dispatchEvent(new PopStateEvent('popstate', { state: {} }))`);
}

/** Close every error dialog open now (after errorDialogs() recorded them). */
export async function closeErrorDialogs(page: Page): Promise<void> {
  for (const b of await page.locator('[ixtest="close-error-dialog"]').all()) await b.click();
  await page.locator('ix-error-dialog').waitFor({ state: 'detached' });
}
