// The Storage page in a real headless Chromium against a real daemon on real zfs-fuse: a pool's
// health, usage and topology; a scrub started from the page with its live progress; datasets as
// a tree with usage; snapshots filtered and deleted; a replication run from the page with its
// live progress and last result. Text only, strict CSP, no page errors.
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { authModule } from '../methods/auth.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { makeStorageModule } from '../methods/storage/index.js';
import { userModule } from '../methods/user.js';
import { writeRandom } from './helpers/files.js';
import { browserTest, chromiumPath, inPage, launchBrowser, q, screenshot, uiLogin, untilInPage, watchPage } from './helpers/browser.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';
import { ZfsLab, zfsTest, zfsUnavailable } from './helpers/zfs.js';

const PW = 'pw-storage';
const MiB = 1024 * 1024;
// Real ZFS and a browser are both needed: each says why it is missing its own way.
const it = zfsUnavailable() !== null ? zfsTest(test) : browserTest(test);
let lab: ZfsLab;
let d: TestDaemon;
let browser: Browser | null = null;
let admin: Client;
let ctx: BrowserContext | null = null;
let page: Page;
let watch: ReturnType<typeof watchPage>;
let P: string;

test.after(async () => {
  await ctx?.close();
  await browser?.close();
  await admin?.close();
  await d?.cleanup();
  lab?.cleanupSync();
});

/** Polls the page every few ms until `expression` is truthy or `done()` holds; whether it was seen. */
async function seenInPage(expression: string, done: () => Promise<boolean>, ms = 60_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await inPage<boolean>(page, `!!(${expression})`)) return true;
    if (await done()) return inPage<boolean>(page, `!!(${expression})`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

it('pools: health, usage and the topology with per-disk errors', async () => {
  lab = new ZfsLab();
  const disks = await Promise.all(['u1', 'u2', 'u3'].map((n) => lab.loopDevice(n, 2400 * MiB)));
  d = await startDaemon({
    modules: [coreModule, jobsModule, authModule, userModule, makeStorageModule({ mountRoot: join(lab.dir, 'mnt'), includeLoop: true, scanIntervalMs: 100 })],
    adminPassword: PW, limits: { anonCallsPerMinute: 10_000 }, auth: { ...DEFAULT_AUTH, failDelayMs: 50 },
  });
  admin = await Client.connect(d.socketPath);
  await admin.call('core.set_options', { legacy_jobs: false });
  P = lab.pool('u');
  await admin.call('pool.create', { name: P, topology: { data: [{ type: 'MIRROR', disks: disks.map((x) => x.device.slice(5)) }] } });
  await admin.call('pool.dataset.create', { name: `${P}/data`, compression: 'OFF', copies: 2 });
  await admin.call('pool.dataset.create', { name: `${P}/data/child` });
  await writeRandom(join(lab.dir, 'mnt', P, 'data', 'big.bin'), 200);
  for (const n of ['auto-2026-01-01_00-00', 'auto-2026-01-02_00-00', 'manual-keep']) await admin.call('pool.snapshot.create', { dataset: `${P}/data`, name: n });
  await admin.call('replication.create', {
    name: 'to copy', direction: 'PUSH', transport: 'LOCAL', source_datasets: [`${P}/data`], target_dataset: `${P}/copy`,
    recursive: false, auto: false, retention_policy: 'SOURCE', also_include_naming_schema: ['auto-%Y-%m-%d_%H-%M'],
  });
  if (chromiumPath() === null) return;
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${d.port}/ui/#/storage`);
  await uiLogin(page, 'admin', PW);
  const card = `[data-pool=${q(P)}]`;
  await page.waitForSelector(card);
  assert.match((await page.textContent(`${card} [data-testid=pool-health]`)) ?? '', /ONLINE/);
  assert.match((await page.textContent(`${card} [data-testid=pool-usage]`)) ?? '', /used of [\d.]+ (MiB|GiB)/);
  const vdevs = await page.locator(`${card} [data-testid=vdev]`).allTextContents();
  assert.is(vdevs.length, 4, 'a mirror and its three disks');
  assert.match(vdevs[0]!, /^MIRROR/);
  for (const x of disks) assert.ok(vdevs.some((t) => t.includes(x.device.slice(5)) && /checksum 0/.test(t)), x.device);
  assert.is(await page.textContent(`${card} [data-testid=scan]`), 'No scrub yet');
  assert.equal(await inPage(page, 'document.title'), 'Storage \u00b7 Midship');
  await screenshot(page, lab.dir, 'storage-pools');
});

it('a scrub started from the page shows its progress live, then its result', async () => {
  const card = `[data-pool=${q(P)}]`;
  let seen = false;
  // A scrub here lasts about a second: start it until the page has shown it running.
  for (let attempt = 0; attempt < 5 && !seen; attempt++) {
    await page.waitForSelector(`${card} [data-testid=scrub]:not([disabled])`);
    const before = ((await admin.call('core.get_jobs', [['method', '=', 'pool.scrub.scrub']])) as unknown[]).length;
    await page.click(`${card} [data-testid=scrub]`);
    seen = await seenInPage(`/Scrub in progress/.test(document.querySelector(${q(`${card} [data-testid=scan]`)})?.textContent ?? '') && document.querySelector(${q(`${card} [data-testid=scan] [role=progressbar]`)})`,
      async () => {
        const jobs = (await admin.call('core.get_jobs', [['method', '=', 'pool.scrub.scrub']], { order_by: ['-id'] })) as Array<{ state: string }>;
        return jobs.length > before && jobs[0]!.state === 'SUCCESS';
      });
    if (seen) await screenshot(page, lab.dir, 'storage-scrub-running');
  }
  assert.ok(seen, 'the page showed the scrub in progress');
  await untilInPage(page, `/Scrub finished .*, 0 error\\(s\\)/.test(document.querySelector(${q(`${card} [data-testid=scan]`)})?.textContent ?? '')`);
});

it('datasets as a tree with their usage', async () => {
  const rows = async () => page.locator('[data-testid=dataset-tree] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-dataset')));
  await untilInPage(page, `!!document.querySelector(${q(`[data-dataset=${q(`${P}/data/child`)}]`)})`);
  const ids = (await rows()).filter((x) => x?.startsWith(P));
  assert.equal(ids, [P, `${P}/data`, `${P}/data/child`]);
  assert.match((await page.textContent(`[data-dataset=${q(`${P}/data`)}] [data-testid=ds-used]`)) ?? '', /^(3\d\d|4\d\d) MiB$/, 'copies=2 of 200 MiB');
  assert.ok(await page.locator(`[data-dataset=${q(`${P}/data/child`)}] .tree.depth-2`).count() === 1, 'indented two levels');
  // A dataset made elsewhere shows up by itself.
  await admin.call('pool.dataset.create', { name: `${P}/later` });
  await untilInPage(page, `!!document.querySelector(${q(`[data-dataset=${q(`${P}/later`)}]`)})`);
});

