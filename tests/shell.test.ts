// The web shell (/websocket/shell and /_shell) against a real daemon and a real pty: the token
// handshake and its refusals (bad, used, download-bound tokens; users without the role; too many
// shells), `echo $((6*7))` answering 42 over binary frames (and text frames), core.resize_shell
// changing `stty size`, the shell gone when its socket closes, the socket closed when the shell
// exits, each session in the audit trail.
import { WebSocket, type RawData } from 'ws';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { SHELLS_PER_USER } from '../methods/shell/index.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { isAlive } from './helpers/pids.js';
import { useEmptyHome } from './helpers/shell-home.js';
import { until } from './helpers/until.js';

const PW = 'shell-admin-pw';

let restoreHome: () => Promise<void>;
test.before(async () => {
  restoreHome = await useEmptyHome();
});
test.after(async () => {
  await restoreHome();
});

class Shell {
  readonly ws: WebSocket;
  text = '';
  readonly json: Array<Record<string, unknown>> = [];
  binaryFrames = 0;
  readonly closed: Promise<number>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const s = (data as Buffer).toString('utf8');
      if (isBinary) {
        this.binaryFrames++;
        this.text += s;
      } else this.json.push(JSON.parse(s) as Record<string, unknown>);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code: number) => resolve(code)));
  }

  static async open(d: TestDaemon, path = '/websocket/shell/'): Promise<Shell> {
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}${path}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Shell(ws);
  }

  async hello(token: string, options: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const n = this.json.length;
    this.ws.send(JSON.stringify({ token, options }));
    await until(() => this.json.length > n, 'the handshake answer');
    return this.json[n]!;
  }

  type(line: string, binary = true): void {
    this.ws.send(binary ? Buffer.from(`${line}\r`) : `${line}\r`, { binary });
  }

  /** Waits for a line of output matching `re` (terminal control sequences and CRs left out). */
  async line(re: RegExp, after = 0): Promise<RegExpExecArray> {
    // eslint-disable-next-line no-control-regex
    const plain = () => this.text.slice(after).replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r/g, '');
    return until(() => re.exec(plain()), `output matching ${re}`, 20_000);
  }
}

async function session(d: TestDaemon, username = 'admin', password = PW): Promise<Client> {
  const c = await Client.connect(d.url);
  await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password });
  return c;
}

const token = async (c: Client, attrs: Record<string, unknown> = {}, singleUse = true) => (await c.call('auth.generate_token', 300, attrs, true, singleUse)) as string;

