// The dashboard's alert parts in a real headless Chromium against a real daemon: the bell counts
// active alerts by level and follows them live; the alerts page dismisses and restores; the alert
// services page sends a test message and adds and removes a service; the webhooks page adds a
// webhook, tests it and shows its recent deliveries as they happen. Receivers are real local
// HTTP servers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modules as builtIn } from '../methods/index.js';
import { alertTestModule } from './helpers/alert-test-module.js';
import { browserTest, chromiumPath, launchBrowser, q, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { HttpReceiver } from './helpers/delivery.js';
import { until } from './helpers/until.js';

const PW = 'pw-alerts-ui';
const it = browserTest(test);
let d: TestDaemon;
let root: Client;
let rx: HttpReceiver;
let browser: Browser | null = null;
let page: Page;
let watch: ReturnType<typeof watchPage>;
let shots: string;

test.before(async () => {
  shots = await mkdtemp(join(tmpdir(), 'midship-ui-alerts-'));
  rx = await HttpReceiver.start();
  d = await startDaemon({ modules: [...builtIn, alertTestModule], adminPassword: PW, limits: { anonCallsPerMinute: 10_000 } });
  root = await Client.connect(d.socketPath);
  await root.call('core.set_options', { legacy_jobs: false });
  if (chromiumPath() === null) return;
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${d.port}/ui/#/alerts`);
  await uiLogin(page, 'admin', PW);
  await page.waitForSelector('[data-testid=alert-bell]');
});

test.after(async () => {
  await browser?.close();
  await root?.close();
  await d?.cleanup();
  await rx?.close();
  await rm(shots, { recursive: true, force: true });
});

const bellCount = (level: string) => `Number(document.querySelector('[data-testid=alert-bell] [data-level=${level}]')?.textContent.split(' ')[0] ?? 0)`;
const rowOf = (klass: string) => `[data-testid=alert-row][data-klass=${klass}]`;

it('the bell counts active alerts by level and follows them; the alerts page dismisses and restores', async () => {
  // TestNotice (INFO) was raised at start; add an ERROR and a WARNING.
  await root.call('alerttest.raise', 'TestTaskFailed', { id: 3, error: 'exit 2' });
  await root.call('alerttest.set', [{ name: 'fan', value: 40 }]);
  await root.call('alert.process_alerts', ['TestReadings']);
  await untilInPage(page, `${bellCount('ERROR')} === 1 && ${bellCount('WARNING')} === 1 && ${bellCount('INFO')} === 1`);
  assert.match((await page.getAttribute('[data-testid=alert-bell]', 'aria-label')) ?? '', /^Alerts: 3 active \(1 error, 1 warning, 1 info\)$/);
  await page.waitForSelector(rowOf('TestTooHigh'));
  assert.match((await page.textContent('[data-testid=alerts-active]')) ?? '', /Task 3 failed: exit 2[\s\S]*fan is 40, above 10/);
  await screenshot(page, shots, 'alerts');

  // Dismiss the warning: it moves to the dismissed list and leaves the count.
  await page.click(`[data-testid=alerts-active] ${rowOf('TestTooHigh')} [data-testid=alert-dismiss]`);
  await page.waitForSelector(`[data-testid=alerts-dismissed] ${rowOf('TestTooHigh')}`);
  await untilInPage(page, `${bellCount('WARNING')} === 0`);
  await page.click(`[data-testid=alerts-dismissed] ${rowOf('TestTooHigh')} [data-testid=alert-restore]`);
  await page.waitForSelector(`[data-testid=alerts-active] ${rowOf('TestTooHigh')}`);
  await untilInPage(page, `${bellCount('WARNING')} === 1`);

  // A one-shot alert is deleted when dismissed.
  await page.click(`${rowOf('TestTaskFailed')} [data-testid=alert-dismiss]`);
  await untilInPage(page, `document.querySelector(${q(rowOf('TestTaskFailed'))}) === null && ${bellCount('ERROR')} === 0`);
  assert.equal(((await root.call('alert.list')) as Array<{ klass: string }>).filter((a) => a.klass === 'TestTaskFailed'), []);

  // The condition clears elsewhere: the page follows.
  await root.call('alerttest.set', []);
  await root.call('alert.process_alerts', ['TestReadings']);
  await untilInPage(page, `document.querySelector(${q(rowOf('TestTooHigh'))}) === null && ${bellCount('WARNING')} === 0`);
  assert.equal(watch.problems, []);
});

it('alert services: a test message, a refused URL named, add and remove', async () => {
  await page.click('nav >> text=Alert services');
  await page.waitForSelector('[data-testid=alertservice-form]');
  await page.fill('#as-name', 'team chat');
  await page.selectOption('#as-type', 'Slack');
  await page.fill('#as-url', 'file:///etc/passwd');
  await page.click('[data-testid=alertservice-test]');
  await page.waitForSelector('[data-testid=alertservice-errors]');
  assert.match((await page.textContent('[data-testid=alertservice-errors]')) ?? '', /url: Only http:\/\/ and https:\/\/ URLs are allowed/);

  await page.fill('#as-url', rx.url('/slack'));
  await page.click('[data-testid=alertservice-test]');
  await untilInPage(page, `(document.querySelector('[data-testid=alertservice-note]')?.textContent ?? '').includes('accepted')`);
  assert.match(JSON.parse((await until(() => rx.received.find((r) => r.url === '/slack'), 'the test message')).body).text as string, /Test alert/);

  await page.selectOption('#as-level', 'ERROR');
  await page.click('[data-testid=alertservice-form] button[type=submit]');
  await page.waitForSelector('[data-testid=alertservice-row]');
  const row = (await page.textContent('[data-testid=alertservice-row]')) ?? '';
  assert.match(row, /team chat[\s\S]*Slack[\s\S]*ERROR/);
  assert.not.match(row, /\/slack/, 'the Slack URL is a secret: shown as ********');
  const [svc] = (await root.call('alertservice.query')) as Array<{ id: number; name: string; level: string }>;
  assert.equal([svc!.name, svc!.level], ['team chat', 'ERROR']);

  await page.click('[data-testid=alertservice-delete]');
  await page.click('[data-testid=alertservice-delete-confirm]');
  await untilInPage(page, `document.querySelector('[data-testid=alertservice-row]') === null`);
  assert.equal(await root.call('alertservice.query'), []);
  assert.equal(watch.problems, []);
});

it('webhooks: add one, test it, and watch its deliveries come in', async () => {
  await page.click('nav >> text=Webhooks');
  await page.waitForSelector('[data-testid=webhook-form]');
  await page.fill('#wh-name', 'failures');
  await page.fill('#wh-url', rx.url('/hook'));
  await page.fill('#wh-secret', 'short');
  await page.click('[data-testid=webhook-form] button[type=submit]');
  await page.waitForSelector('[data-testid=webhook-errors]');
  assert.match((await page.textContent('[data-testid=webhook-errors]')) ?? '', /secret/);
  await page.fill('#wh-secret', 'a-long-enough-signing-secret');
  await page.fill('#wh-methods', 'alerttest.*');
  await page.click('[data-testid=webhook-form] button[type=submit]');
  await page.waitForSelector('[data-testid=webhook]');
  assert.match((await page.textContent('[data-testid=webhook]')) ?? '', /failures[\s\S]*alerttest\.\*[\s\S]*FAILED[\s\S]*nothing waiting/);

  await page.click('[data-testid=webhook-test]');
  await untilInPage(page, `(document.querySelector('[data-testid=webhook-note]')?.textContent ?? '').startsWith('Test delivered: HTTP 200')`);

  await page.click('[data-testid=webhook-deliveries-toggle]');
  await page.waitForSelector('[data-testid=deliveries-none]');
  rx.reply = (r) => (r.url === '/hook' ? { status: 503, body: 'later' } : { status: 200 });
  assert.ok((await root.request('alerttest.work', [0, 0, 'broken'])).error);
  // The failed try shows up by itself, RETRYING with its code; the queue says one waits.
  await page.waitForSelector('[data-testid=delivery-row][data-status=RETRYING]');
  assert.match((await page.textContent('[data-testid=webhook-deliveries]')) ?? '', /job\.FAILED[\s\S]*RETRYING[\s\S]*503[\s\S]*HTTP 503: later/);
  await untilInPage(page, `(document.querySelector('[data-testid=webhook-queue]')?.textContent ?? '').startsWith('1 waiting')`);
  await screenshot(page, shots, 'webhooks');

  rx.reply = () => ({ status: 200 });
  const [hook] = (await root.call('webhook.query')) as Array<{ id: number }>;
  await root.call('webhook.retry_now', hook!.id);
  await page.waitForSelector('[data-testid=delivery-row][data-status=SUCCESS]');
  await untilInPage(page, `(document.querySelector('[data-testid=webhook-queue]')?.textContent ?? '') === 'nothing waiting'`);

  await page.click('[data-testid=webhook-delete]');
  await page.click('[data-testid=webhook-delete-confirm]');
  await untilInPage(page, `document.querySelector('[data-testid=webhook]') === null`);
  assert.equal(watch.problems, []);
});

test.run();
