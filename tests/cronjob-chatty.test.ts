// A cron job that prints a flood (issue 13): its output is taken a read at a time, the daemon
// keeps answering meanwhile, the log stops at its cap (head, marker, tail) and the excerpt stays
// small. The speed of it is in `npm run bench` (core.ping p99 during a 2-million-line job).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { jobEnd, readLog, run } from './helpers/cronjob.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { cronjobModule } from '../methods/cronjob.js';

const CAP = 300_000;
let d: TestDaemon;
let c: Client;

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, cronjobModule], jobs: { logMaxBytes: CAP } });
  c = await Client.connect(d.socketPath);
});
test.after(async () => {
  await c.close();
  await d.cleanup();
});

test('a job printing 200,000 lines: pings answered meanwhile, every line timestamped, the log capped, the excerpt small', async () => {
  const cron = (await c.call('cronjob.create', { user: 'root', command: 'seq 1 200000; echo "{\\"percent\\": 50}"; echo done', stdout: false, enabled: false })) as { id: number };
  const other = await Client.connect(d.socketPath);
  const id = await run(c, cron.id);
  let pings = 0;
  let finished = false;
  const end = jobEnd(c, id, 60_000).then((j) => ((finished = true), j));
  while (!finished) {
    assert.is(await other.call('core.ping'), 'pong');
    pings++;
  }
  const j = await end;
  assert.is(j.state, 'SUCCESS');
  assert.ok(pings > 1, `${pings} pings answered while it ran`);
  const log = await readLog(j);
  assert.ok(Buffer.byteLength(log) < CAP + 200, `${Buffer.byteLength(log)} bytes on disk`);
  const marker = /\n\[\.\.\. (\d+) bytes of log output skipped: the log is capped at 300000 bytes \.\.\.\]\n/.exec(log);
  assert.ok(marker, 'the marker line');
  const lines = log.split('\n').filter((l) => l.length > 0 && !l.startsWith('[...'));
  const out = lines.filter((l) => l.includes(' [stdout] '));
  assert.ok(out.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[stdout\] \S/.test(l)), 'each kept line has its timestamp and tag');
  assert.match(out[0]!, / \[stdout\] 1$/);
  assert.match(out[out.length - 1]!, / \[stdout\] done$/, 'the tail ends with the last line');
  assert.not.ok(log.includes('"percent"'), 'the progress line was taken as progress');
  assert.ok(j.logs_excerpt!.length < 3000, `excerpt of ${j.logs_excerpt!.length} characters`);
  assert.match(j.logs_excerpt!, /\[stdout\] done\n/);
  await other.close();
});

test.run();