test('a shell session: 42, resize, text frames, closing the socket ends the shell, audited', async () => {
  const d = await startDaemon({ adminPassword: PW });
  const c = await session(d);
  try {
    const sh = await Shell.open(d);
    sh.ws.send('not json'); // ignored before the handshake
    const hello = await sh.hello(await token(c));
    assert.is(hello.msg, 'connected');
    const id = hello.id as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    sh.type('echo $((6*7))');
    await sh.line(/^42$/m);
    assert.ok(sh.binaryFrames > 0, 'output comes in binary frames');
    assert.is(await c.call('core.resize_shell', id, 100, 40), null);
    let mark = sh.text.length;
    sh.type('stty size');
    await sh.line(/^40 100$/m, mark);
    mark = sh.text.length;
    sh.type('echo "pid=$$"', false); // a text frame is written to the pty as well
    const pid = Number((await sh.line(/^pid=(\d+)$/m, mark))[1]);
    assert.ok(isAlive(pid));
    const missing = await c.request('core.resize_shell', ['no-such-shell', 80, 24]);
    assert.is(missing.error?.data?.error, 2);
    assert.match(String(missing.error?.data?.reason), /Shell does not exist/);
    const tiny = await c.request('core.resize_shell', [id, 0, 24]);
    assert.equal((tiny.error?.data?.extra as Array<[string]>)[0]![0], 'cols');
    sh.ws.close();
    await until(() => !isAlive(pid), 'the shell process to end with its socket', 20_000);
    await until(() => d.logs.some((l) => l.method === 'WEBSHELL_LOGOUT'), 'the logout in the audit trail');
    const login = d.logs.find((l) => l.method === 'WEBSHELL_AUTHENTICATION' && l.ok === true)!;
    assert.is(login.user, 'admin');
    assert.is(login.audit, true);
    assert.equal((await c.request('core.resize_shell', [id, 80, 24])).error?.data?.error, 2, 'gone with its socket');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('the socket closes when the shell exits; /_shell works too', async () => {
  const d = await startDaemon({ adminPassword: PW });
  const c = await session(d);
  try {
    const sh = await Shell.open(d, '/_shell');
    assert.is((await sh.hello(await token(c))).msg, 'connected');
    sh.type('exit 0');
    assert.is(await sh.closed, 1000);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('refusals: bad, used and download tokens; no role; too many shells; the socket stays for another try', async () => {
  const d = await startDaemon({ adminPassword: PW, auth: { ...DEFAULT_AUTH, failDelayMs: 10 } });
  const root = await Client.connect(d.socketPath);
  await root.call('user.create', { username: 'viewer', password: 'viewer-pw-1', roles: ['READONLY_ADMIN'] });
  await root.call('user.create', { username: 'shelly', password: 'shelly-pw-1', roles: ['WEB_SHELL_WRITE'] });
  const c = await session(d);
  const shells: Shell[] = [];
  try {
    const sh = await Shell.open(d);
    shells.push(sh);
    assert.equal(await sh.hello('not-a-token'), { msg: 'failed', error: { error: 207, reason: 'Invalid token' } });
    const once = await token(c);
    const other = await Shell.open(d);
    shells.push(other);
    assert.is((await other.hello(once)).msg, 'connected');
    assert.is((await sh.hello(once)).msg, 'failed', 'a single-use token works once');
    assert.is((await sh.hello(await token(c, { filename: 'x', job: 1 }))).msg, 'failed', 'a token with attributes is not a shell token');
    assert.equal((await sh.hello(await token(c, {}, false))).msg, 'connected', 'the same socket may try again');

    const viewer = await session(d, 'viewer', 'viewer-pw-1');
    const v = await Shell.open(d);
    shells.push(v);
    assert.equal(await v.hello(await token(viewer)), { msg: 'failed', error: { error: 13, reason: 'Web shell privilege not granted for this account' } });
    await viewer.close();
    const shelly = await session(d, 'shelly', 'shelly-pw-1');
    assert.is((await v.hello(await token(shelly))).msg, 'connected', 'the WEB_SHELL_WRITE role is enough');
    await shelly.close();

    const opts = await Shell.open(d);
    shells.push(opts);
    assert.equal((await opts.hello(await token(c), { vm_id: 3 })).error, { error: 22, reason: "Midship has only the host shell (no VM, app or container consoles): 'vm_id' is not supported" });

    // admin holds two shells now; fill up to the bound, then one more is refused.
    for (let i = 2; i < SHELLS_PER_USER; i++) {
      const s = await Shell.open(d);
      shells.push(s);
      assert.is((await s.hello(await token(c))).msg, 'connected');
    }
    const extra = await Shell.open(d);
    shells.push(extra);
    const refused = await extra.hello(await token(c));
    assert.is((refused.error as { error: number }).error, 16);
    shells[1]!.ws.close();
    await shells[1]!.closed;
    await until(async () => (await extra.hello(await token(c))).msg === 'connected', 'a slot to free up');
    const failures = d.logs.filter((l) => l.method === 'WEBSHELL_AUTHENTICATION' && l.ok === false);
    assert.ok(failures.length >= 5, 'every refused attempt is audited');
  } finally {
    for (const s of shells) s.ws.terminate();
    await root.close();
    await c.close();
    await d.cleanup();
  }
});

test('a stop ends every shell', async () => {
  const d = await startDaemon({ adminPassword: PW });
  const c = await session(d);
  const sh = await Shell.open(d);
  assert.is((await sh.hello(await token(c))).msg, 'connected');
  sh.type('echo "pid=$$"');
  const pid = Number((await sh.line(/^pid=(\d+)$/m))[1]);
  await d.stop();
  assert.is(await sh.closed, 1000, 'the shell exited, so its socket closed');
  await until(() => !isAlive(pid), 'the shell to be gone');
  await c.close().catch(() => undefined);
  await d.cleanup();
});

test.run();
