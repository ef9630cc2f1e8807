// GET /api/jobs/<id>/logs (issue 19 item 9) against a real daemon over real HTTP: the log with an
// API key or a token, refusals that tell nothing about other users' jobs, Server-Sent Events
// followed across a reconnect with Last-Event-ID (nothing missed, nothing repeated, ids are byte
// offsets), curl -N, and a client that stops reading costing the daemon nothing but its socket.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { arg, method, Type, type App, type ModuleDef } from '#midship/module-api';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { streamLogEvents } from '../daemon/jobs/log-events.js';
import { jobEnd } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { until } from './helpers/until.js';

const PW = 'logs-password-1';

/** A job that writes `mb` MiB of numbered 100-byte lines to its log, then waits to be aborted. */
function floodModule(_app: App): ModuleDef {
  return {
    services: [{ name: 'flood', type: 'service', rolePrefix: 'TEST' }],
    methods: [
      method('flood.log', {
        description: 'Write mb MiB of log lines, then wait until aborted.',
        args: [arg('mb', Type.Integer({ minimum: 1, maximum: 100 }))],
        result: Type.Null(),
        job: { logs: true, abortable: true },
        handler: async (_ctx, job, mb) => {
          const lines = (mb * 1024 * 1024) / 100;
          for (let i = 0; i < lines; i += 1000) {
            let text = '';
            for (let k = i; k < i + 1000; k++) text += `line ${String(k).padStart(9, '0')} ${'x'.repeat(84)}\n`;
            job.log(text);
            await new Promise((r) => setTimeout(r, 2)); // paced: the writer never drops text
          }
          job.log('written\n');
          await new Promise((r) => job.signal.addEventListener('abort', r));
          return null;
        },
      }),
    ],
  };
}

let d: TestDaemon;
let root: Client;
let adminKey: string;

test.before(async () => {
  d = await startDaemon({ modules: [...modules, floodModule], adminPassword: PW, auth: { ...DEFAULT_AUTH, failDelayMs: 50 }, limits: { anonCallsPerMinute: 10_000 } });
  root = await Client.connect(d.socketPath);
  adminKey = ((await root.call('api_key.create', { name: 'logs', username: 'admin' })) as { key: string }).key;
});
test.after(async () => {
  await root.close();
  await d.cleanup();
});

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: d.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Follows a job's log; `until(event)` true ends the connection early (a client going away). */
function follow(id: number, key: string, lastId: string | null, stopAfter: (events: SseEvent[]) => boolean = () => false): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (lastId !== null) headers['last-event-id'] = lastId;
    const req = request({ host: '127.0.0.1', port: d.port, path: `/api/jobs/${id}/logs?follow=1`, headers }, (res) => {
      assert.is(res.statusCode, 200);
      assert.ok(String(res.headers['content-type']).startsWith('text/event-stream'));
      const events: SseEvent[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const e: SseEvent = { id: null, event: 'message', data: '' };
          const data: string[] = [];
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') e.id = value;
            else if (field === 'event') e.event = value;
            else if (field === 'data') data.push(value);
            else continue;
            any = true;
          }
          if (!any || data.length === 0) continue;
          e.data = data.join('\n');
          events.push(e);
          if (stopAfter(events)) {
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
      res.on('end', () => resolve(events));
      res.on('error', () => resolve(events));
    });
    req.on('error', reject);
    req.end();
  });
}

async function login(username: string): Promise<{ c: Client; key: string }> {
  const user = (await root.call('user.create', { username, password: PW, roles: ['TEST_WRITE'], full_name: username })) as { id: number };
  const key = ((await root.call('api_key.create', { name: username, username })) as { key: string }).key;
  const c = await Client.connect(d.url);
  assert.is(((await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password: PW })) as { response_type: string }).response_type, 'SUCCESS');
  assert.type(user.id, 'number');
  return { c, key };
}

