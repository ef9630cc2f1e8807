// midclt's fleet commands and `midshipd fleet init` against a real daemon and nats-server, for
// what the quick start does not show: usage errors, an unreachable server or host, a refused
// call, a failed job followed with -j, JSON output and the filters of `fleet jobs`.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnHost, type FleetHost } from './helpers/fleet-hosts.js';
import { midclt, spawnClient } from './helpers/midclt.js';
import { freePort, natsTest, startFleet, type TestFleet } from './helpers/nats.js';
import { until } from './helpers/until.js';

const t = natsTest(test);
const MAIN = fileURLToPath(new URL('../daemon/main.js', import.meta.url));

let fleet: TestFleet;
let h1: FleetHost;
let dir = '';

const fleetArgs = () => ['--fleet', fleet.server.url, '--fleet-creds', fleet.init.signerKeyPath];
const midshipd = (args: string[]) => spawnClient(process.execPath, [MAIN, ...args], { cwd: dir }).done;

test('midshipd fleet init: files with their modes; a second init, bad hosts and ports are refused', async () => {
  dir = await mkdtemp(join(tmpdir(), 'midship-fleet-cli-'));
  const ok = await midshipd(['fleet', 'init', 'f', '--hosts', 'a,b', '--nats-port', '14999']);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /nats-server -c f\/nats\.conf/);
  assert.match(ok.stdout, /--fleet-url nats:\/\/127\.0\.0\.1:14999 --fleet-host-id b --fleet-creds f\/b\.creds --fleet-trust f\/signer\.pub/);
  for (const f of ['a.creds', 'b.creds', 'signer.key']) assert.is((await stat(join(dir, 'f', f))).mode & 0o777, 0o600, f);
  const again = await midshipd(['fleet', 'init', 'f', '--hosts', 'c']);
  assert.is(again.code, 1);
  assert.match(again.stderr, /DIR: .*nats\.conf exists: this folder holds a fleet already/);
  const badHost = await midshipd(['fleet', 'init', 'g', '--hosts', 'ok,no.dots']);
  assert.is(badHost.code, 2);
  assert.match(badHost.stderr, /--hosts\.1: must be 1-64 characters/);
  const badPort = await midshipd(['fleet', 'init', 'g', '--hosts', 'a', '--nats-port', '70000']);
  assert.is(badPort.code, 2);
  assert.match(badPort.stderr, /--nats-port: must be a port number 1-65535/);
  const noHosts = await midshipd(['fleet', 'init', 'g']);
  assert.is(noHosts.code, 2);
  assert.match(noHosts.stderr, /--hosts is required/);
});

t('start a fleet with one daemon', async () => {
  fleet = await startFleet(['h1', 'h2']);
  h1 = await spawnHost(fleet, 'h1');
  await until(async () => (await midclt([...fleetArgs(), 'fleet', 'hosts'])).stdout.includes(' online '), 'h1 online');
});

t('usage errors exit 2; an unreachable server or host exits 1 with the reason', async () => {
  const noCreds = await midclt(['--fleet', fleet.server.url, 'fleet', 'hosts']);
  assert.is(noCreds.code, 2);
  assert.match(noCreds.stderr, /needs --fleet URL and --fleet-creds FILE/);
  const down = await midclt(['--fleet', `nats://127.0.0.1:${await freePort()}`, '--fleet-creds', fleet.init.signerKeyPath, 'fleet', 'hosts']);
  assert.is(down.code, 1);
  assert.match(down.stderr, /Cannot connect to the fleet/);
  const badState = await midclt([...fleetArgs(), 'fleet', 'jobs', '--state', 'DONE']);
  assert.is(badState.code, 2);
  const badHost = await midclt([...fleetArgs(), 'fleet', 'jobs', '--host', 'a.b']);
  assert.is(badHost.code, 2);
  assert.match(badHost.stderr, /--host: must be 1-64 characters/);
  const absent = await midclt([...fleetArgs(), '--host', 'h2', 'call', 'core.ping']);
  assert.is(absent.code, 1);
  assert.match(absent.stderr, /host h2 is not connected to the fleet/);
});

t('calls: results as midclt prints them, refusals with their errno, a failed job followed with -j', async () => {
  assert.is((await midclt([...fleetArgs(), '--host', 'h1', 'call', 'test.echo', '{"name": "a", "count": 1}'])).stdout, '{"name": "a", "count": 1}\n');
  const ro = await midclt([...fleetArgs(), '--fleet-roles', 'READONLY_ADMIN', '--host', 'h1', 'call', 'test.job', '{}']);
  assert.is(ro.code, 1);
  assert.match(ro.stderr, /\[EACCES\] Not authorized/);
  const bad = await midclt([...fleetArgs(), '--host', 'h1', 'call', 'test.job', '{"steps": -1}']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /steps/);
  const id = await midclt([...fleetArgs(), '--host', 'h1', 'call', 'test.job', '{"steps": 1, "delay": 1}']);
  assert.match(id.stdout, /^\d+\n$/, 'without -j a job prints its id');
  const failed = await midclt([...fleetArgs(), '--fleet-user', 'ops', '--host', 'h1', 'call', '-j', 'test.job', '{"steps": 1, "delay": 1, "fail": "call"}']);
  assert.is(failed.code, 1);
  assert.match(failed.stderr, /Job \d+ started on h1 \(test\.job\)/);
  assert.ok(failed.stderr.trim().split('\n').length >= 2, failed.stderr);
  const audit = h1.fleetAudit().filter((a) => a.method === 'test.job');
  assert.ok(audit.some((a) => a.user === 'ops'), 'signed for --fleet-user');
});

t('fleet jobs: filters and JSON; fleet hosts --json', async () => {
  type Entry = { host: string; job: { state: string; method: string } };
  // The two jobs started above (refused calls start none), once both ends are published.
  const all = await until(async () => {
    const a = JSON.parse((await midclt([...fleetArgs(), 'fleet', 'jobs', '--json'])).stdout) as Entry[];
    return a.length === 2 && a.every((e) => e.job.state === 'SUCCESS' || e.job.state === 'FAILED') ? a : null;
  }, 'both jobs ended in the history');
  assert.equal(all.map((e) => e.job.method), ['test.job', 'test.job']);
  const failed = JSON.parse((await midclt([...fleetArgs(), 'fleet', 'jobs', '--host', 'h1', '--state', 'failed', '--json'])).stdout) as typeof all;
  assert.ok(failed.length >= 1);
  assert.ok(failed.every((e) => e.host === 'h1' && e.job.state === 'FAILED'));
  const none = await midclt([...fleetArgs(), 'fleet', 'jobs', '--host', 'h2']);
  assert.is(none.code, 0);
  assert.match(none.stderr, /No jobs match/);
  const hosts = JSON.parse((await midclt([...fleetArgs(), 'fleet', 'hosts', '--json'])).stdout) as Array<{ host: string; status: string }>;
  assert.equal(hosts.map((h) => [h.host, h.status]), [['h1', 'online']]);
});

t('stop', async () => {
  await h1.cleanup();
  await fleet.stop();
  await rm(dir, { recursive: true, force: true });
});

test.run();
