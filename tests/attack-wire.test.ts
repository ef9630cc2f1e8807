// Attacks on the wire side (issue 14), each played over a real connection: a ReDoS filter while
// another client pings, the data dir's file modes, a reused legacy sub id, WebSocket upgrades from
// foreign browser origins, and /_download/ as an id oracle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmod, lstat, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { loadConfig } from '../daemon/config.js';
import { ConfigError } from '../daemon/errors.js';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { until } from './helpers/until.js';

let d: TestDaemon;
let root: Client;

test.before(async () => {
  d = await startDaemon({ modules, allowedOrigins: ['https://nas.example.com'] });
  root = await Client.connect(d.socketPath);
  await root.call('core.set_options', { legacy_jobs: false });
});
test.after(async () => {
  await root.close();
  await d.cleanup();
});

test('ReDoS: a catastrophic regex over the job history answers, and another client is answered meanwhile', async () => {
  // Results of 60 characters: a backtracking engine needs ~2^60 steps for each of them.
  const text = 'a'.repeat(60);
  await root.call('core.bulk', 'test.job', Array.from({ length: 50 }, () => [{ steps: 0, delay: 0, result: text }]));
  const other = await Client.connect(d.socketPath);
  const attack = root.request('core.get_jobs', [[['result', '~', '(.|.)*X']], { count: true }]);
  const attack2 = root.request('core.get_jobs', [[['result', '~', '(a|aa)*$X']]]);
  const ping = other.call('core.ping');
  assert.is(await ping, 'pong');
  assert.is((await attack).result, 0);
  assert.equal((await attack2).result, []);
  // The same pattern matches what it should, and every *.query uses the same engine.
  assert.is(await root.call('core.get_jobs', [['result', '~', '(a|a)*$']], { count: true }), 50);
  await root.call('user.create', { username: 'a'.repeat(32), password: 'long-enough-pw' });
  const users = other.call('core.ping');
  assert.equal(await root.call('user.query', [['username', '~', '(a|a)*X']]), []);
  assert.is(await users, 'pong');
  await other.close();
});

test('ReDoS: what a linear-time engine cannot do is refused with a clear error, not run', async () => {
  const r = await root.request('core.get_jobs', [[['result', '~', '(a)\\1']]]);
  assert.match(String(r.error?.data?.reason), /backreference \\1 is not supported: filters use a linear-time regex engine/);
});

