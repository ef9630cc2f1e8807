// The official TrueNAS web UI, unchanged, against a real daemon in headless Chromium: sign-in, the
// jobs panel (live progress of a running cron job, abort, log download), the cron page for a full
// admin (add, edit, run, delete through its form) and a read-only admin, a reload that keeps the
// session, sign-out. Later modules add their
// pages here (see tests/helpers/webui.ts).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

interface CronRow {
  id: number;
  user: string;
  command: string;
  description: string;
}

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

/**
 * Open the details of the cron list's row holding `text` (its Run Now, Edit and Delete), unless
 * open. By the row: the list's search box filters on the user column only.
 */
async function expand(page: Page, text: string): Promise<void> {
  const row = page.locator('tr.row', { hasText: text });
  await row.waitFor();
  if (!(await row.evaluate((tr) => tr.classList.contains('expanded')))) await row.locator('[ixtest="toggle-row"]').click();
  await page.locator('tr.details button', { hasText: 'Run Now' }).waitFor();
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

it('the cron page: a full admin adds a cron job through the form (run as root, checked against the host\'s users), edits it, runs it and deletes it', async () => {
  const out = await mkdtemp(join(tmpdir(), 'midship-webui-cron-'));
  try {
    const { page, calls } = await signedIn('admin', PW);
    await navigate(page, 'system/cron');
    await page.locator('[ixtest="add-cronjob"]').click();
    await page.locator('[formcontrolname="description"] input').fill('added in the UI');
    await page.locator('[formcontrolname="command"] input').fill(`id -un > ${out}/added`);
    // "Run As User": the UI searches user.query as one types and checks the name with it.
    await page.locator('[formcontrolname="user"] input').first().fill('root');
    await page.locator('[data-test="option-user-root"]').click();
    await page.locator('[ixtest="save"]:not([disabled])').click();
    const added = await until(async () => ((await root.call('cronjob.query', [['description', '=', 'added in the UI']])) as CronRow[])[0], 'the cron job added from the UI');
    assert.equal([added.user, added.command], ['root', `id -un > ${out}/added`]);

    await expand(page, 'added in the UI');
    await page.locator('tr.details button', { hasText: 'Edit' }).click();
    const command = page.locator('[formcontrolname="command"] input');
    await until(async () => (await command.inputValue()) === `id -un > ${out}/added`, 'the form to show the cron job');
    await command.fill(`id -un > ${out}/edited`);
    await page.locator('[formcontrolname="description"] input').fill('edited in the UI');
    await page.locator('[ixtest="save"]:not([disabled])').click();
    await until(async () => ((await root.call('cronjob.query', [['id', '=', added.id]])) as CronRow[])[0]?.description === 'edited in the UI', 'the edit to be saved');
    const edited = ((await root.call('cronjob.query', [['id', '=', added.id]])) as CronRow[])[0]!;
    assert.equal([edited.user, edited.command], ['root', `id -un > ${out}/edited`]);

    await expand(page, 'edited in the UI');
    await page.locator('tr.details button', { hasText: 'Run Now' }).click();
    await page.locator('[ixtest="dialog-confirm"]').click();
    await until(async () => ((await root.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', added.id], ['state', '=', 'SUCCESS']])) as JobRow[]).length > 0, 'the run started from the UI to succeed');
    assert.is(await readFile(join(out, 'edited'), 'utf8'), 'root\n', 'the edited command ran, as root');
    const info = page.locator('ix-info-dialog', { hasText: 'Job edited in the UI Completed Successfully' });
    await info.locator('[ixtest="dialog-close"]').click();
    await info.waitFor({ state: 'detached' });

    await page.locator('tr.details button', { hasText: 'Delete' }).click();
    await page.locator('mat-dialog-container [ixtest="delete"]').click();
    await until(async () => ((await root.call('cronjob.query', [['id', '=', added.id]])) as unknown[]).length === 0, 'the cron job to be deleted');
    assert.equal(await errorDialogs(page), [], 'no error dialog on the cron page or its form');
    assert.equal(ownFailures(calls.failures), [], 'every call of the cron page and its form succeeds');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

it('the cron page: a read-only admin sees the cron jobs, but Add, Run Now and Delete are locked', async () => {
  await root.call('cronjob.create', { description: 'look, do not touch', command: 'true', user: 'root', schedule: { minute: '0', hour: '0', dom: '1', month: '1', dow: '*' } });
  const { page, calls } = await signedIn('viewer', VIEWER_PW);
  await navigate(page, 'system/cron');
  await expand(page, 'look, do not touch');
  assert.ok(await page.locator('[ixtest="add-cronjob"]').isDisabled(), 'Add is locked');
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
  // Log Out is in the user menu (the power menu holds Restart and Shut Down).
  await page.locator('[ixtest="user-menu"]').click();
  await page.locator('[ixtest="log-out"]').click();
  await page.locator('input[formcontrolname="password"], ix-input[formcontrolname="password"] input').first().waitFor({ timeout: 60_000 });
  await page.reload();
  await page.locator('input[formcontrolname="password"], ix-input[formcontrolname="password"] input').first().waitFor({ timeout: 60_000 });
  assert.not.match(page.url(), /dashboard|cron/, 'after signing out a reload asks to sign in again');
});

test.run();
