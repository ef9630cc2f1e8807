// Download tokens expire (issue 4 point 9; the lifetime is configurable, 5 minutes by default).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { Client, startDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { testModule } from './helpers/test-module.js';
import { DEFAULT_JOBS } from '../daemon/config.js';
import { until } from './helpers/until.js';

test('an expired download token is refused with 401; the default lifetime is 5 minutes', async () => {
  assert.is(DEFAULT_JOBS.downloadTokenTtlMs, 300_000);
  const d = await startDaemon({ modules: [coreModule, jobsModule, testModule], jobs: { downloadTokenTtlMs: 200 } });
  const c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  await c.call('test.job', { steps: 1, delay: 0 });
  const id = ((await c.call('core.get_jobs', [], { order_by: ['-id'], get: true })) as { id: number }).id;
  const url = (await c.call('core.job_download_logs', id, 'log.txt')) as string;
  // Issued before this moment, so past it plus the lifetime the token has expired.
  const issuedBy = Date.now();
  await until(() => Date.now() > issuedBy + 200, 'the token to expire', 5_000, 10);
  const status = await new Promise<number>((resolve, reject) => {
    request({ socketPath: d.socketPath, path: url }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
  assert.is(status, 401);
  await c.close();
  await d.cleanup();
});

test.run();
