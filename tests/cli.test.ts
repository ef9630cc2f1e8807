// midclt (issue 6): the built bin run as a child process against a real daemon over its unix
// socket: call/ping/subscribe as the real midclt prints them, -j with progress, Ctrl-C aborting,
// jobs/job/abort/wait/logs/methods/bulk, --json and --help.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';
import { lines, midclt, spawnMidclt, type RunOptions } from './helpers/midclt.js';
import { testModule } from './helpers/test-module.js';
import { until } from './helpers/until.js';

let d: TestDaemon;
let raw: Client;
let uri: string;

type Job = { id: number; state: string; method: string; result: unknown; error: string | null; progress: { percent: number; description: string } };

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, testModule] });
  uri = `ws+unix://${d.socketPath}`;
  raw = await Client.connect(d.socketPath);
  await raw.call('core.subscribe', 'core.get_jobs');
});
test.after(async () => {
  await raw.close();
  await d.cleanup();
});

const run = (args: string[], o: RunOptions = {}) => midclt(args, { uri, ...o });

async function getJob(id: number): Promise<Job | undefined> {
  return ((await raw.call('core.get_jobs', [['id', '=', id]])) as Job[])[0];
}

/** The job once it has ended (events are recorded from the start, so none is missed). */
async function finished(id: number): Promise<Job> {
  const now = await getJob(id);
  if (now && ['SUCCESS', 'FAILED', 'ABORTED'].includes(now.state)) return now;
  const m = await raw.waitFor((msg: Message) => {
    const p = msg.params as { collection?: string; id?: number; fields?: Job } | undefined;
    return p?.collection === 'core.get_jobs' && p.id === id && ['SUCCESS', 'FAILED', 'ABORTED'].includes(p.fields!.state);
  }, 20_000);
  return (m.params as { fields: Job }).fields;
}

/** Start a job the way a script would (legacy-style call: the result is the job id). */
async function startJob(method: string, ...args: unknown[]): Promise<number> {
  return (await raw.call(method, ...args)) as number;
}

/** The description lines of a non-TTY progress display: each `Step k`, k strictly increasing. */
function assertStepLines(stderr: string, maxStep: number): void {
  const steps = lines(stderr).filter((l) => l.startsWith('Step ')).map((l) => Number(l.slice(5)));
  assert.ok(steps.length >= 1, `some progress lines in ${JSON.stringify(stderr)}`);
  for (let i = 0; i < steps.length; i++) {
    assert.ok(steps[i]! >= 1 && steps[i]! <= maxStep, `step ${steps[i]}`);
    if (i > 0) assert.ok(steps[i]! > steps[i - 1]!, `each description once, in order: ${steps.join(',')}`);
  }
}

// ---- call, ping: output and exit codes as midclt ----

test('ping prints pong and exits 0', async () => {
  const r = await run(['ping']);
  assert.is(r.stdout, 'pong\n');
  assert.is(r.stderr, '');
  assert.is(r.code, 0);
});

test('call prints strings and integers bare, everything else as one JSON line; arguments are JSON or strings', async () => {
  let r = await run(['call', 'core.ping']);
  assert.is(r.stdout, 'pong\n');
  assert.is(r.code, 0);
  r = await run(['call', 'test.sleep', '3']);
  assert.is(r.stdout, '3\n');
  r = await run(['call', 'test.echo', '{"name": "a", "count": 1}']);
  assert.is(r.stdout, '{"name": "a", "count": 1}\n');
  assert.is(r.code, 0);
  // `hello` is not JSON: it goes as the string "hello"; `0` goes as a number.
  r = await run(['call', '-j', 'test.locked', 'hello', '0']);
  assert.is(r.stdout, 'hello\n', r.stderr);
  r = await run(['call', 'core.get_jobs', '[["method", "=", "test.locked"]]', '{"select": ["method", "result"], "limit": 1}']);
  assert.is(r.stdout, '[{"method": "test.locked", "result": "hello"}]\n');
});