test('the log with an API key or a token; refusals tell nothing about other jobs', async () => {
  const alice = await login('alice');
  try {
    const rootJob = await jobEnd(root, (await root.call('test.job', { steps: 3, delay: 1 })) as number);
    const hers = await jobEnd(root, (await alice.c.call('test.job', { steps: 2, delay: 1 })) as number);
    const plain = await get(`/api/jobs/${rootJob.id}/logs`, { authorization: `Bearer ${adminKey}` });
    assert.is(plain.status, 200);
    assert.ok(String(plain.headers['content-type']).startsWith('text/plain'));
    assert.is(plain.body, await readFile(rootJob.logs_path!, 'utf8'));
    assert.is(plain.body, 'step 1 of 3\nstep 2 of 3\nstep 3 of 3\n');

    assert.is((await get(`/api/jobs/${hers.id}/logs`, { authorization: `Bearer ${alice.key}` })).body, 'step 1 of 2\nstep 2 of 2\n');
    const token = (await alice.c.call('auth.generate_token', 600, {}, false, false)) as string;
    assert.is((await get(`/api/jobs/${hers.id}/logs`, { authorization: `Bearer ${token}` })).status, 200, 'a token works too');
    assert.is((await get(`/api/jobs/${hers.id}/logs`, { authorization: `bearer  ${token}` })).status, 200, 'the scheme is case-insensitive');

    const foreign = await get(`/api/jobs/${rootJob.id}/logs`, { authorization: `Bearer ${alice.key}` });
    const missing = await get('/api/jobs/999999/logs', { authorization: `Bearer ${alice.key}` });
    assert.is(foreign.status, 404);
    assert.equal([foreign.status, foreign.body], [missing.status, missing.body], "another user's job reads as one that does not exist");
    const followForeign = await get(`/api/jobs/${rootJob.id}/logs?follow=1`, { authorization: `Bearer ${alice.key}` });
    assert.equal([followForeign.status, followForeign.body], [missing.status, missing.body]);

    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nonsense' }, { authorization: `Bearer ${alice.key}x` }, { authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` }]) {
      const r = await get(`/api/jobs/${hers.id}/logs`, headers);
      assert.is(r.status, 401, JSON.stringify(headers));
      assert.is(r.headers['www-authenticate'], 'Bearer');
    }
    assert.is((await get(`/api/jobs/${hers.id}/logs?follow=1`, { authorization: `Bearer ${adminKey}`, 'last-event-id': 'abc' })).status, 400);
    const viaSocket = await new Promise<Reply>((resolve, reject) => {
      const req = request({ socketPath: d.socketPath, path: `/api/jobs/${hers.id}/logs` }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal([viaSocket.status, viaSocket.body], [200, 'step 1 of 2\nstep 2 of 2\n'], 'the unix socket is the local administrator');
    const noop = await jobEnd(root, (await root.call('test.noop')) as number);
    assert.is((await get(`/api/jobs/${noop.id}/logs`, { authorization: `Bearer ${adminKey}` })).status, 404);
    assert.is((await get('/api/jobs/x/logs', { authorization: `Bearer ${adminKey}` })).status, 404);
  } finally {
    await alice.c.close();
  }
});

test('follow: a reconnect in the middle with Last-Event-ID misses no line and repeats none; ids are byte offsets', async () => {
  const id = (await root.call('test.job', { steps: 60, delay: 40 })) as number;
  const first = await follow(id, adminKey, null, (events) => events.length >= 15);
  assert.is(first.length, 15);
  assert.ok(first.every((e) => e.event === 'message'));
  const rest = await follow(id, adminKey, first[first.length - 1]!.id);
  const end = rest.pop()!;
  assert.equal([end.event, end.data], ['end', 'SUCCESS']);
  const job = await jobEnd(root, id);
  const file = await readFile(job.logs_path!);
  const lines = [...first, ...rest].map((e) => e.data);
  assert.equal(lines, file.toString('utf8').split('\n').slice(0, -1), 'every line once, in order');
  for (const e of [...first, ...rest]) assert.ok(file.subarray(0, Number(e.id)).toString('utf8').endsWith(`${e.data}\n`), `id ${e.id} is the offset after "${e.data}"`);

  // From the middle of a finished log: the rest, then the end; from its end: only the end.
  const tail = await follow(id, adminKey, rest[29]!.id);
  assert.equal(tail.map((e) => e.data), [...rest.slice(30).map((e) => e.data), 'SUCCESS']);
  assert.equal(await follow(id, adminKey, String(file.length)), [{ id: null, event: 'end', data: 'SUCCESS' }]);
});

test('curl -N follows a running job to its end', async () => {
  const id = (await root.call('test.job', { steps: 20, delay: 50 })) as number;
  const { stdout } = await promisify(execFile)('curl', ['-sSN', '-H', `Authorization: Bearer ${adminKey}`, `http://127.0.0.1:${d.port}/api/jobs/${id}/logs?follow=1`], { timeout: 60_000 });
  const data = stdout.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  assert.equal(data, [...Array.from({ length: 20 }, (_, i) => `step ${i + 1} of 20`), 'SUCCESS']);
  assert.ok(stdout.includes('event: end'));
});

test('a client that stops reading holds the follower, not the daemon\'s memory; resumed, it gets every byte', async () => {
  const id = (await root.call('flood.log', 20)) as number;
  const logsPath = ((await root.call('core.get_jobs', [['id', '=', id]], { get: true })) as { logs_path: string }).logs_path;
  // A reader that takes one write and never finishes it: everything after waits in the follower.
  let taken = 0;
  const stuck = new Writable({ highWaterMark: 16 * 1024, write: (chunk: Buffer) => void (taken += chunk.length) });
  const stop = new AbortController();
  const following = streamLogEvents(stuck, d.daemon.jobs, id, logsPath, 0, stop.signal);
  await until(async () => (await readFile(logsPath, 'utf8').catch(() => '')).includes('written\n'), 'the 20 MB log', 60_000);
  assert.ok(taken + stuck.writableLength < 256 * 1024, `the stuck reader holds ${taken + stuck.writableLength} bytes of a 20 MB log`);
  stop.abort();
  await following;

  // Over the wire: a paused response, resumed after the job ended, still gets all of it.
  const lines = new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: d.port, path: `/api/jobs/${id}/logs?follow=1`, headers: { authorization: `Bearer ${adminKey}` } }, (res) => {
      res.pause();
      void root.call('core.job_abort', id).then(() => jobEnd(root, id)).then(() => res.resume());
      let n = 0;
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        const text = tail + c;
        const parts = text.split('\n');
        tail = parts.pop()!;
        n += parts.filter((p) => p.startsWith('data: line ')).length;
      });
      res.on('end', () => resolve(n));
    });
    req.on('error', reject);
    req.end();
  });
  const written = (await readFile(logsPath, 'utf8')).split('\n').filter((l) => l.startsWith('line ')).length;
  assert.ok(written >= (20 * 1024 * 1024) / 100, `${written} lines written`);
  assert.is(await lines, written, 'every line of the log arrived');
});

test.run();
