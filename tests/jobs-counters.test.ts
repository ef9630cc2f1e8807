// Job counters (issue 19 item 6): reported by handlers through the job handle and by cron
// commands as JSON progress lines, kept in progress.extra.counters, filterable with core.get_jobs
// (from memory and from the store, across a restart), bad counters refused with the field named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { arg, method, Type, type App, type ModuleDef } from '#midship/module-api';
import { parseProgressLine } from '../methods/cronjob/progress.js';
import { coreModule } from '../methods/core.js';
import { cronjobModule } from '../methods/cronjob.js';
import { jobsModule } from '../methods/jobs.js';
import { jobEnd, readLog, run, type JobRecord } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';

/** A job that tallies records: "ok" counts as success, "bad" as error, anything else ignored. */
function tallyModule(_app: App): ModuleDef {
  return {
    services: [{ name: 'tally', type: 'service' }],
    methods: [
      method('tally.run', {
        description: 'Tally records one by one (addCounters), or set them at once (setCounters) with a progress extra.',
        args: [arg('records', Type.Array(Type.String())), arg('mode', Type.Union([Type.Literal('add'), Type.Literal('set'), Type.Literal('bad')]), { default: 'add' })],
        result: Type.Null(),
        job: {},
        handler: (_ctx, job, records, mode) => {
          if (mode === 'bad') job.setCounters({ error: -1 });
          if (mode === 'set') {
            job.setProgress(10, 'starting', { note: 'kept' });
            job.setCounters({ success: records.filter((r) => r === 'ok').length, error: records.filter((r) => r === 'bad').length });
            job.setProgress(50, 'half', { note: 'still kept' });
            return null;
          }
          for (const r of records) job.addCounters(r === 'ok' ? { success: 1 } : r === 'bad' ? { error: 1 } : { ignore: 1 });
          return null;
        },
      }),
    ],
  };
}

const MODULES = [coreModule, jobsModule, cronjobModule, tallyModule];
type Job = JobRecord & { progress: { percent: number; description: string; extra: { counters?: Record<string, number>; note?: string } | null } };

test('cron progress lines: counters alone or with progress; anything malformed is output', () => {
  assert.equal(parseProgressLine('{"counters": {"success": 3, "error": 1}}'), { percent: null, description: null, extra: null, counters: { success: 3, error: 1 } });
  assert.equal(parseProgressLine('{"percent": 40, "counters": {"ignore": 0}}'), { percent: 40, description: null, extra: null, counters: { ignore: 0 } });
  for (const line of ['{"counters": {"success": -1}}', '{"counters": {"success": 1.5}}', '{"counters": {"skipped": 1}}', '{"counters": [1]}', '{"counters": {"error": "2"}}', '{"counters": {}, "percent": 10, "progress": 0.1}']) {
    assert.is(parseProgressLine(line), null, line);
  }
});

let d: TestDaemon;
let c: Client;

test.before(async () => {
  d = await startDaemon({ modules: MODULES });
  c = await Client.connect(d.socketPath);
});
test.after(async () => {
  await c.close();
  await d.cleanup();
});

const ids = async (filters: unknown[]): Promise<number[]> => ((await c.call('core.get_jobs', filters, { order_by: ['id'], select: ['id'] })) as Array<{ id: number }>).map((j) => j.id);

test('handlers add and set counters; a progress extra keeps its own keys beside them; bad counters fail the job naming the field', async () => {
  const added = (await c.call('tally.run', ['ok', 'ok', 'bad', 'x', 'ok'])) as number;
  const set = (await c.call('tally.run', ['ok', 'bad', 'bad'], 'set')) as number;
  const none = (await c.call('tally.run', ['ok'], 'bad')) as number;
  const a = await jobEnd(c, added) as Job;
  assert.equal(a.progress.extra, { counters: { success: 3, error: 1, ignore: 1 } });
  const s = await jobEnd(c, set) as Job;
  assert.equal(s.progress.extra, { note: 'still kept', counters: { success: 1, error: 2 } });
  const b = await jobEnd(c, none);
  assert.is(b.state, 'FAILED');
  assert.equal((b.exc_info!.extra as unknown[][])[0]!.slice(0, 1), ['counters.error']);
  assert.ok(b.error!.includes('counters.error'), b.error!);
});

test('cron runs report counters on stdout; the lines are not logged; the filter finds the runs with errors', async () => {
  const script = [
    'echo start',
    `echo '{"counters": {"success": 2}}'`,
    `echo '{"percent": 50, "description": "half", "counters": {"success": 5, "error": 2}}'`,
    `echo '{"counters": {"ignore": 1}}'`,
    'echo done',
  ].join('; ');
  const cron = (await c.call('cronjob.create', { user: 'root', command: script, stdout: false, schedule: { minute: '0', hour: '0', dom: '1', month: '1' } })) as { id: number };
  const clean = (await c.call('cronjob.create', { user: 'root', command: `echo '{"counters": {"success": 7, "error": 0}}'`, schedule: { minute: '0', hour: '0', dom: '1', month: '1' } })) as { id: number };
  const r = await jobEnd(c, await run(c, cron.id)) as Job;
  assert.is(r.state, 'SUCCESS');
  assert.equal(r.progress.extra, { counters: { success: 5, error: 2, ignore: 1 } });
  assert.is(r.progress.description, 'half');
  const log = await readLog(r);
  assert.ok(log.includes('[stdout] start') && log.includes('[stdout] done'));
  assert.not.ok(log.includes('[stdout] {'), 'counter lines are not output');
  const ok = await jobEnd(c, await run(c, clean.id)) as Job;
  assert.equal(ok.progress.extra, { counters: { success: 7, error: 0 } });

  const withErrors = await ids([['progress.extra.counters.error', '>', 0]]);
  assert.ok(withErrors.includes(r.id) && !withErrors.includes(ok.id), JSON.stringify(withErrors));
  assert.ok(withErrors.every((id) => id !== ok.id));
  // With an indexed condition beside it (the method index picks the candidates).
  assert.equal(await ids([['method', '=', 'cronjob.run'], ['progress.extra.counters.error', '>', 0]]), [r.id]);
  assert.is(await c.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['progress.extra.counters.success', '>=', 5]], { count: true }), 2);
  assert.equal(await ids([['method', '=', 'cronjob.run'], ['progress.extra.counters.ignore', '=', 1]]), [r.id]);
});

test('counters are kept in the store: the filters answer the same after a restart', async () => {
  const before = await ids([['progress.extra.counters.error', '>', 0]]);
  assert.ok(before.length >= 2, 'a handler job and a cron run have errors');
  await c.close();
  await d.stop();
  d = await startDaemon({ modules: MODULES, dataDir: d.dataDir });
  c = await Client.connect(d.socketPath);
  assert.equal(await ids([['progress.extra.counters.error', '>', 0]]), before);
  assert.is(await c.call('core.get_jobs', [['progress.extra.counters.error', '>', 0]], { count: true }), before.length);
});

test.run();
