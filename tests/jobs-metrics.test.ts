// Per-job resource metrics (issue 19 item 7): the cron module samples its runs' process groups
// from /proc, the engine keeps a bounded series with peak and total, core.job_metrics returns it
// to whoever may read the job, and it survives a restart. Real processes: one holds 210 MB, one
// burns CPU; every wait is for a condition.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addSample, MAX_POINTS, type JobMetrics } from '../daemon/jobs/metrics.js';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { jobEnd, run } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { until } from './helpers/until.js';

const MB = 1024 * 1024;
const YEARLY = { minute: '0', hour: '0', dom: '1', month: '1' };
const node = JSON.stringify(process.execPath);

interface Metrics {
  id: number;
  state: string;
  samples_per_point: number;
  points: Array<{ time: { $date: number }; cpu_seconds: number; rss_bytes: number }>;
  cpu_seconds: number | null;
  peak_rss_bytes: number | null;
}

test('the series stays bounded: merged pairwise, the peak kept, the CPU total never decreasing', () => {
  let m: JobMetrics | undefined;
  const peakAt = 333;
  for (let i = 0; i < 1000; i++) m = addSample(m, { cpu_seconds: i === 500 ? 1 : i / 10, rss_bytes: i === peakAt ? 9e9 : 1000 + i }, 1_000_000 + i * 2000);
  assert.ok(m!.points.length <= MAX_POINTS && m!.points.length > MAX_POINTS / 2, `${m!.points.length} points`);
  assert.is(m!.peak_rss_bytes, 9e9);
  assert.ok(m!.points.some((p) => p.rss_bytes === 9e9), 'the peak survives merging');
  assert.is(m!.cpu_seconds, 99.9);
  const cpu = m!.points.map((p) => p.cpu_seconds);
  assert.equal(cpu, [...cpu].sort((a, b) => a - b), 'cumulative CPU never goes down');
  const times = m!.points.map((p) => p.time);
  assert.is(times[times.length - 1], 1_000_000 + 999 * 2000, 'the newest sample is the last point');
  const gaps = new Set(times.slice(1).map((t, i) => t - times[i]!).slice(0, -1));
  assert.equal([...gaps], [m!.step * 2000], 'points are evenly spaced');
  assert.throws(() => addSample(m, { cpu_seconds: -1, rss_bytes: 0 }, 0), /cpu_seconds/);
  assert.throws(() => addSample(m, { cpu_seconds: 1, rss_bytes: Number.NaN }, 0), /rss_bytes/);
});

let d: TestDaemon;
let root: Client;
const PW = 'metrics-password-1';

test.before(async () => {
  d = await startDaemon({ modules, auth: { ...DEFAULT_AUTH, failDelayMs: 50 }, limits: { anonCallsPerMinute: 10_000 } });
  root = await Client.connect(d.socketPath);
});
test.after(async () => {
  await root.close();
  await d.cleanup();
});

const metrics = async (c: Client, id: number) => (await c.call('core.job_metrics', id)) as Metrics;
const cron = async (command: string) => ((await root.call('cronjob.create', { user: 'root', command, schedule: YEARLY })) as { id: number }).id;

async function login(username: string, roles: string[]): Promise<Client> {
  await root.call('user.create', { username, password: PW, roles, full_name: username });
  const c = await Client.connect(d.url);
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password: PW })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS');
  return c;
}

let bigJob = 0;
let bigPeak = 0;

test('a run holding 210 MB shows a peak above 200 MB; the series and peak stay after it ends', async () => {
  const id = await cron(`${node} -e "globalThis.b = Buffer.alloc(210 * 1024 * 1024, 1); setInterval(() => {}, 1000)"`);
  bigJob = await run(root, id);
  const seen = await until(async () => {
    const m = await metrics(root, bigJob);
    return m.peak_rss_bytes !== null && m.peak_rss_bytes > 200 * MB ? m : null;
  }, 'a sample of the 210 MB process', 60_000);
  assert.is(seen.state, 'RUNNING');
  assert.ok(seen.points.length >= 1 && seen.points.every((p) => typeof p.time.$date === 'number'));
  await root.call('core.job_abort', bigJob);
  const ended = await jobEnd(root, bigJob);
  assert.is(ended.state, 'ABORTED');
  const after = await metrics(root, bigJob);
  assert.is(after.state, 'ABORTED');
  assert.ok(after.peak_rss_bytes! > 200 * MB, `peak ${after.peak_rss_bytes}`);
  assert.ok(after.points.length >= seen.points.length);
  assert.not.ok('metrics' in ended, 'the job itself does not carry them');
  bigPeak = after.peak_rss_bytes!;
});

test('CPU seconds add up: a run that burns 1.5 s of CPU shows at least that', async () => {
  const burn = `const t0 = process.cpuUsage(); while (process.cpuUsage(t0).user < 1.5e6) {} setInterval(() => {}, 1000)`;
  const id = await run(root, await cron(`${node} -e "${burn}"`));
  const m = await until(async () => {
    const x = await metrics(root, id);
    return (x.cpu_seconds ?? 0) >= 1.5 ? x : null;
  }, 'the CPU total to reach 1.5 s', 60_000);
  assert.ok(m.points.every((p, i) => i === 0 || p.cpu_seconds >= m.points[i - 1]!.cpu_seconds));
  await root.call('core.job_abort', id);
  await jobEnd(root, id);
});

test('a job without processes has no samples; who may read a job may read its metrics, nobody else', async () => {
  const plain = (await root.call('test.noop')) as number;
  await jobEnd(root, plain);
  assert.equal(await metrics(root, plain), { id: plain, state: 'SUCCESS', samples_per_point: 1, points: [], cpu_seconds: null, peak_rss_bytes: null });
  const reader = await login('cronreader', ['SYSTEM_CRON_READ']);
  const stranger = await login('stranger', ['TEST_WRITE']);
  try {
    assert.is((await metrics(reader, bigJob)).peak_rss_bytes, bigPeak, 'the read role of cronjob.run reads its runs');
    const refused = await stranger.request('core.job_metrics', [bigJob]);
    const logs = await stranger.request('core.job_download_logs', [bigJob, 'x.log']);
    assert.is(refused.error?.data?.errname, 'EPERM');
    assert.is(refused.error?.data?.errname, logs.error?.data?.errname, 'the same answer as for its logs');
    const missing = (await stranger.request('core.job_metrics', [999_999])).error;
    assert.equal(missing, (await stranger.request('core.job_download_logs', [999_999, 'x.log'])).error, 'a missing job: the same error as for its logs');
  } finally {
    await reader.close();
    await stranger.close();
  }
});

test('kept in the store: the same metrics after a restart', async () => {
  const before = await metrics(root, bigJob);
  await root.close();
  await d.stop();
  d = await startDaemon({ modules, dataDir: d.dataDir });
  root = await Client.connect(d.socketPath);
  assert.equal(await metrics(root, bigJob), before);
});

test.run();