test('call - reads one JSON value from stdin', async () => {
  const r = await run(['call', 'test.echo', '-'], { input: '{"name": "from stdin", "count": 2}\n' });
  assert.is(r.stdout, '{"name": "from stdin", "count": 2}\n');
  assert.is(r.code, 0);
});

test('a validation error prints one [ERRNAME] attribute: message line per error on stderr and exits 1', async () => {
  const r = await run(['call', 'test.echo', '{"name": 1}']);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.equal(lines(r.stderr).sort(), ['[EINVAL] value.count: Field required', '[EINVAL] value.name: Input should be a valid string']);
});

test('a call error prints its reason and exits 1; -q prints nothing; an unknown method says so', async () => {
  let r = await run(['call', 'test.call_error']);
  assert.is(r.code, 1);
  assert.is(lines(r.stderr)[0], '[ENOENT] Pool tank not found');
  r = await run(['call', '-q', 'test.call_error']);
  assert.is(r.code, 1);
  assert.is(r.stderr, '');
  r = await run(['call', 'no.such_method']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Method does not exist/);
  r = await run(['call', 'core.job_abort', '999999']);
  assert.is(r.code, 1);
  assert.is(lines(r.stderr)[0], '[ENOENT] ALL: Job with id 999999 does not exist');
});

test('--json: results as JSON (strings quoted), errors as a JSON object on stderr', async () => {
  let r = await run(['--json', 'call', 'core.ping']);
  assert.is(r.stdout, '"pong"\n');
  r = await run(['call', '--json', 'test.echo', '{"name": "a", "count": 1}']);
  assert.equal(JSON.parse(r.stdout), { name: 'a', count: 1 });
  r = await run(['--json', 'call', 'test.echo', '{"name": "a"}']);
  assert.is(r.code, 1);
  const e = JSON.parse(r.stderr) as { error: { errno: number; errors: Array<{ attribute: string; message: string }> } };
  assert.is(e.error.errno, 22);
  assert.equal(e.error.errors.map((x) => x.attribute), ['value.count']);
});

test('-u overrides MIDCLT_URI; -t (or CALL_TIMEOUT) bounds a call', async () => {
  let r = await midclt(['-u', uri, 'ping'], { uri: `ws+unix://${d.dataDir}/nothing.sock` });
  assert.is(r.stdout, 'pong\n', r.stderr);
  r = await run(['-t', '0.2', 'call', 'test.sleep', '5000']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Call timeout: test\.sleep did not answer within 0\.2 s/);
  r = await run(['call', 'test.sleep', '5000'], { env: { CALL_TIMEOUT: '0.2' } });
  assert.is(r.code, 1);
  assert.match(r.stderr, /Call timeout/);
});

// ---- jobs through call ----

test('call of a job method without -j prints the job id at once; the job keeps running', async () => {
  const r = await run(['call', 'test.job', '{"steps": 3, "delay": 50}']);
  assert.is(r.code, 0);
  const id = Number(r.stdout.trim());
  assert.ok(Number.isInteger(id) && id > 0, r.stdout);
  const job = await finished(id);
  assert.is(job.method, 'test.job');
  assert.is(job.state, 'SUCCESS');
});

test('call -j waits for the job: result on stdout, job id and description lines on stderr when not a TTY', async () => {
  for (const flags of [['-j'], ['-jp', 'description'], ['-j', '--job-print', 'progressbar']]) {
    const r = await run(['call', ...flags, 'test.job', '{"steps": 4, "delay": 60}']);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, '{"steps": 4}\n');
    const m = /^Job (\d+) started/m.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.is((await getJob(Number(m![1])))!.state, 'SUCCESS');
    assertStepLines(r.stderr, 4);
  }
});

test('call -j of a failing job prints its error and exits 1; a validation failure prints its lines', async () => {
  let r = await run(['call', '-j', 'test.job', '{"steps": 1, "delay": 1, "fail": "call"}']);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^\[ENOENT\] Target nightly does not exist$/m);
  r = await run(['call', '-j', 'test.job', '{"steps": 1, "delay": 1, "fail": "validation"}']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^\[EINVAL\] o\.steps: too few steps$/m);
});

