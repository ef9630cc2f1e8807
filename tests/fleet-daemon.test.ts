// midshipd in fleet mode, as real processes against a real nats-server: the options are checked
// with errors naming the flag; a daemon whose NATS is unreachable starts and answers local calls,
// and joins once the server is there (the link never gives up); a host appears within two
// heartbeats, a clean stop shows as stopped, a SIGKILL as offline after three missed beats; and
// without --fleet-url nothing of the fleet is there.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../daemon/config.js';
import { ConfigError } from '../daemon/errors.js';
import { FleetClient, type HostPresence } from '../methods/fleet/index.js';
import { spawnDaemon } from './helpers/child.js';
import { Client, startDaemon } from './helpers/daemon.js';
import { spawnHost, type FleetHost } from './helpers/fleet-hosts.js';
import { freePort, NatsServer, natsTest, startFleet, type TestFleet } from './helpers/nats.js';
import { until } from './helpers/until.js';

const t = natsTest(test);
const HEARTBEAT_MS = 400;

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

test('options: fleet mode only with a URL; malformed URLs and stray fleet options are named', () => {
  assert.is(loadConfig([], {}).fleet, null);
  const c = loadConfig(['--fleet-url', 'nats://127.0.0.1:4222,tls://nats2:4443', '--fleet-host-id', 'h1', '--fleet-creds', 'h1.creds', '--fleet-trust=/etc/signer.pub'], { MIDSHIP_FLEET_MAX_ROLES: 'READONLY_ADMIN, SYSTEM_CRON_WRITE' });
  assert.equal(c.fleet, {
    urls: ['nats://127.0.0.1:4222', 'tls://nats2:4443'], hostId: 'h1', credsPath: join(process.cwd(), 'h1.creds'), trustPath: '/etc/signer.pub',
    maxRoles: ['READONLY_ADMIN', 'SYSTEM_CRON_WRITE'], heartbeatMs: null,
  });
  assert.is(loadConfig([], { MIDSHIP_FLEET_URL: 'nats://n:4222', MIDSHIP_FLEET_HOST_ID: 'x' }).fleet?.hostId, 'x');
  assert.match(configError(['--fleet-host-id', 'h1']), /--fleet-host-id: fleet options need --fleet-url/);
  assert.match(configError([], { MIDSHIP_FLEET_TRUST: 'a' }), /MIDSHIP_FLEET_TRUST: fleet options need --fleet-url/);
  assert.match(configError(['--fleet-url', 'http://x:4222']), /--fleet-url: 'http:\/\/x:4222' is not a NATS URL/);
  assert.match(configError([], { MIDSHIP_FLEET_URL: 'nats://' }), /MIDSHIP_FLEET_URL: 'nats:\/\/' is not a NATS URL/);
  assert.match(configError(['--fleet-url', 'nats://a:1'], { MIDSHIP_FLEET_HEARTBEAT_MS: '5' }), /MIDSHIP_FLEET_HEARTBEAT_MS: expected milliseconds/);
});

