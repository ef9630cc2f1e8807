// Downloads stream with backpressure and bounded memory (PROTOCOL.md 6.4, 6.6): a large job log
// arrives intact; `buffered` outputs and logs are collected (to a spool file, not memory) so the
// download can start after the job ended; unbuffered outputs feed the download directly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { once } from 'node:events';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { testModule } from './helpers/test-module.js';
import { until } from './helpers/until.js';

let d: TestDaemon;
let c: Client;

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, testModule] });
  c = await Client.connect(d.socketPath);
});
test.after(async () => {
  await c.close();
  await d.cleanup();
});

interface Got { status: number; bytes: number; sha256: string; text: string }

/** GET over the unix socket, hashing the body as it streams (nothing large is kept). */
function download(path: string, keepText = false): Promise<Got> {
  return new Promise((resolve, reject) => {
    request({ socketPath: d.socketPath, path }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      let text = '';
      res.on('data', (b: Buffer) => {
        hash.update(b);
        bytes += b.length;
        if (keepText) text += b.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex'), text }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

type Job = { id: number; state: string; result: unknown; logs_path: string | null };

async function ended(id: number): Promise<Job> {
  return until(async () => {
    const j = ((await c.call('core.get_jobs', [['id', '=', id]])) as Job[])[0];
    return j && ['SUCCESS', 'FAILED', 'ABORTED'].includes(j.state) ? j : null;
  }, `job ${id} to end`);
}

function lines(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `line ${i}\n`;
  return s;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('a large job log downloads intact', async () => {
  const id = (await c.call('test.job', { steps: 1, delay: 1 })) as number;
  const j = await ended(id);
  // Grow the finished job's log to 48 MiB of varied text, hashing what is written.
  const file = createWriteStream(j.logs_path!, { flags: 'a' });
  const hash = createHash('sha256').update('step 1 of 1\n');
  const block = Buffer.from(Array.from({ length: 1024 }, (_, i) => `${i.toString(36).padStart(7, '.')}\n`).join(''));
  for (let i = 0; i < 48 * 1024 * 1024 / block.length; i++) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32BE(i, 0);
    hash.update(chunk);
    if (!file.write(chunk)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'close');
  const size = (await stat(j.logs_path!)).size;
  const url = (await c.call('core.job_download_logs', id, 'big.log')) as string;
  const got = await download(url);
  assert.is(got.status, 200);
  assert.is(got.bytes, size);
  assert.is(got.sha256, hash.digest('hex'));
});

test('buffered core.download: the job ends without a reader, the download comes after, from a spool file', async () => {
  const n = 100_000; // ~1.1 MB: far more than the pipe holds, so an unbuffered job would wait
  const [id, url] = (await c.call('core.download', 'test.export', [n], 'export.txt', true)) as [number, string];
  assert.is((await ended(id)).result, n);
  const spool = join(d.dataDir, 'downloads');
  assert.is((await readdir(spool)).length, 1, 'the output waits on disk, not in memory');
  const got = await download(url);
  assert.is(got.status, 200);
  assert.is(got.sha256, sha(lines(n)));
  assert.equal(await readdir(spool), [], 'the spool file is removed once downloaded');
  assert.is((await download(url)).status, 401, 'single use');
});

test('unbuffered core.download: the job writes into the download as it is read', async () => {
  const n = 100_000;
  const [id, url] = (await c.call('core.download', 'test.export', [n], 'export.txt', false)) as [number, string];
  const got = await download(url);
  assert.is(got.status, 200);
  assert.is(got.sha256, sha(lines(n)));
  assert.is((await ended(id)).result, n);
  assert.equal(await readdir(join(d.dataDir, 'downloads')), []);
});

test('buffered core.job_download_logs keeps the log as it was asked for; unbuffered reads it at download time', async () => {
  const id = (await c.call('test.job', { steps: 2, delay: 1 })) as number;
  const j = await ended(id);
  const buffered = (await c.call('core.job_download_logs', id, 'job.log', true)) as string;
  const live = (await c.call('core.job_download_logs', id, 'job.log', false)) as string;
  await unlink(j.logs_path!); // as retention would
  const kept = await download(buffered, true);
  assert.is(kept.status, 200);
  assert.is(kept.text, 'step 1 of 2\nstep 2 of 2\n');
  assert.is((await download(live)).status, 410, 'the live log is gone');
  assert.equal(await readdir(join(d.dataDir, 'downloads')), []);
});

test.run();