test('Ctrl-C (SIGINT) during call -j aborts the job through the daemon and exits 130 once it is ABORTED', async () => {
  const p = spawnMidclt(['call', '-j', 'test.job', '{"steps": 100000, "delay": 20}'], { uri });
  await p.until(({ stderr }) => /^Step \d+$/m.test(stderr), 'the job reported progress');
  const id = Number(/^Job (\d+) started/m.exec(p.stderr())![1]);
  p.child.kill('SIGINT');
  const r = await p.done;
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, new RegExp(`Aborting job ${id}`));
  assert.is(r.stdout, '');
  assert.is((await finished(id)).state, 'ABORTED');
});

// ---- jobs, job, abort, wait, logs ----

test('jobs prints a table filtered by --state/--method/--limit; --json gives the objects', async () => {
  await run(['call', '-j', 'test.job', '{"steps": 1, "delay": 1}']);
  await run(['call', '-j', 'test.job', '{"steps": 1, "delay": 1}']);
  let r = await run(['jobs', '--method', 'test.job', '--state', 'SUCCESS', '--limit', '2']);
  assert.is(r.code, 0, r.stderr);
  const [header, ...rows] = lines(r.stdout);
  assert.match(header!, /^ID\s+METHOD\s+STATE\s+PROGRESS\s+STARTED\s+DURATION/);
  assert.is(rows.length, 2);
  for (const row of rows) assert.match(row, /^\d+\s+test\.job\s+SUCCESS\s+100%\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+/);
  const ids = rows.map((row) => Number(row.split(/\s+/)[0]));
  assert.ok(ids[0]! > ids[1]!, 'newest first');
  r = await run(['jobs', '--json', '--state', 'FAILED,ABORTED', '--limit', '0']);
  const all = JSON.parse(r.stdout) as Job[];
  assert.ok(all.length >= 2, 'the failed and aborted jobs of earlier tests');
  assert.ok(all.every((j) => j.state === 'FAILED' || j.state === 'ABORTED'));
  r = await run(['jobs', '--state', 'BOGUS']);
  assert.is(r.code, 2);
});

test('job ID shows the detail; --json the object; an unknown id exits 1', async () => {
  const r0 = await run(['call', '-j', 'test.job', '{"steps": 2, "delay": 1, "result": {"ok": true}}']);
  const id = Number(/^Job (\d+) started/m.exec(r0.stderr)![1]);
  let r = await run(['job', String(id)]);
  assert.is(r.code, 0);
  const text = lines(r.stdout);
  assert.ok(text.includes(`id:           ${id}`), r.stdout);
  assert.ok(text.includes('state:        SUCCESS'), r.stdout);
  assert.ok(text.includes('result:       {"ok": true}'), r.stdout);
  assert.ok(text.includes('logs excerpt: step 1 of 2'), r.stdout);
  r = await run(['job', '--json', String(id)]);
  assert.equal((JSON.parse(r.stdout) as Job).result, { ok: true });
  r = await run(['job', '999999']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Job 999999 does not exist/);
  r = await run(['job', 'abc']);
  assert.is(r.code, 2);
});

test('abort ID aborts a running job', async () => {
  const id = await startJob('test.job', { steps: 100000, delay: 20 });
  const r = await run(['abort', String(id)]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`Abort requested for job ${id}`));
  assert.is((await finished(id)).state, 'ABORTED');
});

