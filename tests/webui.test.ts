// The official TrueNAS web UI, unchanged, against a real daemon in headless Chromium: sign-in, the
// jobs panel (live progress of a running cron job, abort, log download), the cron page for a full
// admin and a read-only admin, a reload that keeps the session, sign-out. Later modules add their
// pages here (see tests/helpers/webui.ts).
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Client } from './helpers/daemon.js';
import { until } from './helpers/until.js';
import { closeErrorDialogs, errorDialogs, LATER_MODULES, navigate, newPage, signIn, startWebUi, trackCalls, webuiTest, type CallFailure, type WebUi } from './helpers/webui.js';

const PW = 'correct horse';
const VIEWER_PW = 'viewer-password-1';
const it = webuiTest(test);
let ui: WebUi | null = null;
let root: Client;

interface JobRow {
  id: number;
  state: string;
  method: string;
  arguments: unknown[];
}

test.before(async () => {
  if (it === test) {
    ui = await startWebUi({ adminPassword: PW });
    root = await Client.connect(ui.d.socketPath);
    await root.call('user.create', { username: 'viewer', password: VIEWER_PW, roles: ['READONLY_ADMIN'] });
  }
});

test.after(async () => {
  await root?.close();
  await ui?.cleanup();
});

/** Failures of calls this daemon should answer: everything but the modules still to come. */
function ownFailures(failures: CallFailure[]): CallFailure[] {
  return failures.filter((f) => !LATER_MODULES.test(f.method));
}

/** Signed in, the dashboard's dialogs (from calls of later modules) recorded and closed. */
async function signedIn(username: string, password: string): Promise<{ page: Page; calls: ReturnType<typeof trackCalls> }> {
  const page = await newPage(ui!);
  const calls = trackCalls(page);
  await signIn(ui!, username, password, page);
  await until(() => calls.pending().length === 0, 'the dashboard\'s calls to be answered', 60_000).catch((err: Error) => {
    throw new Error(`${err.message}: still waiting for ${calls.pending().join(', ')}`);
  });
  if ((await errorDialogs(page)).length > 0) await closeErrorDialogs(page);
  return { page, calls };
}

it('the sign-in page shows no error dialog; signing in with a password reaches the dashboard, whose only failing calls are those of modules still to come', async () => {
  const page = await newPage(ui!);
  const calls = trackCalls(page);
  await page.goto(ui!.base);
  await page.locator('input[formcontrolname="username"], ix-input[formcontrolname="username"] input').first().waitFor();
  await until(() => calls.pending().length === 0, 'the sign-in page\'s calls');
  assert.equal(await errorDialogs(page), [], 'no error dialog on the sign-in page');
  assert.equal(calls.failures, [], 'every call of the sign-in page answered');
  await signIn(ui!, 'admin', PW, page);
  await page.locator('[ixtest="jobs-manager"]').waitFor();
  await until(() => calls.pending().length === 0, 'the dashboard\'s calls', 60_000);
  assert.equal(ownFailures(calls.failures), [], 'every call that is not a later module\'s succeeds');
  // What the dashboard still misses, for the modules being written (printed, not asserted).
  console.log(`web UI calls left to later modules: ${[...new Set(calls.failures.map((f) => f.method))].sort().join(', ')}`);
});

it('the jobs panel shows a running cron job\'s live progress; it is aborted from the panel, and its log downloaded from the jobs page', async () => {
  const { page, calls } = await signedIn('admin', PW);
  const job = (await root.call('cronjob.create', {
    description: 'counting slowly',
    command: 'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo "{\\"percent\\": $((i/6)), \\"description\\": \\"step $i\\"}"; echo "line $i"; sleep 0.1; done',
    user: 'root',
    stdout: false,
    schedule: { minute: '0', hour: '0', dom: '1', month: '1', dow: '*' },
  })) as { id: number };
  const jobId = (await root.call('cronjob.run', job.id)) as number;
  await page.locator('[ixtest="jobs-manager"]').click();
  const item = page.locator('ix-job-item', { hasText: 'counting slowly' });
  const step = async () => Number(/step (\d+)/.exec((await item.locator('.job-progress-description').textContent()) ?? '')?.[1] ?? 0);
  const first = await until(step, 'the running job\'s progress in the panel');
  await until(async () => (await step()) > first, 'the progress to move on in the panel');
  await item.locator('.job-button-abort button').click();
  await page.locator('[ixtest="dialog-confirm"]').click();
  const aborted = await until(async () => {
    const [r] = (await root.call('core.get_jobs', [['id', '=', jobId]])) as JobRow[];
    return r?.state === 'ABORTED' ? r : null;
  }, 'the job to be aborted');
  assert.is(aborted.method, 'cronjob.run');

  await page.locator('[ixtest="history"]').click();
  await page.locator(`[data-test="button-state-job-${jobId}-row-state"]`).click();
  const download = page.waitForEvent('download');
  await page.locator('[ixtest="download-logs"]').click();
  const file = await (await download).path();
  const log = await readFile(file, 'utf8');
  assert.match(log, /line \d+/, 'the log holds the command\'s output');
  assert.match(log, /aborted/);
  assert.equal(await errorDialogs(page), [], 'no error dialog on the jobs panel or page');
  assert.equal(ownFailures(calls.failures), []);
});

