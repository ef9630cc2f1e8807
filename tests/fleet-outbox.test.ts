// The history outbox against a real nats-server and a real classic-level store: entries written
// in the caller's own batch while NATS is down (and across a restart of the host) all reach the
// stream once each, in order; lost acknowledgements cause no duplicates; the bounds hold; and the
// fleet client reads the jobs back de-duplicated and follows one job to its end.
import type { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  FleetClient, HistoryOutbox, HostLink, loadCredentials, type FleetJob, type HistoryPublisher, type OutboxOp, type HostLinkOptions,
} from '../methods/fleet/index.js';
import { readStream } from '../methods/fleet/stream-reader.js';
import { hostInboxPrefix, SIGNER_INBOX_PREFIX } from '../methods/fleet/subjects.js';
import { until } from './helpers/until.js';
import { natsTest, startFleet, TempDb, outboxDb, type TestFleet } from './helpers/nats.js';

const t = natsTest(test);
let fleet: TestFleet;

type Root = ClassicLevel<string, unknown>;

function openLink(tl: TempDb, host = 'h1', extra: Partial<HostLinkOptions<Root>> = {}): Promise<HostLink<Root>> {
  return HostLink.open<Root>({
    servers: fleet.server.url, host, trusted: fleet.trusted, version: 'test', reconnectWaitMs: 100, heartbeatMs: 1000,
    jobCounts: () => ({}), outboxDb: outboxDb(tl), dispatch: () => null,
    ...extra,
    credentials: extra.credentials,
  });
}

/** Writes a job record and its outbox entry in one batch, as the job store will. */
async function writeJob(tl: TempDb, link: { outboxOp(job: FleetJob): OutboxOp<Root> | null }, job: FleetJob): Promise<boolean> {
  const op = link.outboxOp(job);
  const jobs = tl.db.sublevel<string, unknown>('jobs', { valueEncoding: 'json' });
  await tl.db.batch([{ type: 'put', sublevel: jobs, key: String(job.id).padStart(12, '0'), value: job }, ...(op ? [op] : [])]);
  return op !== null;
}

/** Every history message of `host` in stream order: [msg id, stream seq]. */
async function streamIds(nc: NatsConnection, host: string): Promise<string[]> {
  const ids: string[] = [];
  await readStream(nc, { stream: 'MIDSHIP_HISTORY', filter: `midship.${host}.hist.job`, start: { all: true }, max: 100_000 }, (m) => ids.push(m.headers?.get('Nats-Msg-Id') ?? ''));
  return ids;
}

async function signerConnection(): Promise<NatsConnection> {
  const creds = await loadCredentials(fleet.init.signerKeyPath);
  return connect({ servers: fleet.server.url, authenticator: creds.authenticator, inboxPrefix: SIGNER_INBOX_PREFIX });
}

t('start a fleet', async () => {
  fleet = await startFleet(['h1', 'h2', 'h3']);
});

t('NATS down while jobs are written, the host restarted meanwhile: every entry arrives once, in order', async () => {
  const creds = await loadCredentials(fleet.init.creds.h1!);
  const tl = await TempDb.create();
  let link = await openLink(tl, 'h1', { credentials: creds });
  assert.ok(await link.whenConnected(20_000));
  const instance = link.instance;
  await writeJob(tl, link, { id: 1, state: 'RUNNING', method: 'pool.scrub' });
  await until(() => link.status().outbox.pending === 0, 'the first entry to be published');

  await fleet.server.kill();
  await until(() => !link.connected, 'the link to notice');
  const expected = [`h1:${instance}:1:RUNNING`];
  for (let id = 2; id <= 150; id++) {
    await writeJob(tl, link, { id, state: 'RUNNING', method: 'pool.scrub' });
    await writeJob(tl, link, { id, state: 'SUCCESS', method: 'pool.scrub', result: id });
    expected.push(`h1:${instance}:${id}:RUNNING`, `h1:${instance}:${id}:SUCCESS`);
  }
  assert.is(link.status().outbox.pending, 298);
  // A restart of the host while NATS is still down: the entries are in its store, not in memory.
  await link.stop();
  await tl.reopen();
  link = await openLink(tl, 'h1', { credentials: creds });
  assert.is(link.instance, instance, 'the instance id belongs to the store');
  assert.is(link.status().outbox.pending, 298);

  await fleet.server.start();
  await until(() => link.connected && link.status().outbox.pending === 0, 'the backfill', 60_000);
  const nc = await signerConnection();
  try {
    assert.equal(await streamIds(nc, 'h1'), expected);
  } finally {
    await nc.close();
  }
  await link.stop();
  await tl.destroy();
});

t('a lost acknowledgement makes the outbox publish again, and the stream keeps one copy', async () => {
  const tl = await TempDb.create();
  const creds = await loadCredentials(fleet.init.creds.h1!);
  const nc = await connect({ servers: fleet.server.url, authenticator: creds.authenticator, inboxPrefix: hostInboxPrefix('h1') });
  const js = jetstream(nc);
  let lose = true;
  let sent = 0;
  const acks: boolean[] = [];
  const publisher: HistoryPublisher = {
    async publish(subject, body, msgId) {
      sent++;
      const ack = await js.publish(subject, body, { msgID: msgId });
      acks.push(ack.duplicate);
      if (lose) throw new Error('acknowledgement lost on the way back');
      return ack;
    },
  };
  const outbox = new HistoryOutbox({ db: outboxDb(tl), host: 'h1', retryMs: 50 });
  await outbox.open();
  for (let id = 1; id <= 20; id++) await writeJob(tl, outbox, { id, state: 'SUCCESS' });
  outbox.attach(publisher);
  await until(() => sent >= 20, 'the first round');
  lose = false;
  await until(() => outbox.stats().pending === 0, 'the retry');
  assert.ok(sent >= 40, `sent ${sent}`);
  assert.ok(acks.slice(20).every((d) => d), 'every second copy was reported a duplicate');
  const reader = await signerConnection();
  try {
    const ids = (await streamIds(reader, 'h1')).filter((id) => id.startsWith(`h1:${outbox.instance}:`));
    assert.is(ids.length, 20);
    assert.is(new Set(ids).size, 20);
  } finally {
    await reader.close();
  }
  await outbox.close();
  await nc.close();
  await tl.destroy();
});

