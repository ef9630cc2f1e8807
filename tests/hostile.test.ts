// Limits and hostile input (issue 3, PROTOCOL.md 1.3 and 2.4): frame sizes, binary frames,
// dead peers, slow consumers, and a fuzz run against a daemon in its own process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { testModule } from './helpers/test-module.js';
import { until } from './helpers/until.js';

let d: TestDaemon;

test.before(async () => {
  d = await startDaemon({
    modules: [coreModule, testModule],
    limits: { sendBufferBytes: 2 * 1024 * 1024, eventHighWaterBytes: 64 * 1024, pingIntervalMs: 150 },
  });
});
test.after(() => d.cleanup());

test('an 8 KiB+ frame before login closes with 1007; 64 KiB+ after login with 1009', async () => {
  const anon = await Client.connect(d.url);
  anon.send({ jsonrpc: '2.0', id: 1, method: 'core.ping', params: ['x'.repeat(8200)] });
  assert.is(await anon.closed, 1007);
  assert.is(anon.closeReason, 'Anonymous connection max message length is 8 kB');
  const admin = await Client.connect(d.socketPath);
  assert.equal((await admin.request('test.echo', [{ name: 'x'.repeat(60_000), count: 1 }])).result, { name: 'x'.repeat(60_000), count: 1 });
  admin.send({ jsonrpc: '2.0', id: 2, method: 'core.ping', params: ['x'.repeat(65_600)] });
  assert.is(await admin.closed, 1009);
  assert.is(admin.closeReason, 'Max message length is 64 kB');
});

test('a binary frame closes with 1003', async () => {
  const c = await Client.connect(d.url);
  c.ws.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"core.ping"}'), { binary: true });
  assert.is(await c.closed, 1003);
});

test('server pings drop a peer that does not answer', async () => {
  const ws = new WebSocket(d.url, { autoPong: false });
  await new Promise((r) => ws.once('open', r));
  const code = await new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
  assert.is(code, 1006);
  const alive = await Client.connect(d.url);
  let pings = 0;
  alive.ws.on('ping', () => pings++);
  // Two pings answered: past the interval in which a silent peer is dropped.
  await until(() => pings >= 2, 'two server pings', 10_000, 10);
  assert.is(await alive.call('core.ping'), 'pong', 'a peer that answers pings stays');
  await alive.close();
});

/** A subscriber that stops reading: its socket is paused, so the daemon's writes back up. */
async function stalledSubscriber(): Promise<Client> {
  const c = await Client.connect(d.socketPath);
  await c.call('core.subscribe', 'test.tick');
  (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  return c;
}

test('a slow consumer of coalescable events keeps only the latest unsent frame', async () => {
  const slow = await stalledSubscriber();
  const other = await Client.connect(d.socketPath);
  // 20,000 events of 1 KB with one key: 20 MB if queued, one frame when coalesced.
  assert.is(await other.call('test.emit', 20_000, 1000, 'job-1'), 20_000);
  assert.is(await other.call('core.ping'), 'pong');
  assert.ok(d.daemon.log && !d.logs.some((l) => l.msg === 'closing slow consumer: unsent data passed the send buffer bound'));
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const last = await slow.waitFor((m) => (m.params as { id?: number } | undefined)?.id === 19_999);
  assert.ok(last);
  const got = slow.received.filter((m) => m.method === 'collection_update').length;
  assert.ok(got < 20_000, `coalesced: ${got} frames delivered`);
  await slow.close();
  await other.close();
});

test('a slow consumer past the send buffer bound is cut off; others are unaffected', async () => {
  const slow = await stalledSubscriber();
  const other = await Client.connect(d.socketPath);
  const rssBefore = process.memoryUsage().rss;
  assert.is(await other.call('test.emit', 20_000, 1000, null), 20_000);
  assert.ok(d.logs.some((l) => l.msg === 'closing slow consumer: unsent data passed the send buffer bound'), 'the slow consumer was closed');
  assert.is(await other.call('core.ping'), 'pong');
  // 20 MB of events were produced; at most the 2 MiB bound (plus noise) may have been kept.
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 16 * 1024 * 1024, `rss grew ${grown} bytes`);
  slow.ws.terminate();
  await other.close();
});

