// GET /metrics: Prometheus text that parses line by line, with counters that move as calls, jobs
// and connections happen; process metrics; and who may read it: the unix socket and 127.0.0.1
// always, another address only when configured and with an API key of a user allowed to.
import { request } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { until } from './helpers/until.js';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** The exposition format, strictly: HELP/TYPE comments, then `name{label="v",...} value`. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    // Values as Go's ParseFloat reads them (prom-client writes NaN as "Nan").
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|nan|[+-]inf))$/i.exec(line);
    if (!m) throw new Error(`not a metric line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const v = m[3]!.toLowerCase();
    out.push({ name: m[1]!, labels, value: v === 'nan' ? NaN : v.endsWith('inf') ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v) });
  }
  return out;
}

function get(d: TestDaemon, o: { socket?: boolean; localAddress?: string; key?: string } = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      ...(o.socket ? { socketPath: d.socketPath } : { host: '127.0.0.1', port: d.port, localAddress: o.localAddress }),
      path: '/metrics',
      headers: o.key ? { authorization: `Bearer ${o.key}` } : {},
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const value = (s: Sample[], name: string, labels: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

test('the text parses; call, job, connection and subscription figures move; process metrics are there', async () => {
  const d = await startDaemon({ modules });
  const c = await Client.connect(d.socketPath);
  try {
    const before = parse((await get(d)).body);
    const r = await get(d, { socket: true });
    assert.is(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'midship_connections', 'midship_subscriptions']) {
      assert.ok(before.some((s) => s.name === name), `${name} is exported`);
    }
    assert.not.ok(before.some((s) => s.name.startsWith('midship_pool_')), 'no storage module: no pool figures, and no failure');
    assert.ok(before.some((s) => s.name === 'midship_pools' && s.value === 0), 'midship_pools 0');
    await c.call('core.set_options', { legacy_jobs: false });
    await c.call('test.noop');
    await c.call('test.noop');
    await c.request('test.job', [{ steps: 1, delay: 1, fail: 'call' }]);
    await c.request('test.call_error');
    await c.call('core.subscribe', 'core.get_jobs');
    const tcp = await Client.connect(d.url);
    const after = parse((await get(d)).body);
    assert.is(value(after, 'midship_jobs_finished_total', { method: 'test.noop', state: 'SUCCESS' }) - value(before, 'midship_jobs_finished_total', { method: 'test.noop', state: 'SUCCESS' }), 2);
    assert.is(value(after, 'midship_jobs_finished_total', { method: 'test.job', state: 'FAILED' }), 1);
    assert.is(value(after, 'midship_job_duration_seconds_count', { method: 'test.noop' }), 2);
    assert.is(value(after, 'midship_calls_total', { method: 'test.noop', outcome: 'success' }), 2);
    assert.is(value(after, 'midship_calls_total', { method: 'test.call_error', outcome: 'error' }), 1);
    assert.is(value(after, 'midship_call_duration_seconds_count', { method: 'test.noop' }), 2);
    assert.ok(value(after, 'midship_call_duration_seconds_bucket', { method: 'test.noop', le: '+Inf' }) === 2);
    assert.is(value(after, 'midship_connections', { transport: 'tcp' }), 1);
    assert.is(value(after, 'midship_connections', { transport: 'unix' }), 1);
    assert.is(value(after, 'midship_subscriptions'), 1);
    assert.ok(value(after, 'midship_connections_opened_total') >= 2);
    await tcp.close();
    await until(async () => value(parse((await get(d)).body), 'midship_connections', { transport: 'tcp' }) === 0, 'the closed connection to leave the gauge');

    // A job waiting shows in the jobs gauge until it ends.
    c.send({ jsonrpc: '2.0', id: 'slow', method: 'test.until_aborted', params: [] });
    await until(async () => value(parse((await get(d)).body), 'midship_jobs', { method: 'test.until_aborted', state: 'RUNNING' }) === 1, 'the running job in midship_jobs');
    const [job] = (await c.call('core.get_jobs', [['method', '=', 'test.until_aborted'], ['state', '=', 'RUNNING']])) as Array<{ id: number }>;
    await c.call('core.job_abort', job!.id);
    await c.waitFor((m) => m.id === 'slow');
    await until(async () => value(parse((await get(d)).body), 'midship_jobs_finished_total', { method: 'test.until_aborted', state: 'ABORTED' }) === 1, 'the aborted job counted');
    assert.is(value(parse((await get(d)).body), 'midship_jobs', { method: 'test.until_aborted' }), 0);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('who may read it: unix socket and 127.0.0.1; other addresses only when configured, with an allowed API key', async () => {
  const closed = await startDaemon({ modules });
  try {
    assert.is((await get(closed, { localAddress: '127.0.0.2' })).status, 403, 'not configured: refused');
    assert.is((await get(closed, { localAddress: '127.0.0.2', key: 'whatever' })).status, 403);
  } finally {
    await closed.cleanup();
  }
  const d = await startDaemon({ modules, metricsRemote: true, auth: { ...DEFAULT_AUTH, failDelayMs: 10, scramIterations: 4096 } });
  const root = await Client.connect(d.socketPath);
  try {
    const admin = ((await root.call('api_key.create', { name: 'scraper', username: 'admin' })) as { key: string }).key;
    await root.call('user.create', { username: 'watcher', password: 'watcher-pw-1', roles: ['METRICS_READ'] });
    await root.call('user.create', { username: 'someone', password: 'someone-pw-1', roles: [] });
    const watcher = (await root.call('api_key.create', { name: 'w', username: 'watcher' })) as { key: string; id: number };
    const someone = ((await root.call('api_key.create', { name: 's', username: 'someone' })) as { key: string }).key;
    assert.is((await get(d)).status, 200, 'loopback needs no key');
    const anon = await get(d, { localAddress: '127.0.0.2' });
    assert.is(anon.status, 401);
    assert.match(anon.body, /Bearer/);
    assert.is((await get(d, { localAddress: '127.0.0.2', key: `${watcher.id}-wrongsecret` })).status, 401);
    assert.is((await get(d, { localAddress: '127.0.0.2', key: someone })).status, 403, 'a user without the role');
    const ok = await get(d, { localAddress: '127.0.0.2', key: admin });
    assert.is(ok.status, 200);
    assert.ok(parse(ok.body).length > 0);
    assert.is((await get(d, { localAddress: '127.0.0.2', key: watcher.key })).status, 200, 'METRICS_READ');
    assert.is((await get(d, { localAddress: '127.0.0.2', key: watcher.key })).status, 200, 'again, from the verified-key cache');
    // Revoked: refused at once, cache or not.
    await root.call('api_key.delete', watcher.id);
    assert.is((await get(d, { localAddress: '127.0.0.2', key: watcher.key })).status, 401);
  } finally {
    await root.close();
    await d.cleanup();
  }
});

test.run();
