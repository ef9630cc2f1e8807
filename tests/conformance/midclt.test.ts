// Conformance with the real TrueNAS client: the unmodified truenas_api_client `midclt` (run by
// python3 from MIDSHIP_TRUENAS_CLIENT, see tests/helpers/truenas-client.ts) drives a real daemon
// over TCP, the unix socket and legacy /websocket: password, API-key (SCRAM and plain) logins,
// jobs with progress, failures, validation errors, subscriptions, core.get_methods, and every
// *.query / get_instance the daemon serves (found through core.get_methods, so each new module is
// covered without touching this file). What it prints is compared with what a raw client gets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Client, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { modules } from '../helpers/modules.js';
import { clientAvailable, conformanceTest, normalize, realMidclt, spawnRealMidclt } from '../helpers/truenas-client.js';
import { until } from '../helpers/until.js';

const T = conformanceTest(test);
const PASSWORD = 'conformance-pw-1';

let d: TestDaemon;
let root: Client;
let tcp: string;
let legacy: string;
let unix: string;

test.before(async () => {
  if (!clientAvailable) return;
  d = await startDaemon({ modules, adminPassword: PASSWORD });
  root = await Client.connect(d.socketPath);
  tcp = `ws://127.0.0.1:${d.port}/api/current`;
  legacy = `ws://127.0.0.1:${d.port}/websocket`;
  unix = `ws+unix://${d.socketPath}`;
});
test.after(async () => {
  if (!clientAvailable) return;
  await root.close();
  await d.cleanup();
});

