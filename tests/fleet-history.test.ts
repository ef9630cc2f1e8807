// The fleet's job history with real daemons and a real nats-server: every job is published as it
// is added and as it ends, from an outbox written in the job's own batch, so the fleet's count is
// the sum of the hosts' with each job once; with NATS down the hosts answer as usual and every job
// finished meanwhile arrives exactly once when it is back; a job a crash interrupted is published
// as FAILED by the next start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, HISTORY_STREAM, type FleetJobEntry } from '../methods/fleet/index.js';
import { HISTORY_SUBJECTS } from '../methods/fleet/subjects.js';
import { readStream } from '../methods/fleet/stream-reader.js';
import type { Client } from './helpers/daemon.js';
import { spawnHost, type FleetHost } from './helpers/fleet-hosts.js';
import { natsTest, startFleet, type TestFleet } from './helpers/nats.js';
import { until } from './helpers/until.js';

const t = natsTest(test);

let fleet: TestFleet;
let client: FleetClient;
const hosts: FleetHost[] = [];

type Job = { id: number; state: string; method: string };
type Status = { connected: boolean; instance: string; outbox: { pending: number; dropped: number } };

async function status(h: FleetHost): Promise<Status> {
  return (await (await h.local()).call('fleet.status')) as Status;
}

async function drained(): Promise<void> {
  for (const h of hosts) await until(async () => (await status(h)).outbox.pending === 0, `${h.host}'s outbox to drain`, 60_000);
}

async function localJobs(h: FleetHost): Promise<Job[]> {
  return (await (await h.local()).call('core.get_jobs', [], { order_by: ['id'] })) as Job[];
}

/** Every history message, by message id: how many times each is in the stream. */
async function messageCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await readStream(client.nc, { stream: HISTORY_STREAM, filter: HISTORY_SUBJECTS, start: { all: true }, max: 100_000 }, (m) => {
    const id = m.headers?.get('Nats-Msg-Id') ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  });
  return counts;
}

/** Some jobs on a host: plain ones, a failing one, a bulk with a child job each. */
async function runJobs(c: Client, n: number): Promise<void> {
  await c.call('core.set_options', { legacy_jobs: false });
  for (let i = 0; i < n; i++) await c.call('test.job', { steps: 1, delay: 1, result: i });
  await c.request('test.job', [{ steps: 1, delay: 1, fail: 'call' }]);
  await c.call('core.bulk', 'core.ping', [[], []]);
}

/** The fleet's view must equal the hosts' own histories: same jobs, same final states, each once. */
async function assertFleetMatchesHosts(): Promise<FleetJobEntry[]> {
  const { jobs, truncated } = await client.jobs();
  assert.not.ok(truncated);
  let sum = 0;
  for (const h of hosts) {
    const own = await localJobs(h);
    sum += own.length;
    const instance = (await status(h)).instance;
    const seen = jobs.filter((e) => e.host === h.host && e.instance === instance);
    assert.equal(seen.map((e) => [e.job.id, e.job.state]).sort(), own.map((j) => [j.id, j.state]).sort(), `${h.host}'s jobs in the fleet history`);
  }
  assert.is(jobs.length, sum, 'the fleet count is the sum of the hosts\' counts');
  const keys = new Set(jobs.map((e) => `${e.host}:${e.instance}:${e.job.id}`));
  assert.is(keys.size, jobs.length, 'each job once');
  const counts = await messageCounts();
  for (const [id, n] of counts) assert.is(n, 1, `message ${id} stored once`);
  // Each job: its added record and its end.
  assert.is(counts.size, 2 * sum);
  return jobs;
}

t('start a fleet of three daemons', async () => {
  fleet = await startFleet(['h1', 'h2', 'h3']);
  client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
  hosts.push(...(await Promise.all(['h1', 'h2', 'h3'].map((h) => spawnHost(fleet, h)))));
  for (const h of hosts) await until(async () => (await status(h)).connected, `${h.host} connected`);
});

t('every job reaches the history: the fleet count is the sum of the hosts\' counts, each job once', async () => {
  await Promise.all(hosts.map(async (h, i) => runJobs(await h.local(), 2 + i)));
  // Jobs started through the fleet too.
  const id = (await client.call('h2', 'test.job', [{ steps: 1, delay: 1, result: 'via fleet' }], 'alice', ['FULL_ADMIN'])) as number;
  await until(async () => (await localJobs(hosts[1]!)).find((j) => j.id === id)?.state === 'SUCCESS', 'the fleet job to end');
  await drained();
  const jobs = await assertFleetMatchesHosts();
  const viaFleet = jobs.find((e) => e.host === 'h2' && e.job.id === id)!;
  assert.is(viaFleet.job.result, 'via fleet');
  assert.equal((viaFleet.job.credentials as { type: string }).type, 'FLEET');
  const failed = jobs.find((e) => e.host === 'h1' && e.job.state === 'FAILED');
  assert.ok(failed?.job.error, 'a failed job carries its error');
  // A secret argument is never in the history.
  await (await hosts[0]!.local()).call('test.job', { steps: 0, password: 'hunter2' });
  await drained();
  const withSecret = (await client.jobs({ host: 'h1' })).jobs.find((e) => (e.job.arguments as Array<{ password?: string }>)[0]?.password !== undefined);
  assert.equal((withSecret?.job.arguments as Array<{ password?: string }>)[0]?.password, '********');
});

t('NATS down: local calls answer, and every job finished meanwhile arrives exactly once afterwards', async () => {
  await fleet.server.stop();
  for (const h of hosts) await until(async () => !(await status(h)).connected, `${h.host} to notice`);
  for (const h of hosts) {
    const c = await h.local();
    assert.is(await c.call('core.ping'), 'pong');
    await runJobs(c, 3);
  }
  for (const h of hosts) assert.ok((await status(h)).outbox.pending > 0, `${h.host} keeps its history for later`);
  await fleet.server.start();
  await drained();
  await assertFleetMatchesHosts();
});

t('a job a crash interrupted is published as FAILED by the next start', async () => {
  const h = hosts[2]!;
  const c = await h.local();
  c.send({ jsonrpc: '2.0', id: 'long', method: 'test.job', params: [{ steps: 1000, delay: 100 }] });
  const running = await until(async () => ((await c.call('core.get_jobs', [['state', '=', 'RUNNING']])) as Job[])[0], 'the long job to run');
  await until(async () => (await client.jobs({ host: 'h3' })).jobs.some((e) => e.job.id === running.id), 'its added record in the history');
  await h.kill();
  hosts[2] = await spawnHost(fleet, 'h3', { dataDir: h.dataDir });
  const ended = await until(async () => (await client.jobs({ host: 'h3', state: 'FAILED' })).jobs.find((e) => e.job.id === running.id), 'the interrupted job\'s end in the history');
  assert.match(String(ended.job.error), /interrupt/i);
  await drained();
  await assertFleetMatchesHosts();
});

t('stop', async () => {
  await client.close();
  for (const h of hosts) await h.cleanup();
  await fleet.stop();
});

test.run();
