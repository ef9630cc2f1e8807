// midshipd as users run it: flags, env, SIGTERM/SIGINT shutdown with close code 1001.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from './helpers/daemon.js';
import { until } from './helpers/until.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));

interface Running { child: ChildProcess; port: number; stderr: () => string; exited: Promise<number | null> }

async function run(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [mainJs, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /"port":(\d+)/.exec(err);
      if (m) {
        clearInterval(t);
        resolve(Number(m[1]));
      } else if (child.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`daemon exited: ${err}`));
      }
    }, 20);
  });
  return { child, port, stderr: () => err, exited };
}

test('flags pick the listeners; SIGTERM closes connections with 1001 and exits 0 within 5 s', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-main-'));
  const socket = join(dir, 'custom.sock');
  try {
    const d = await run(['--port', '0', '--data-dir', join(dir, 'data'), '--socket', socket, '--log-level', 'info']);
    assert.ok((await stat(join(dir, 'data', 'db'))).isDirectory());
    const tcp = await Client.connect(`ws://127.0.0.1:${d.port}/api/current`);
    const unix = await Client.connect(socket);
    assert.is(await unix.call('core.ping'), 'pong');
    const started = Date.now();
    d.child.kill('SIGTERM');
    assert.is(await tcp.closed, 1001);
    assert.is(await unix.closed, 1001);
    assert.is(await d.exited, 0);
    assert.ok(Date.now() - started < 5000);
    assert.match(d.stderr(), /connection open/);
    assert.match(d.stderr(), /midshipd stopped/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('environment variables configure it; SIGINT stops it; the data dir is locked', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-main-'));
  try {
    const d = await run([], { MIDSHIP_PORT: '0', MIDSHIP_DATA_DIR: dir, MIDSHIP_LOG_LEVEL: 'debug' });
    const c = await Client.connect(join(dir, 'middlewared.sock'));
    assert.is(await c.call('core.ping'), 'pong');
    await until(() => /"method":"core.ping"/.test(d.stderr()), 'the debug line of the call (debug level logs every call)', 10_000);
    // A second daemon on the same data dir refuses to start, saying why.
    const second = spawn(process.execPath, [mainJs, '--port', '0', '--data-dir', dir, '--socket', join(dir, 'other.sock')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    second.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise((r) => second.once('exit', r));
    assert.is(code, 1);
    assert.match(err, /another midshipd/);
    d.child.kill('SIGINT');
    assert.is(await c.closed, 1001);
    assert.is(await d.exited, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad flags are refused with the reason', async () => {
  const child = spawn(process.execPath, [mainJs, '--port', 'abc'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  assert.is(await new Promise((r) => child.once('exit', r)), 2);
  assert.match(err, /--port: port must be an integer/);
});

test.run();