it('the cron page: a full admin runs and deletes a cron job; Add opens the form (its run-as user check is the one gap)', async () => {
  const made = (await root.call('cronjob.create', { description: 'run me from the UI', command: 'echo from-the-web-ui', user: 'root', schedule: { minute: '0', hour: '0', dom: '1', month: '1', dow: '*' } })) as { id: number };
  const { page, calls } = await signedIn('admin', PW);
  await navigate(page, 'system/cron');
  // Add: the form opens and checks its "Run As User" with user.query, which lists Midship's
  // accounts, not the host's users a cron job runs as; so it accepts only a name that is both.
  await page.locator('[ixtest="add-cronjob"]').click();
  const user = page.locator('[formcontrolname="user"] input').first();
  await user.fill('root');
  await page.locator('mat-error', { hasText: 'User "root" does not exist' }).first().waitFor();
  await page.keyboard.press('Escape');
  await page.locator('[formcontrolname="user"]').waitFor({ state: 'detached' }).catch(() => undefined);

  await page.locator('[ixtest="search"]').fill('run me from the UI');
  await page.getByText('run me from the UI').first().waitFor();
  await page.locator('[ixtest="toggle-row"]').first().click();
  await page.locator('button', { hasText: 'Run Now' }).click();
  await page.locator('[ixtest="dialog-confirm"]').click();
  await until(async () => ((await root.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', made.id], ['state', '=', 'SUCCESS']])) as JobRow[]).length > 0, 'the run started from the UI to succeed');

  await page.locator('button', { hasText: 'Delete' }).click();
  await page.locator('[ixtest="dialog-confirm"]').click();
  await until(async () => ((await root.call('cronjob.query', [['id', '=', made.id]])) as unknown[]).length === 0, 'the cron job to be deleted');
  assert.equal(await errorDialogs(page), [], 'no error dialog on the cron page');
  assert.equal(ownFailures(calls.failures).filter((f) => f.method !== 'user.query'), [], 'nothing failed but the run-as user look-up');
});

it('the cron page: a read-only admin sees the cron jobs, but Add, Run Now and Delete are locked', async () => {
  await root.call('cronjob.create', { description: 'look, do not touch', command: 'true', user: 'root', schedule: { minute: '0', hour: '0', dom: '1', month: '1', dow: '*' } });
  const { page, calls } = await signedIn('viewer', VIEWER_PW);
  await navigate(page, 'system/cron');
  await page.locator('[ixtest="search"]').fill('look, do not touch');
  await page.getByText('look, do not touch').first().waitFor();
  assert.ok(await page.locator('[ixtest="add-cronjob"]').isDisabled(), 'Add is locked');
  await page.locator('[ixtest="toggle-row"]').first().click();
  for (const label of ['Run Now', 'Delete']) {
    assert.ok(await page.locator('button', { hasText: label }).first().isDisabled(), `${label} is locked`);
  }
  assert.equal(await errorDialogs(page), [], 'no error dialog on the cron page');
  assert.equal(ownFailures(calls.failures), []);
});

it('a reload keeps the session (a reconnect token), and signing out ends it', async () => {
  const { page, calls } = await signedIn('admin', PW);
  await navigate(page, 'system/cron');
  await page.locator('[ixtest="add-cronjob"]').waitFor();
  await page.reload();
  await page.locator('[ixtest="add-cronjob"]').waitFor({ timeout: 60_000 });
  assert.match(page.url(), /\/webui\/system\/cron/, 'still signed in, on the same page');
  // A reload loads the whole app again, with the calls of later modules' (system.info) dialogs.
  await until(async () => (await errorDialogs(page)).length > 0 || calls.pending().length === 0, 'the reloaded app\'s calls', 60_000);
  if ((await errorDialogs(page)).length > 0) await closeErrorDialogs(page);
  assert.equal(ownFailures(calls.failures), []);
  await page.locator('[ixtest="power-menu"]').click();
  await page.getByText(/log ?out/i).first().click();
  await page.locator('input[formcontrolname="password"], ix-input[formcontrolname="password"] input').first().waitFor({ timeout: 60_000 });
  await page.reload();
  await page.locator('input[formcontrolname="password"], ix-input[formcontrolname="password"] input').first().waitFor({ timeout: 60_000 });
  assert.not.match(page.url(), /dashboard|cron/, 'after signing out a reload asks to sign in again');
});

test.run();