test('fleet mode off: no fleet method, nothing of the fleet in the store', async () => {
  const d = await startDaemon();
  const c = await Client.connect(d.socketPath);
  try {
    const methods = (await c.call('core.get_methods')) as Record<string, unknown>;
    assert.not.ok(Object.keys(methods).some((m) => m.startsWith('fleet.')));
    await c.call('core.set_options', { legacy_jobs: false });
    await c.call('core.bulk', 'core.ping', [[]]);
    const keys = await d.daemon.db.keys().all();
    assert.not.ok(keys.some((k) => k.includes('fleet')), 'no outbox entry without fleet mode');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

let fleet: TestFleet;
let client: FleetClient;
const hosts: FleetHost[] = [];

async function presenceOf(host: string): Promise<HostPresence | undefined> {
  return (await client.hosts()).find((h) => h.host === host);
}

t('start a fleet', async () => {
  fleet = await startFleet(['h1', 'h2', 'h3']);
  client = await FleetClient.fromFile(fleet.server.url, fleet.init.signerKeyPath);
});

t('bad options stop the start with the flag named: host id, creds readable by others, trust file missing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-fleet-bad-'));
  const base = { MIDSHIP_FLEET_URL: fleet.server.url, MIDSHIP_FLEET_HOST_ID: 'h1', MIDSHIP_FLEET_CREDS: fleet.init.creds.h1!, MIDSHIP_FLEET_TRUST: fleet.init.signerPubPath };
  const refusal = async (env: Record<string, string>): Promise<string> => {
    try {
      const d = await spawnDaemon(join(dir, `d${Math.random().toString(36).slice(2)}`), env);
      d.child.kill('SIGKILL');
      throw new Error('the daemon started');
    } catch (e) {
      return (e as Error).message;
    }
  };
  try {
    assert.match(await refusal({ ...base, MIDSHIP_FLEET_HOST_ID: 'h1.example' }), /--fleet-host-id \/ MIDSHIP_FLEET_HOST_ID: host id: must be 1-64 characters/);
    const open = join(dir, 'open.creds');
    await writeFile(open, 'x');
    await chmod(open, 0o644);
    assert.match(await refusal({ ...base, MIDSHIP_FLEET_CREDS: open }), /--fleet-creds \/ MIDSHIP_FLEET_CREDS: .*open\.creds: holds a secret but its mode is 0644; make it 0600/);
    assert.match(await refusal({ ...base, MIDSHIP_FLEET_TRUST: join(dir, 'nope.pub') }), /--fleet-trust \/ MIDSHIP_FLEET_TRUST: .*nope\.pub cannot be read: ENOENT/);
    const { MIDSHIP_FLEET_TRUST: _, ...noTrust } = base;
    assert.match(await refusal(noTrust), /--fleet-trust \/ MIDSHIP_FLEET_TRUST: is required in fleet mode/);
    const writable = join(dir, 'writable.pub');
    await writeFile(writable, `${fleet.init.signerPublicKey}\n`);
    await chmod(writable, 0o666);
    assert.match(await refusal({ ...base, MIDSHIP_FLEET_TRUST: writable }), /--fleet-trust \/ MIDSHIP_FLEET_TRUST: .*group or others may write it/);
    assert.match(await refusal({ ...base, MIDSHIP_FLEET_MAX_ROLES: 'READONLY_ADMIN,ROOT' }), /MIDSHIP_FLEET_MAX_ROLES: Unknown role ROOT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

t('NATS unreachable: the daemon starts and answers local calls; it joins once the server is there', async () => {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const h = await spawnHost(fleet, 'h3', { url, heartbeatMs: HEARTBEAT_MS });
  hosts.push(h);
  const c = await h.local();
  assert.is(await c.call('core.ping'), 'pong');
  const status = (await c.call('fleet.status')) as { connected: boolean; host: string; servers: string[] };
  assert.is(status.connected, false);
  assert.is(status.host, 'h3');
  assert.equal(status.servers, [url]);
  // The same fleet (users, keys) served on that port: a second server with the same conf.
  const conf = await readFile(fleet.init.confPath, 'utf8');
  const confPath = join(fleet.init.dir, 'late.conf');
  await writeFile(confPath, conf.replace(/listen: "127\.0\.0\.1:\d+"/, `listen: "127.0.0.1:${port}"`).replace(/store_dir: "([^"]+)"/, 'store_dir: "$1-late"'));
  const late = await new NatsServer(confPath, port).start();
  try {
    await until(async () => ((await c.call('fleet.status')) as { connected: boolean }).connected, 'h3 to connect to the late server', 30_000);
    const lateClient = await FleetClient.fromFile(url, fleet.init.signerKeyPath);
    try {
      const p = await until(async () => (await lateClient.hosts()).find((x) => x.host === 'h3' && x.status === 'online'), 'h3 online on the late server');
      assert.is(p.interval_ms, HEARTBEAT_MS);
    } finally {
      await lateClient.close();
    }
  } finally {
    await h.stop();
    await late.stop();
  }
});

t('a host appears within two heartbeats with its job counts; a clean stop shows as stopped', async () => {
  const h = await spawnHost(fleet, 'h1', { heartbeatMs: HEARTBEAT_MS });
  hosts.push(h);
  const first = await until(() => presenceOf('h1'), 'h1 in the presence table');
  assert.is(first.status, 'online');
  assert.ok(first.beats <= 2, `first seen at beat ${first.beats}`);
  const c = await h.local();
  await c.call('core.set_options', { legacy_jobs: false });
  await c.call('core.bulk', 'core.ping', [[]]);
  await until(async () => ((await presenceOf('h1'))?.jobs.SUCCESS ?? 0) >= 1, 'the finished job in h1\'s counts');
  assert.is(await h.stop(), 0);
  const after = await presenceOf('h1');
  assert.is(after?.state, 'stopped');
  assert.is(after?.status, 'stopped');
});

t('a host killed with SIGKILL turns offline after three missed heartbeats', async () => {
  const h = await spawnHost(fleet, 'h2', { heartbeatMs: HEARTBEAT_MS });
  hosts.push(h);
  await until(async () => (await presenceOf('h2'))?.status === 'online', 'h2 online');
  await h.kill();
  const gone = await until(async () => {
    const p = await presenceOf('h2');
    return p?.status === 'offline' ? p : null;
  }, 'h2 offline');
  assert.is(gone.state, 'running');
  assert.ok(Date.now() - gone.last_seen > 3 * HEARTBEAT_MS);
});

t('stop', async () => {
  for (const h of hosts) await h.cleanup();
  await client.close();
  await fleet.stop();
});

test.run();