it('snapshots: filter, delete with confirmation', async () => {
  await page.waitForSelector('[data-testid=snapshot-table]');
  await page.fill('[data-testid=snapshot-filter]', '@auto-2026');
  await untilInPage(page, `document.querySelectorAll('[data-testid=snapshot-table] tbody tr').length === 2`);
  await page.fill('[data-testid=snapshot-filter]', 'manual');
  await untilInPage(page, `document.querySelectorAll('[data-testid=snapshot-table] tbody tr').length === 1`);
  const row = `[data-snapshot=${q(`${P}/data@manual-keep`)}]`;
  await page.click(`${row} [data-testid=snapshot-delete]`);
  await page.click(`${row} [data-testid=snapshot-confirm]`);
  await untilInPage(page, `!!document.querySelector('[data-testid=no-snapshots]')`);
  assert.equal(await admin.call('pool.snapshot.query', [['id', '=', `${P}/data@manual-keep`]]), []);
  await page.fill('[data-testid=snapshot-filter]', '');
  await untilInPage(page, `document.querySelectorAll('[data-testid=snapshot-table] tbody tr').length === 2`);
});

it('replication: run now from the page, live progress, then the last result', async () => {
  const row = '[data-replication="1"]';
  await page.waitForSelector(`${row} [data-testid=repl-run]`);
  await page.click(`${row} [data-testid=repl-run]`);
  await untilInPage(page, `/^#\\/jobs\\/\\d+$/.test(location.hash)`);
  const jobId = Number((await inPage<string>(page, 'location.hash')).split('/').pop());
  await until(async () => ((await admin.call('core.get_jobs', [['id', '=', jobId]], { get: true })) as { state: string }).state === 'SUCCESS', 'the replication job');
  await page.click('nav >> text=Storage');
  await untilInPage(page, `/FINISHED/.test(document.querySelector(${q(`${row} [data-testid=repl-state]`)})?.textContent ?? '')`);
  assert.match((await page.textContent(`${row} [data-testid=repl-state]`)) ?? '', new RegExp(`last: ${P}/data@auto-2026-01-02_00-00`));

  // The next run has a bigger stream: its progress shows while it is on its way.
  await writeRandom(join(lab.dir, 'mnt', P, 'data', 'more.bin'), 300);
  await admin.call('pool.snapshot.create', { dataset: `${P}/data`, name: 'auto-2026-01-03_00-00' });
  let seen = false;
  for (let attempt = 0; attempt < 4 && !seen; attempt++) {
    if (attempt > 0) {
      await admin.call('pool.snapshot.delete', `${P}/copy@auto-2026-01-03_00-00`);
      await until(async () => !/RUNNING/.test((await page.textContent(`${row} td[data-label=State]`)) ?? ''), 'the task to be idle');
    }
    const before = ((await admin.call('core.get_jobs', [['method', '=', 'replication.run']])) as unknown[]).length;
    await page.click(`${row} [data-testid=repl-run]`);
    await untilInPage(page, `/^#\\/jobs\\/\\d+$/.test(location.hash)`);
    await page.click('nav >> text=Storage');
    seen = await seenInPage(`/Sending 1 of 1: .*auto-2026-01-03_00-00 \\(/.test(document.querySelector(${q(`${row} [data-testid=repl-progress]`)})?.textContent ?? '')`, async () => {
      const jobs = (await admin.call('core.get_jobs', [['method', '=', 'replication.run']], { order_by: ['-id'] })) as Array<{ state: string }>;
      return jobs.length > before && jobs[0]!.state === 'SUCCESS';
    });
    if (seen) await screenshot(page, lab.dir, 'storage-replication-running');
  }
  assert.ok(seen, 'the page showed the replication on its way');
  await untilInPage(page, `/last: .*auto-2026-01-03_00-00/.test(document.querySelector(${q(`${row} [data-testid=repl-state]`)})?.textContent ?? '')`, 60_000);
  await screenshot(page, lab.dir, 'storage');
  assert.equal(watch.problems, []);
});

test.run();