test('wait ID follows a job to its end; the exit code is its final state (0 SUCCESS, 1 FAILED, 2 ABORTED)', async () => {
  const running = await startJob('test.job', { steps: 5, delay: 60 });
  let r = await run(['wait', String(running)]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '{"steps": 5}\n');
  assertStepLines(r.stderr, 5);

  const failed = await startJob('test.job', { steps: 1, delay: 1, fail: 'call' });
  await finished(failed);
  r = await run(['wait', String(failed)]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Target nightly does not exist/);

  const aborted = await startJob('test.job', { steps: 100000, delay: 20 });
  const p = spawnMidclt(['wait', String(aborted)], { uri });
  await p.until(({ stderr }) => /^Step \d+$/m.test(stderr), 'progress of the awaited job');
  await raw.call('core.job_abort', aborted);
  r = await p.done;
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`Job ${aborted} was aborted`));

  r = await run(['wait', '--json', String(running)]);
  assert.is((JSON.parse(r.stdout) as Job).state, 'SUCCESS');
});

test('Ctrl-C during wait stops waiting without aborting the job', async () => {
  const id = await startJob('test.job', { steps: 100000, delay: 20 });
  const p = spawnMidclt(['wait', String(id)], { uri });
  await p.until(({ stderr }) => /^Step \d+$/m.test(stderr), 'progress');
  p.child.kill('SIGINT');
  const r = await p.done;
  assert.is(r.code, 130);
  assert.match(r.stderr, /continues/);
  assert.is((await getJob(id))!.state, 'RUNNING');
  await raw.call('core.job_abort', id);
  await finished(id);
});

test('logs ID prints the log; logs -f follows a running job to its end; a job without logs fails', async () => {
  const done = Number(/^Job (\d+) started/m.exec((await run(['call', '-j', 'test.job', '{"steps": 3, "delay": 1}'])).stderr)![1]);
  let r = await run(['logs', String(done)]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'step 1 of 3\nstep 2 of 3\nstep 3 of 3\n');
  r = await run(['logs', '--json', String(done)]);
  assert.equal(JSON.parse(r.stdout), { id: done, log: 'step 1 of 3\nstep 2 of 3\nstep 3 of 3\n' });

  const id = await startJob('test.job', { steps: 15, delay: 40 });
  r = await run(['logs', '-f', String(id)]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, Array.from({ length: 15 }, (_, i) => `step ${i + 1} of 15\n`).join(''));
  assert.is((await getJob(id))!.state, 'SUCCESS', 'logs -f returned only when the job had ended');

  const noLogs = Number((await run(['call', 'test.noop'])).stdout.trim());
  await finished(noLogs);
  r = await run(['logs', String(noLogs)]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /has no logs/);
});

// ---- methods, bulk, subscribe ----

test('methods lists one line per method; one name shows its argument schema; --json', async () => {
  let r = await run(['methods']);
  assert.is(r.code, 0);
  assert.ok(lines(r.stdout).some((l) => /^test\.job\s+job\s+A job that logs/.test(l)), r.stdout);
  assert.ok(lines(r.stdout).some((l) => /^core\.ping\s+Answers "pong"/.test(l)), r.stdout);
  r = await run(['methods', 'core.']);
  assert.ok(lines(r.stdout).slice(1).every((l) => l.startsWith('core.')));
  r = await run(['methods', 'test.echo']);
  assert.is(r.code, 0);
  const text = lines(r.stdout);
  assert.ok(text.includes('  1. value: object, required'), r.stdout);
  assert.ok(text.some((l) => /^\s+name: string, required$/.test(l)), r.stdout);
  assert.ok(text.some((l) => /^\s+count: integer, >= 0, required$/.test(l)), r.stdout);
  assert.ok(text.some((l) => /^\s+secret: string, secret$/.test(l)), r.stdout);
  r = await run(['methods', '--json', 'test.']);
  assert.ok('test.job' in (JSON.parse(r.stdout) as Record<string, unknown>));
  r = await run(['methods', 'nothing.here.']);
  assert.is(r.code, 1);
});

