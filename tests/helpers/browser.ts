// A real headless Chromium for the dashboard tests (playwright-core drives it; it downloads
// nothing). Debian's package `chromium-headless-shell` installs /usr/lib/chromium/chromium-headless-shell.
// Without a browser the tests are skipped with a message, unless MIDSHIP_REQUIRE_BROWSER=1 (CI),
// where a missing browser is a failure.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test as uvuTest } from 'uvu';
import { wireViolation } from './wire-check.js';
import { until } from './until.js';

export const INSTALL_HINT =
  'install it with `apt-get update && apt-get install -y chromium-headless-shell` (Debian/Ubuntu), or point MIDSHIP_CHROMIUM at a Chromium binary';

const CANDIDATES = [
  '/usr/lib/chromium/chromium-headless-shell',
  '/usr/bin/chromium-headless-shell',
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
];

export function chromiumPath(): string | null {
  const fromEnv = process.env.MIDSHIP_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

type TestFn = (name: string, fn: () => Promise<void> | void) => void;

/**
 * `test` when a browser exists; otherwise test.skip (with one message), or, when the browser is
 * required, a test that fails saying what is missing.
 */
export function browserTest(test: typeof uvuTest = uvuTest): TestFn {
  if (chromiumPath() !== null) return test;
  if (process.env.MIDSHIP_REQUIRE_BROWSER === '1') {
    return (name) => test(name, () => {
      throw new Error(`no Chromium found (MIDSHIP_REQUIRE_BROWSER=1): ${INSTALL_HINT}`);
    });
  }
  console.log(`SKIPPING browser tests: no Chromium found; ${INSTALL_HINT}`);
  return (name, fn) => test.skip(name, fn);
}

export function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === null) throw new Error(`no Chromium found: ${INSTALL_HINT}`);
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

/**
 * Records what a page reports that a test should never see: script errors, CSP refusals, dialogs,
 * and frames from the daemon that break the ejson wire rule.
 */
export function watchPage(page: Page): { problems: string[]; dialogs: string[] } {
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    const violation = typeof payload === 'string' ? wireViolation(payload, `the daemon to ${ws.url()}`) : null;
    if (violation) problems.push(`wire: ${violation.message}`);
  }));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection to/.test(t)) problems.push(`console: ${t}`);
    if (/Content Security Policy/i.test(t)) problems.push(`csp: ${t}`);
  });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { problems, dialogs };
}

/** Screenshots go to MIDSHIP_UI_SHOTS when set (kept), else into the test's temp dir. */
export async function screenshot(page: Page, dir: string, name: string, fullPage = false): Promise<string> {
  const out = process.env.MIDSHIP_UI_SHOTS || join(dir, 'screenshots');
  await mkdir(out, { recursive: true });
  const file = join(out, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** Log in through the login form. */
export async function uiLogin(page: Page, username: string, secret: string, kind: 'password' | 'api_key' = 'password'): Promise<void> {
  if (kind === 'api_key') await page.check('input[name=kind][value=api_key]');
  await page.fill('#login-user', username);
  await page.fill('#login-secret', secret);
  await page.click('form.login-card button[type=submit]');
}

// In-page code is passed as source text: the tests are compiled without the DOM library, and
// values are spliced in with JSON.stringify.

/** The value of a JavaScript expression evaluated in the page. */
export function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/**
 * Wait until a JavaScript expression is truthy in the page. Polled from here: page.waitForFunction
 * with source text needs eval in the page, which the dashboard's CSP (rightly) forbids.
 */
export async function untilInPage(page: Page, expression: string, timeout = 30_000): Promise<void> {
  await until(() => page.evaluate(expression), expression, timeout);
}

export const q = JSON.stringify;

/** What `floodJobEvents` needs of a daemon: its event bus. */
export interface EventSink {
  events: { emit(name: string, msg: 'added' | 'changed', id: unknown, fields?: unknown, options?: { coalesceKey?: string | null }): void };
}

/**
 * Sends `core.get_jobs` "changed" events for `jobs` (complete job objects as core.get_jobs returns
 * them) at `perSecond` for `ms`, each with a new progress, round-robin. The daemon's own progress
 * throttle (10 a second per job) would need hundreds of jobs for this rate; the events on the wire
 * are the same. Returns the last description sent for each job id.
 */
export async function floodJobEvents(d: EventSink, jobs: Array<Record<string, unknown> & { id: number }>, perSecond: number, ms: number): Promise<Map<number, string>> {
  const last = new Map<number, string>();
  const start = performance.now();
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    const due = Math.min(Math.floor((elapsed * perSecond) / 1000), Math.floor((ms * perSecond) / 1000));
    for (; sent < due; sent++) {
      const job = jobs[sent % jobs.length]!;
      const description = `flood ${sent}`;
      d.events.emit('core.get_jobs', 'changed', job.id, { ...job, state: 'RUNNING', progress: { percent: sent % 100, description, extra: null } }, { coalesceKey: `job:${job.id}` });
      last.set(job.id, description);
    }
    if (elapsed >= ms) return last;
    await new Promise((r) => setTimeout(r, 5));
  }
}