/** Every entry below `dir` with its mode (sockets left out). */
async function modes(dir: string): Promise<Array<[string, number, boolean]>> {
  const out: Array<[string, number, boolean]> = [];
  const walk = async (path: string) => {
    const st = await lstat(path);
    if (st.isSocket()) return;
    out.push([path, st.mode & 0o777, st.isDirectory()]);
    if (st.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
  return out;
}

test('the data dir is 0700 and every file in it 0600: a new one, job logs, downloads', async () => {
  const id = ((await root.call('core.download', 'test.export', [10], 'x.txt', true)) as [number, string])[0];
  await until(async () => ((await root.call('core.get_jobs', [['id', '=', id], ['state', '=', 'SUCCESS']], { count: true })) as number) === 1, 'export');
  await root.call('test.job', { steps: 1, delay: 1 });
  const all = await modes(d.dataDir);
  assert.ok(all.some(([p]) => p.endsWith('.log') && p.includes('/jobs/')), 'a job log exists');
  assert.ok(all.some(([p]) => p.includes('/downloads/')), 'a spooled download exists');
  for (const [path, mode, isDir] of all) {
    // LevelDB creates its own files as it goes; they sit in 0700 directories and are tightened
    // at the next start. Everything Midship writes is private from the start.
    if (!isDir && path.includes('/db/')) continue;
    assert.is(mode.toString(8), isDir ? '700' : '600', path);
  }
});

test('existing loose permissions are fixed at start, with a log line; other users cannot read anything', async () => {
  const e = await startDaemon({ modules });
  await e.stop();
  await chmod(e.dataDir, 0o755);
  for (const [path, , isDir] of await modes(e.dataDir)) await chmod(path, isDir ? 0o755 : 0o644);
  await writeFile(join(e.dataDir, 'jobs', 'old.log'), 'secret output\n', { mode: 0o644 });
  const again = await startDaemon({ modules, dataDir: e.dataDir });
  try {
    assert.ok(again.logs.some((l) => l.msg === 'data dir permissions tightened: files 0600, directories 0700 (other users could read them)' && (l.tightened as number) > 3));
    for (const [path, mode, isDir] of await modes(e.dataDir)) assert.is(mode.toString(8), isDir ? '700' : '600', path);
    if (process.getuid?.() === 0) {
      // As any other local user (cron jobs may run as nobody): nothing to read.
      for (const file of [join(e.dataDir, 'admin-password'), join(e.dataDir, 'jobs', 'old.log')]) {
        const r = spawnSync('cat', [file], { uid: 65534, gid: 65534 });
        assert.is.not(r.status, 0, `nobody read ${file}`);
        assert.match(r.stderr.toString(), /Permission denied/);
      }
    }
  } finally {
    await again.cleanup();
  }
});

test('a reused legacy sub id replaces the old subscription: after unsub no log follower is left', async () => {
  const legacy = await Client.connect(d.socketPath, '/websocket');
  legacy.send({ msg: 'connect', version: '1', support: ['1'] });
  await legacy.waitFor((m) => m.msg === 'connected');
  legacy.send({ msg: 'method', id: 'j', method: 'test.job', params: [{ steps: 40, delay: 25 }] });
  const jobId = (await legacy.waitFor((m) => m.msg === 'result' && m.id === 'j')).result as number;
  const name = `core.job_logs:${JSON.stringify({ id: jobId })}`;
  for (let i = 0; i < 2; i++) {
    legacy.send({ msg: 'sub', id: 'same', name });
    await legacy.waitFor((m) => m.msg === 'ready' && legacy.received.filter((x) => x.msg === 'ready').length === i + 1);
  }
  legacy.send({ msg: 'unsub', id: 'same' });
  legacy.send({ msg: 'ping', id: 'after-unsub' });
  await legacy.waitFor((m) => m.msg === 'pong' && m.id === 'after-unsub');
  const mark = legacy.received.length;
  await root.call('core.job_wait', jobId);
  // Round trip once more so anything the job's last lines caused has arrived.
  legacy.send({ msg: 'ping', id: 'after-end' });
  await legacy.waitFor((m) => m.msg === 'pong' && m.id === 'after-end');
  const late = legacy.received.slice(mark).filter((m: Message) => String(m.collection ?? '').startsWith('core.job_logs') && m.msg !== 'nosub');
  assert.equal(late, [], 'no log event after unsub');
  await legacy.close();
});

function upgrade(origin: string | undefined, target = `ws://127.0.0.1:${d.port}/api/current`): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(target, origin === undefined ? {} : { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', () => undefined);
  });
}

test('WebSocket upgrades from foreign browser origins are refused; own, configured and no Origin pass', async () => {
  assert.is(await upgrade('https://evil.example'), 403);
  assert.is(await upgrade('null'), 403);
  assert.is(await upgrade(`http://localhost:${d.port}`), 403, 'another host name is another origin');
  assert.is(await upgrade(`http://127.0.0.1:${d.port}`), 101, 'the dashboard on this listener');
  assert.is(await upgrade('https://nas.example.com'), 101, 'configured');
  assert.is(await upgrade(undefined), 101, 'midclt and scripts send no Origin');
  assert.is(await upgrade('https://evil.example', `ws://127.0.0.1:${d.port}/websocket`), 403, 'the legacy endpoint too');
  assert.equal(loadConfig(['--allowed-origins', 'https://a.example, http://b.example:8080/'], {}).allowedOrigins, ['https://a.example', 'http://b.example:8080']);
  assert.equal(loadConfig([], { MIDSHIP_ALLOWED_ORIGINS: 'https://c.example' }).allowedOrigins, ['https://c.example']);
  assert.throws(() => loadConfig(['--allowed-origins', 'https://a.example/path'], {}), (e: unknown) => e instanceof ConfigError && /scheme, host and port only/.test(e.message));
});

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: d.port, path }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

test('/_download/ answers the same for unknown and forbidden job ids (no id oracle)', async () => {
  await root.call('test.job', { steps: 1, delay: 1 });
  const known = ((await root.call('core.get_jobs', [], { order_by: ['-id'], get: true })) as { id: number }).id;
  const url = (await root.call('core.job_download_logs', known, 'x.log')) as string;
  const token = new URL(url, 'http://x').searchParams.get('auth_token')!;
  const answers = [
    await get(`/_download/${known}?auth_token=wrong`),
    await get(`/_download/987654321?auth_token=wrong`),
    await get(`/_download/${known}`),
    await get(`/_download/987654321`),
    await get(`/_download/${known + 1000}?auth_token=${token}`), // a real token, another job
  ];
  for (const a of answers) assert.equal(a, answers[0]);
  assert.is(answers[0]!.status, 401);
  assert.is((await get(url)).status, 200, 'the token itself still works once');
});

test.run();