test('bulk runs one core.bulk job, prints one line per input and exits 1 when a line failed', async () => {
  const input = '[{"name": "a", "count": 1}]\n[{"name": "b", "count": -1}]\n\n[{"name": "c", "count": 3}]\n';
  let r = await run(['bulk', 'test.echo', '-d', 'echo {0[name]}'], { input });
  assert.is(r.code, 1, r.stderr);
  const out = lines(r.stdout);
  assert.is(out.length, 3);
  assert.is(out[0], 'ok\t{"name": "a", "count": 1}');
  assert.match(out[1]!, /^error\t\[EINVAL\] value\.count: /);
  assert.is(out[2], 'ok\t{"name": "c", "count": 3}');
  assert.match(r.stderr, /1 of 3 calls failed/);
  const id = Number(/^Job (\d+) started/m.exec(r.stderr)![1]);
  assert.is((await getJob(id))!.method, 'core.bulk');

  r = await run(['bulk', 'test.sleep'], { input: '[1]\n[2]\n' });
  assert.is(r.code, 0, r.stderr);
  assert.equal(lines(r.stdout), ['ok\t1', 'ok\t2']);
  r = await run(['bulk', '--json', 'test.sleep'], { input: '[1]\n' });
  assert.equal(JSON.parse(r.stdout), [{ job_id: null, result: 1, error: null }]);
  r = await run(['bulk', 'test.sleep'], { input: '[1]\nnot json\n' });
  assert.is(r.code, 2);
  assert.match(r.stderr, /line 2/);
});

test('subscribe prints events as JSON lines: -n stops after N, an event source ends by itself, -t expires', async () => {
  let r = await run(['subscribe', 'test.counter:{"n": 3}']);
  assert.is(r.code, 0, r.stderr);
  const evs = lines(r.stdout).map((l) => JSON.parse(l) as { msg: string; collection: string; fields: { i: number } });
  assert.equal(evs.map((e) => e.fields.i), [1, 2, 3]);
  assert.is(evs[0]!.collection, 'test.counter:{"n": 3}');

  const p = spawnMidclt(['subscribe', '-n', '1', 'core.get_jobs'], { uri });
  // No snapshot is sent on subscribe: make job events until the subscriber has one (bounded).
  let exited = false;
  void p.done.then(() => (exited = true));
  // Bounded by time, not by count: on a slow machine midclt may take a while to subscribe.
  await until(async () => exited || (await startJob('test.noop').then(finished), false), 'midclt to print an event', 20_000);
  r = await p.done;
  assert.is(r.code, 0, r.stderr);
  assert.is(lines(r.stdout).length, 1);
  const ev = JSON.parse(r.stdout) as { msg: string; collection: string; fields: Job };
  assert.is(ev.collection, 'core.get_jobs');
  assert.is(ev.fields.method, 'test.noop');

  r = await run(['subscribe', '-t', '0.3', 'test.tick']);
  assert.is(r.code, 1);
  r = await run(['subscribe', 'test.counter:{"n": -1}']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /\[EINVAL\]/);
});

// ---- connection errors and help ----

test('no daemon: a message saying what to do, exit 1', async () => {
  const r = await run(['ping'], { uri: `ws+unix://${d.dataDir}/nothing.sock` });
  assert.is(r.code, 1);
  assert.match(r.stderr, /Daemon not running\?/);
  assert.match(r.stderr, /npm start/);
  assert.match(r.stderr, /-u/);
});

test('--help and SUBCOMMAND --help show usage with examples; usage errors exit 2', async () => {
  let r = await run(['--help']);
  assert.is(r.code, 0);
  for (const sub of ['call', 'ping', 'subscribe', 'jobs', 'job', 'abort', 'wait', 'logs', 'methods', 'bulk']) assert.match(r.stdout, new RegExp(`^  ${sub}\\b`, 'm'));
  assert.match(r.stdout, /Examples:/);
  for (const sub of ['call', 'subscribe', 'jobs', 'wait', 'logs', 'methods', 'bulk']) {
    r = await run([sub, '--help']);
    assert.is(r.code, 0, sub);
    assert.match(r.stdout, /Example/, sub);
  }
  r = await run(['call', '--help']);
  assert.match(r.stdout, /-j, --job/);
  assert.match(r.stdout, /-q, --quiet/);
  r = await run(['frobnicate']);
  assert.is(r.code, 2);
  r = await run(['call']);
  assert.is(r.code, 2);
});

test.run();