// ---- fuzz: a daemon in its own process, so its memory can be read from /proc ----

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

function rand(n: number): number {
  return Math.floor(Math.random() * n);
}

function randomFrame(i: number): string | Buffer {
  const junk = ['{', '[', '"', '}', ']', ':', ',', 'null', 'true', '1e999', '\\u0000', '\u00ff', 'jsonrpc', 'method'];
  switch (i % 12) {
    case 0: return Array.from({ length: rand(40) }, () => junk[rand(junk.length)]).join('');
    case 1: return JSON.stringify({ jsonrpc: '2.0', id: Number.MAX_SAFE_INTEGER * (1 + rand(1000)), method: 'core.ping' });
    case 2: return JSON.stringify({ jsonrpc: '2.0', id: 'x'.repeat(rand(4000)), method: 'core.ping' });
    case 3: return `${'['.repeat(60 + rand(200))}${']'.repeat(rand(200))}`;
    case 4: return JSON.stringify({ jsonrpc: rand(2) ? '2.0' : 2, id: { a: 1 }, method: ['core.ping'], params: 'p' });
    case 5: return JSON.stringify([{ jsonrpc: '2.0', id: i, method: 'core.ping' }, 1, null, { jsonrpc: '2.0' }]);
    case 6: return JSON.stringify({ jsonrpc: '2.0', id: i, method: 'core.set_options', params: [{ legacy_jobs: 'yes', x: [1, 2] }] });
    case 7: return JSON.stringify({ jsonrpc: '2.0', id: i, method: `x.${'y'.repeat(rand(100))}` });
    case 8: return Buffer.from([rand(256), rand(256), rand(256)]);
    case 9: return JSON.stringify({ jsonrpc: '2.0', id: i, method: 'core.subscribe', params: [`core.x:${'{'.repeat(rand(30))}`] });
    case 10: return '"just a string"';
    default: return JSON.stringify({ jsonrpc: '2.0', id: null, method: 'core.ping', params: [null, [], {}] });
  }
}

test('10,000 random and malformed frames: the daemon still answers and its memory stays bounded', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'midship-fuzz-'));
  const child: ChildProcess = spawn(process.execPath, [mainJs, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const socketPath = join(dataDir, 'middlewared.sock');
    await until(() => Client.connect(socketPath).then((probe) => probe.close().then(() => true), () => false), 'the daemon to listen', 10_000, 100);
    const base = await rssKb(child.pid!);
    let sent = 0;
    let binaryClosed = 0;
    let conn = await Client.connect(socketPath);
    while (sent < 10_000) {
      const frame = randomFrame(sent);
      sent++;
      if (Buffer.isBuffer(frame)) {
        // Binary frames end their connection (1003): use a throwaway one.
        const b = await Client.connect(socketPath);
        b.ws.send(frame, { binary: true });
        if ((await b.closed) === 1003) binaryClosed++;
        continue;
      }
      if (conn.ws.readyState !== WebSocket.OPEN) conn = await Client.connect(socketPath);
      conn.ws.send(frame);
      if (sent % 100 === 0) {
        // Let the daemon work through the burst before the next one.
        if (conn.ws.readyState === WebSocket.OPEN) await conn.call('core.ping').catch(() => undefined);
      }
    }
    assert.ok(binaryClosed > 800, `binary frames closed ${binaryClosed} connections with 1003`);
    if (conn.ws.readyState === WebSocket.OPEN) await conn.close();
    const check = await Client.connect(socketPath);
    assert.is(await check.call('core.ping'), 'pong');
    await check.close();
    const after = await rssKb(child.pid!);
    // Bound: 40 MB over the warmed-up baseline (heap noise and GC timing included).
    assert.ok(after - base < 40 * 1024, `rss ${base} kB -> ${after} kB`);
    assert.is(child.exitCode, null, 'daemon still running');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