/** Run the real midclt; fail with everything it printed when the exit code is not `code`. */
async function midclt(args: string[], code = 0): Promise<{ stdout: string; stderr: string }> {
  const r = await realMidclt(args);
  assert.is(r.code, code, `midclt ${args.join(' ')} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  // A dropped message surfaces as a client-side timeout: never acceptable.
  assert.not.match(r.stderr, /CallTimeout|Call timeout|Traceback/, `midclt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

T('ping over the unix socket, TCP and legacy /websocket', async () => {
  assert.is((await midclt(['-u', unix, 'ping'])).stdout, 'pong\n');
  assert.is((await midclt(['-u', tcp, 'ping'])).stdout, 'pong\n');
  assert.is((await midclt(['-u', legacy, 'ping'])).stdout, 'True\n');
});

T('call over TCP with -U/-P; a wrong password is refused the way the client reports it', async () => {
  const me = JSON.parse((await midclt(['-u', tcp, '-U', 'admin', '-P', PASSWORD, 'call', 'auth.me'])).stdout) as Record<string, unknown>;
  assert.is(me.pw_name, 'admin');
  assert.is(me.credentials_type, 'LOGIN_PASSWORD');
  const privilege = me.privilege as { roles: { $set: string[] } };
  assert.ok(privilege.roles.$set.includes('FULL_ADMIN') && privilege.roles.$set.includes('SYSTEM_CRON_WRITE'), 'FULL_ADMIN and every role it includes');
  assert.equal({ ...privilege, roles: undefined }, { roles: undefined, allowlist: [{ method: '*', resource: '*' }], web_shell: true, webui_access: true });
  // The client's quirk: a failed login prints on stdout and exits 0 (PROTOCOL.md 10.3).
  const bad = await midclt(['-u', tcp, '-U', 'admin', '-P', 'wrong-password', 'call', 'auth.me']);
  assert.match(bad.stdout, /^Failed to login: /);
});

T('call with an API key: SCRAM (-U -K) and plain (-K --plain), over TCP and legacy /websocket', async () => {
  const { key } = (await root.call('api_key.create', { name: 'conformance', username: 'admin' })) as { key: string };
  const scram = JSON.parse((await midclt(['-u', tcp, '-U', 'admin', '-K', key, '--no-channel-binding', 'call', 'auth.me'])).stdout) as Record<string, unknown>;
  assert.is(scram.pw_name, 'admin');
  assert.is(scram.credentials_type, 'API_KEY');
  const plain = JSON.parse((await midclt(['-u', tcp, '-U', 'admin', '-K', key, '--plain', 'call', 'auth.me'])).stdout) as Record<string, unknown>;
  assert.is(plain.credentials_type, 'API_KEY');
  assert.is((await midclt(['-u', legacy, '-K', key, '--plain', 'call', 'core.ping'])).stdout, 'pong\n');
  const wrong = await midclt(['-u', tcp, '-U', 'admin', '-K', `${key.split('-')[0]}-not-the-secret`, '--no-channel-binding', 'call', 'auth.me']);
  assert.match(wrong.stdout, /^Failed to login: /);
});

T('call over the unix socket and over legacy /websocket print what a raw client receives', async () => {
  const count = await root.call('core.get_jobs', [], { count: true });
  assert.is((await midclt(['-u', unix, 'call', 'core.get_jobs', '[]', '{"count": true}'])).stdout, `${String(count)}\n`);
  const echoed = (await midclt(['-u', legacy, '-U', 'admin', '-P', PASSWORD, 'call', 'test.echo', '{"name": "n\\u00e9e", "count": 2}'])).stdout;
  assert.equal(normalize(JSON.parse(echoed)), normalize(await root.call('test.echo', { name: 'n\u00e9e', count: 2 })));
  // Legacy protocol: a job method answers with its job id.
  const id = Number((await midclt(['-u', legacy, '-U', 'admin', '-P', PASSWORD, 'call', 'test.job', '{"steps": 1, "delay": 1}'])).stdout);
  assert.ok(Number.isSafeInteger(id) && id > 0);
});

T('call -j waits for the job with progress (bar and descriptions), on the new and the legacy protocol', async () => {
  const described = await midclt(['-u', unix, 'call', '-j', '-jp', 'description', 'test.job', '{"steps": 4, "delay": 40, "result": {"done": true}}']);
  assert.equal(JSON.parse(described.stdout), { done: true });
  const steps = described.stderr.split('\n').filter((l) => /^Step \d$/.test(l));
  assert.ok(steps.length >= 1 && steps.every((l, i) => i === 0 || l > steps[i - 1]!), described.stderr);
  const bar = await midclt(['-u', tcp, '-U', 'admin', '-P', PASSWORD, 'call', '-j', 'test.job', '{"steps": 3, "delay": 40}']);
  assert.equal(JSON.parse(bar.stdout), { steps: 3 });
  assert.match(bar.stderr, /Step \d/);
  const old = await midclt(['-u', legacy, '-U', 'admin', '-P', PASSWORD, 'call', '-j', 'test.job', '{"steps": 2, "delay": 20}']);
  assert.equal(JSON.parse(old.stdout), { steps: 2 });
});

T('a failing job: -j exits 1 with its error; validation failures of a job name their field', async () => {
  const failed = await midclt(['-u', unix, 'call', '-j', 'test.job', '{"steps": 1, "delay": 1, "fail": "call"}'], 1);
  assert.match(failed.stderr, /Target nightly does not exist/);
  const invalid = await midclt(['-u', unix, 'call', '-j', 'test.job', '{"steps": 1, "delay": 1, "fail": "validation"}'], 1);
  assert.match(invalid.stderr, /o\.steps/);
  assert.match(invalid.stderr, /too few steps/);
});

T('validation errors, call errors and unknown methods print the client\'s way and exit 1', async () => {
  const v = await midclt(['-u', unix, 'call', 'test.echo', '{"name": 5, "count": 1}'], 1);
  assert.match(v.stderr, /value\.name/);
  const c = await midclt(['-u', unix, 'call', 'test.call_error'], 1);
  assert.match(c.stderr, /\[ENOENT\] Pool tank not found/);
  const m = await midclt(['-u', tcp, '-U', 'admin', '-P', PASSWORD, 'call', 'no_such.method'], 1);
  assert.match(m.stderr, /Method does not exist/);
  // Without login over TCP: refused, not hung.
  const anon = await midclt(['-u', tcp, 'call', 'core.get_jobs'], 1);
  assert.match(anon.stderr, /Not authenticated|ENOTAUTHENTICATED/);
});

T('subscribe prints job events as they come', async () => {
  // `subscribe` never logs in (PROTOCOL.md 10.1), so it is the local administrator's unix socket.
  const sub = spawnRealMidclt(['-u', unix, 'subscribe', '-n', '1', '-t', '30', 'core.get_jobs']);
  // No snapshot is sent on subscribe: keep making job events until midclt has printed one.
  await until(async () => sub.stdout() !== '' || sub.child.exitCode !== null || (await root.call('test.job', { steps: 1, delay: 1 }), false), 'midclt to print an event', 30_000, 100);
  const r = await sub.done;
  assert.is(r.code, 0, r.stderr);
  const event = JSON.parse(r.stdout.split('\n')[0]!) as { msg: string; collection: string; fields: { method: string } };
  assert.is(event.collection, 'core.get_jobs');
  assert.ok(['added', 'changed'].includes(event.msg));
  assert.is(event.fields.method, 'test.job');
});

T('core.get_methods decodes; every *.query and get_instance answers through the real client', async () => {
  // Something in every collection: a user, an API key, a cron job, finished jobs.
  await root.call('user.create', { username: 'conf_user', password: 'conf-user-pw', full_name: 'Conformance' });
  await root.call('cronjob.create', { command: 'true', user: 'root', description: 'conformance', environment: { A: 'b' } });
  await root.call('test.job', { steps: 1, delay: 1 });
  const served = JSON.parse((await midclt(['-u', unix, 'call', 'core.get_methods'])).stdout) as Record<string, { filterable?: boolean }>;
  const raw = (await root.call('core.get_methods')) as Record<string, unknown>;
  assert.equal(Object.keys(served).sort(), Object.keys(raw).sort());
  assert.equal(normalize(served), normalize(raw));
  const queries = Object.keys(served).filter((name) => served[name]!.filterable === true).sort();
  for (const known of ['core.get_jobs', 'user.query', 'api_key.query', 'cronjob.query']) assert.ok(queries.includes(known), `${known} in ${queries.join(', ')}`);
  for (const name of queries) {
    const printed = JSON.parse((await midclt(['-u', unix, 'call', name])).stdout) as Array<Record<string, unknown>>;
    if (name === 'auth.sessions') {
      // Each caller sees itself as `current`: the root client's own entry must read the same through midclt.
      const mine = (await root.call(name, [['current', '=', true]], { get: true })) as Record<string, unknown>;
      assert.equal(normalize({ ...printed.find((e) => e.id === mine.id), current: true }), normalize(mine), name);
      assert.ok(printed.some((e) => e.current === true && e.id !== mine.id), 'midclt sees its own session as current');
    } else assert.equal(normalize(printed), normalize(await root.call(name)), name);
    const n = (await midclt(['-u', unix, 'call', name, '[]', '{"count": true}'])).stdout;
    assert.is(n, `${printed.length}\n`, name);
    const instance = `${name.slice(0, -'.query'.length)}.get_instance`;
    if (!name.endsWith('.query') || !(instance in served)) continue;
    const first = printed.find((e) => e.id !== undefined);
    if (first) {
      const one = JSON.parse((await midclt(['-u', unix, 'call', instance, JSON.stringify(first.id)])).stdout) as unknown;
      assert.equal(normalize(one), normalize(first), instance);
    } else {
      const none = await midclt(['-u', unix, 'call', instance, '987654321'], 1);
      assert.ok(none.stderr.trim() !== '', `${instance} of a missing id says why`);
    }
  }
});

test.run();
