// system.*: the facts of system.info against this host, the version strings against
// package.json, the daemon's life seen through system.state (BOOTING while modules start, READY
// once it listens, SHUTTING_DOWN as it stops) and the system.ready event sent once, boot and host
// ids across a restart, and who may call what.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { App, ModuleDef, ModuleFactory } from '#midship/module-api';
import { modules as builtIn } from '../methods/index.js';
import { Client, startDaemon } from './helpers/daemon.js';

const PW = 'system-test-pw';
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** What a module started after system sees of the daemon's life, and the events emitted. */
function lifeWatcher(seen: { atStart: unknown; atStopping: unknown; emitted: string[] }): ModuleFactory {
  return (app: App): ModuleDef => {
    const bus = app.events;
    const emit = bus.emit.bind(bus);
    // A spy, not a stand-in: every event still goes out as before.
    bus.emit = (name, ...rest) => {
      seen.emitted.push(name);
      return emit(name, ...rest);
    };
    return {
      services: [],
      methods: [],
      async start() {
        seen.atStart = await app.call('system.state', []);
      },
      async stopping() {
        seen.atStopping = await app.call('system.state', []);
      },
    };
  };
}

test('system.info: every field typed and plausible on this host', async () => {
  const d = await startDaemon({ adminPassword: PW });
  const c = await Client.connect(d.socketPath);
  try {
    const info = (await c.call('system.info')) as Record<string, unknown>;
    assert.is(info.version, pkg.version);
    assert.is(info.cores, cpus().length, 'cores is the logical CPU count');
    const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    assert.is(info.physmem, memTotal, 'physmem is MemTotal in bytes');
    assert.ok(Number.isInteger(info.physical_cores) && (info.physical_cores as number) >= 1 && (info.physical_cores as number) <= (info.cores as number));
    assert.is(typeof info.model, 'string');
    assert.ok((info.model as string).length > 0);
    assert.is(info.hostname, readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    const load = info.loadavg as number[];
    assert.is(load.length, 3);
    assert.ok(load.every((n) => typeof n === 'number' && n >= 0));
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(Math.abs((info.uptime_seconds as number) - up) < 60, `uptime_seconds ${String(info.uptime_seconds)} vs /proc/uptime ${up}`);
    assert.match(info.uptime as string, /^(\d+ days?, )?\d+:\d\d:\d\d(\.\d{6})?$/);
    const now = Date.now();
    const dt = (info.datetime as { $date: number }).$date;
    assert.ok(Math.abs(dt - now) < 60_000, 'datetime is now');
    const boot = (info.boottime as { $date: number }).$date;
    assert.ok(Math.abs(dt - boot - (info.uptime_seconds as number) * 1000) < 5000, 'boottime = datetime - uptime');
    assert.ok((info.buildtime as { $date: number }).$date <= now);
    assert.is(typeof info.timezone, 'string');
    assert.is(info.license, null);
    assert.is(typeof info.ecc_memory, 'boolean');
    for (const k of ['system_serial', 'system_product', 'system_product_version', 'system_manufacturer']) {
      assert.ok(info[k] === null || (typeof info[k] === 'string' && (info[k] as string).length > 0), k);
    }
    assert.is(await c.call('system.version'), `Midship-${pkg.version}`);
    assert.is(await c.call('system.version_short'), pkg.version);
    assert.match((await c.call('system.host_id')) as string, /^[0-9a-f]{64}$/);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('system.state: BOOTING while modules start, READY once listening, SHUTTING_DOWN on stop; system.ready sent once', async () => {
  const seen = { atStart: null as unknown, atStopping: null as unknown, emitted: [] as string[] };
  const d = await startDaemon({ modules: [...builtIn, lifeWatcher(seen)] });
  const c = await Client.connect(d.socketPath);
  assert.is(seen.atStart, 'BOOTING');
  assert.is(await c.call('system.state'), 'READY');
  assert.is(await c.call('system.ready'), true);
  assert.equal(seen.emitted.filter((n) => n === 'system.ready'), ['system.ready'], 'system.ready once');
  await c.close();
  await d.stop();
  assert.is(seen.atStopping, 'SHUTTING_DOWN');
  assert.equal(seen.emitted.filter((n) => n === 'system.ready'), ['system.ready'], 'still once');
  await d.cleanup();
});

test('boot_id is new on every start (and is /api/boot_id), host_id stays; who may call what', async () => {
  let d = await startDaemon({ adminPassword: PW });
  let root = await Client.connect(d.socketPath);
  const anon = await Client.connect(d.url);
  const boot1 = await anon.call('system.boot_id');
  assert.is(boot1, await (await fetch(`http://127.0.0.1:${d.port}/api/boot_id`)).json(), 'the same id as /api/boot_id');
  const host1 = await root.call('system.host_id');
  // Anonymous: boot_id only.
  for (const m of ['system.info', 'system.version', 'system.state', 'system.host_id']) {
    assert.is((await anon.request(m)).error?.data?.error, 207, `${m} needs a login`);
  }
  await root.call('user.create', { username: 'nobody_much', password: 'nobody-much-pw', roles: [] });
  const plain = await Client.connect(d.url);
  await plain.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'nobody_much', password: 'nobody-much-pw' });
  assert.is(await plain.call('system.version'), `Midship-${pkg.version}`, 'any session reads the version');
  for (const m of ['system.info', 'system.state', 'system.host_id', 'system.debug']) {
    assert.is((await plain.request(m)).error?.data?.error, 13, `${m} needs a role`);
  }
  await Promise.all([anon.close(), plain.close(), root.close()]);
  await d.stop();
  d = await startDaemon({ dataDir: d.dataDir });
  root = await Client.connect(d.socketPath);
  assert.is.not(await root.call('system.boot_id'), boot1, 'a new boot id');
  assert.is(await root.call('system.host_id'), host1, 'the same host id');
  await root.close();
  await d.cleanup();
});

test.run();