t('bounds: a full outbox refuses new entries and counts them, keeps the old; a huge job is trimmed', async () => {
  const tl = await TempDb.create();
  const outbox = new HistoryOutbox({ db: outboxDb(tl), host: 'h3', limits: { maxEntries: 3, maxEntryBytes: 600 } });
  await outbox.open();
  assert.ok(await writeJob(tl, outbox, { id: 1, state: 'RUNNING', result: 'x'.repeat(5000) }));
  assert.ok(await writeJob(tl, outbox, { id: 2, state: 'RUNNING' }));
  assert.ok(await writeJob(tl, outbox, { id: 3, state: 'RUNNING' }));
  assert.not.ok(await writeJob(tl, outbox, { id: 4, state: 'RUNNING' }));
  assert.is(outbox.stats().dropped, 1);
  assert.is(outbox.stats().pending, 3);
  // The counts come back from the store after a restart.
  await outbox.close();
  await tl.reopen();
  const again = new HistoryOutbox({ db: outboxDb(tl), host: 'h3', limits: { maxEntries: 3, maxEntryBytes: 600 } });
  await again.open();
  assert.is(again.stats().pending, 3);
  assert.is(again.instance, outbox.instance);
  assert.is(again.outboxOp({ id: 5, state: 'RUNNING' }), null);
  const entries = await tl.db.sublevel<string, unknown>('fleet_outbox', { valueEncoding: 'json' }).sublevel<string, string>('entries', { valueEncoding: 'utf8' }).values().all();
  assert.is(entries.length, 3);
  const first = JSON.parse(entries[0]!.slice(entries[0]!.indexOf('\n') + 1)) as { job: FleetJob };
  assert.is(first.job.result, null);
  assert.is(first.job.truncated, true);
  try {
    again.outboxOp({ id: -1, state: 'RUNNING' });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /job.id/);
  }
  await again.close();
  await tl.destroy();
  const other = await TempDb.create();
  const fresh = new HistoryOutbox({ db: outboxDb(other), host: 'h3' });
  await fresh.open();
  assert.is.not(fresh.instance, outbox.instance, 'a new store is a new instance');
  await fresh.close();
  await other.destroy();
});

t('the fleet\'s jobs: each once with its newest state, per host and state; a job followed to its end', async () => {
  const tls = [await TempDb.create(), await TempDb.create()];
  const links = [
    await openLink(tls[0]!, 'h2', { credentials: await loadCredentials(fleet.init.creds.h2!) }),
    await openLink(tls[1]!, 'h3', { credentials: await loadCredentials(fleet.init.creds.h3!) }),
  ];
  const client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
  try {
    for (const l of links) assert.ok(await l.whenConnected(20_000));
    // h2: 5 jobs that end; h3: 3 jobs, one still running. Each state twice (a retried write).
    for (let id = 100; id < 105; id++) {
      for (const state of ['RUNNING', 'RUNNING', 'SUCCESS', 'SUCCESS']) await writeJob(tls[0]!, links[0]!, { id, state, method: 'cronjob.run' });
    }
    for (let id = 7; id < 10; id++) {
      await writeJob(tls[1]!, links[1]!, { id, state: 'RUNNING', method: 'pool.scrub' });
      if (id !== 9) await writeJob(tls[1]!, links[1]!, { id, state: 'FAILED', method: 'pool.scrub' });
    }
    for (const l of links) await until(() => l.status().outbox.pending === 0, 'published');
    const h2 = (await client.jobs({ host: 'h2' })).jobs;
    const h3 = (await client.jobs({ host: 'h3' })).jobs;
    const all = (await client.jobs()).jobs;
    assert.is(h2.length, 5);
    assert.ok(h2.every((e) => e.job.state === 'SUCCESS' && e.host === 'h2'));
    assert.equal(h3.map((e) => [e.job.id, e.job.state]).sort(), [[7, 'FAILED'], [8, 'FAILED'], [9, 'RUNNING']]);
    assert.is(all.filter((e) => e.host !== 'h1').length, h2.length + h3.length);
    assert.equal((await client.jobs({ state: 'RUNNING', host: 'h3' })).jobs.map((e) => e.job.id), [9]);

    // Follow h3's job 9 while it progresses.
    const seen: string[] = [];
    const followed = client.follow('h3', 9, { since: new Date(Date.now() - 60_000), each: (e) => seen.push(e.job.state) });
    await until(() => seen.includes('RUNNING'), 'the follower to see the job running');
    await writeJob(tls[1]!, links[1]!, { id: 9, state: 'SUCCESS', method: 'pool.scrub', result: 42 });
    const end = await followed;
    assert.equal(seen, ['RUNNING', 'SUCCESS']);
    assert.is(end?.job.result, 42);
  } finally {
    await client.close();
    for (const l of links) await l.stop();
    for (const tl of tls) await tl.destroy();
  }
});

t('stop', async () => {
  await fleet.stop();
});

test.run();
