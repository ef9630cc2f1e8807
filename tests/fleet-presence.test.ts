// Presence against a real nats-server: a host shows up with its first or second heartbeat, with
// the job counts its daemon reports; a host killed with SIGKILL (its own process) turns offline
// once three heartbeats are missed; a clean stop shows as stopped. The online/offline rule itself
// is checked with exact times.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, HostLink, hostStatus, loadCredentials, parsePresence, type HostPresence, type PresenceValue } from '../methods/fleet/index.js';
import { until } from './helpers/until.js';
import { natsTest, startFleet, TempDb, outboxDb, type TestFleet } from './helpers/nats.js';

const t = natsTest(test);
const root = fileURLToPath(new URL('../../', import.meta.url));
const fleetIndex = new URL('../methods/fleet/index.js', import.meta.url).href;
const HEARTBEAT_MS = 400;

let fleet: TestFleet;
let client: FleetClient;

async function presenceOf(host: string): Promise<HostPresence | undefined> {
  return (await client.hosts()).find((h) => h.host === host);
}

test('online until three heartbeats are missed, then offline; stopped stays stopped', () => {
  const value: PresenceValue = {
    v: 1, host: 'h1', state: 'running', version: '1', started_at: 0, uptime_s: 0, interval_ms: 10_000, beats: 1,
    jobs: {}, outbox: { pending: 0, dropped: 0 },
  };
  const last = 1_000_000;
  assert.is(hostStatus(value, last, last), 'online');
  assert.is(hostStatus(value, last, last + 29_999), 'online');
  assert.is(hostStatus(value, last, last + 30_000), 'online');
  assert.is(hostStatus(value, last, last + 30_001), 'offline');
  assert.is(hostStatus({ ...value, state: 'stopped' }, last, last), 'stopped');
});

test('a presence value is checked like any input: wrong host, shapes or intervals are ignored', () => {
  const good = { v: 1, host: 'h1', state: 'running', version: '1', started_at: 5, uptime_s: 3, interval_ms: 1000, beats: 2, jobs: { RUNNING: 1 }, outbox: { pending: 0, dropped: 0 } };
  assert.ok(parsePresence('h1', good));
  assert.is(parsePresence('h2', good), null, 'a value naming another host');
  assert.is(parsePresence('h1', { ...good, interval_ms: 10 ** 9 }), null, 'an interval that would keep it online for ever');
  assert.is(parsePresence('h1', { ...good, jobs: { RUNNING: -1 } }), null);
  assert.is(parsePresence('h1', { ...good, state: 'online' }), null);
  assert.is(parsePresence('h1', 'x'), null);
});

t('start a fleet', async () => {
  fleet = await startFleet(['h1', 'h2']);
  client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
});

t('a host appears within two heartbeats with its version and job counts, and a clean stop shows', async () => {
  const tl = await TempDb.create();
  let running = 3;
  const link = await HostLink.open({
    servers: fleet.server.url, host: 'h1', credentials: await loadCredentials(fleet.init.creds.h1!), trusted: fleet.trusted,
    version: '1.2.3', heartbeatMs: HEARTBEAT_MS, jobCounts: () => ({ RUNNING: running, SUCCESS: 10 }), outboxDb: outboxDb(tl),
    dispatch: () => null, reconnectWaitMs: 100,
  });
  try {
    const first = await until(() => presenceOf('h1'), 'h1 in the presence table');
    assert.is(first.status, 'online');
    assert.ok(first.beats <= 2, `first seen at beat ${first.beats}`);
    assert.is(first.version, '1.2.3');
    assert.equal(first.jobs, { RUNNING: 3, SUCCESS: 10 });
    assert.is(first.interval_ms, HEARTBEAT_MS);
    // The counts follow the daemon's.
    running = 0;
    await until(async () => (await presenceOf('h1'))?.jobs.RUNNING === 0, 'the new counts');
  } finally {
    await link.stop();
    await tl.destroy();
  }
  const after = await presenceOf('h1');
  assert.is(after?.state, 'stopped');
  assert.is(after?.status, 'stopped');
});

t('a host killed with SIGKILL turns offline after three missed heartbeats', async () => {
  const code = `
    const { HostLink, loadCredentials, parseTrustedKeys } = await import(${JSON.stringify(fleetIndex)});
    const { ClassicLevel } = await import('classic-level');
    const { readFile } = await import('node:fs/promises');
    const db = new ClassicLevel(${JSON.stringify(`${fleet.init.dir}/h2-db`)}, { valueEncoding: 'json' });
    await db.open();
    const link = await HostLink.open({
      servers: ${JSON.stringify(fleet.server.url)}, host: 'h2', credentials: await loadCredentials(${JSON.stringify(fleet.init.creds.h2)}),
      trusted: parseTrustedKeys(await readFile(${JSON.stringify(fleet.init.signerPubPath)}, 'utf8')),
      version: 'child', heartbeatMs: ${HEARTBEAT_MS}, jobCounts: () => ({}), outboxDb: db.sublevel('fleet_outbox', { valueEncoding: 'json' }),
      dispatch: () => null,
    });
    if (await link.whenConnected(20000)) console.log('connected');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await until(() => out.includes('connected') || child.exitCode !== null, 'the child host to connect');
    assert.ok(out.includes('connected'), out);
    const online = await until(async () => {
      const p = await presenceOf('h2');
      return p && p.status === 'online' && p.beats >= 2 ? p : null;
    }, 'h2 online');
    assert.is(online.version, 'child');
  } finally {
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
  const gone = await until(async () => {
    const p = await presenceOf('h2');
    return p?.status === 'offline' ? p : null;
  }, 'h2 offline');
  // Killed, not stopped: its last word was a running heartbeat, more than 3 intervals ago.
  assert.is(gone.state, 'running');
  assert.ok(Date.now() - gone.last_seen > 3 * HEARTBEAT_MS);
});

t('stop', async () => {
  await client.close();
  await fleet.stop();
});

test.run();
