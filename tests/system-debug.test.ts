// system.debug: a gzip tarball through core.download, untarred here: the expected files, job
// records with their arguments replaced, the log of a failed job, and not one of the passwords,
// keys and tokens planted beforehand (config, users, API keys, tokens, job arguments, a command
// line in a job log, a token in a URL in the daemon's log). A second call while one runs: EBUSY.
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jobEnd, runToEnd } from './helpers/cronjob.js';
import { Client, startDaemon } from './helpers/daemon.js';
import { modules as allModules } from './helpers/modules.js';
import { storageModule } from '../methods/storage/index.js';

async function untar(gz: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks).toString('utf8'));
    }
  })();
  Readable.from([gunzipSync(gz)]).pipe(ex);
  await done;
  return files;
}

// Without the storage module: the bundle must then hold no storage files and still be made (with
// it, the pools on a shared zfs-fuse would depend on what other tests run at the same time).
const modules = allModules.filter((m) => m !== storageModule);

test('the debug bundle untars with the expected files and holds no password, key or token', async () => {
  const adminPassword = 'Planted-Admin-Pw-9d1e';
  const d = await startDaemon({ modules, adminPassword });
  const root = await Client.connect(d.socketPath);
  try {
    const secrets = [adminPassword, 'Planted-User-Pw-77ab', 'Planted-Job-Pw-5c3f', 'Planted-Cron-Pw-31bd', 'Planted-Url-Token-e0f'];
    await root.call('user.create', { username: 'planted', password: secrets[1], full_name: 'Planted' });
    const { key } = (await root.call('api_key.create', { name: 'planted', username: 'admin' })) as { key: string };
    secrets.push(key, key.slice(key.indexOf('-') + 1));
    const tcp = await Client.connect(d.url);
    await tcp.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: adminPassword });
    secrets.push((await tcp.call('auth.generate_token', 300, {}, false, false)) as string);
    await tcp.close();
    // A URL carrying a token lands in the daemon's log ("connection open ... path").
    await (await Client.connect(`${d.url}?auth_token=${secrets[4]}`)).close();
    const cron = (await root.call('cronjob.create', { command: `echo connecting with --password ${secrets[3]}; exit 3`, user: 'root', description: 'planted' })) as { id: number };
    const cronJob = await runToEnd(root, cron.id);
    assert.is(cronJob.state, 'FAILED');
    await root.call('core.set_options', { legacy_jobs: false });
    const failed = await root.request('test.job', [{ steps: 1, delay: 1, fail: 'call', password: secrets[2] }]);
    assert.ok(failed.error, 'the planted job failed');

    const [id, url] = (await root.call('core.download', 'system.debug', [], 'debug.tgz')) as [number, string];
    // The first one waits for its download: a second one is refused meanwhile.
    const again = await root.request('core.download', ['system.debug', [], 'debug2.tgz']);
    assert.is(again.error?.data?.error, 16, 'EBUSY while one runs');
    assert.match(String(again.error?.data?.reason), /already being performed/);
    const res = await fetch(`http://127.0.0.1:${d.port}${url}`);
    assert.is(res.status, 200);
    const gz = Buffer.from(await res.arrayBuffer());
    assert.is(gz[0], 0x1f, 'gzip');
    assert.is((await jobEnd(root, id)).state, 'SUCCESS');

    const files = await untar(gz);
    const names = [...files.keys()].map((n) => n.replace(/^midship-debug\//, ''));
    for (const f of ['version.json', 'config.json', 'system/info.json', 'log/midshipd.log', 'jobs/jobs.json', 'api/methods.json', 'api/events.json', 'network/interfaces.json']) {
      assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);
    }
    assert.not.ok(names.some((n) => n.startsWith('storage/')), 'no storage module: no storage files, and no failure');
    const get = (n: string) => files.get(`midship-debug/${n}`)!;
    assert.is((JSON.parse(get('version.json')) as { fullname: string }).fullname.startsWith('Midship-'), true);
    assert.is((JSON.parse(get('config.json')) as { adminPassword: string }).adminPassword, '********');
    assert.ok((JSON.parse(get('system/info.json')) as { cores: number }).cores >= 1);
    assert.match(get('log/midshipd.log'), /midshipd listening/);
    const jobs = JSON.parse(get('jobs/jobs.json')) as Array<{ id: number; method: string; state: string; arguments: unknown[] }>;
    assert.ok(jobs.some((j) => j.method === 'test.job' && j.state === 'FAILED'));
    assert.ok(jobs.every((j) => j.arguments.every((a) => a === '********')), 'arguments replaced');
    assert.ok(jobs[0]!.id > jobs[jobs.length - 1]!.id, 'newest first');
    assert.ok(names.some((n) => n.startsWith(`jobs/failed/${cronJob.id}-`)), 'the failed cron run left its log');
    assert.match(get(names.find((n) => n.startsWith(`jobs/failed/${cronJob.id}-`))!), /connecting with --password \*{8}/);
    const methods = JSON.parse(get('api/methods.json')) as Array<{ name: string }>;
    assert.ok(methods.some((m) => m.name === 'system.debug'));
    assert.ok((JSON.parse(get('api/events.json')) as Array<{ name: string }>).some((e) => e.name === 'reporting.realtime'));

    const all = [...files.values()].join('\n');
    for (const s of secrets) assert.not.ok(all.includes(s), `the bundle leaks ${s.slice(0, 12)}...`);
  } finally {
    await root.close();
    await d.cleanup();
  }
});

test('system.debug called directly (no download pipe) is refused with the reason', async () => {
  const d = await startDaemon();
  const root = await Client.connect(d.socketPath);
  await root.call('core.set_options', { legacy_jobs: false });
  const r = await root.request('system.debug');
  assert.match(String(r.error?.data?.reason), /through core.download/);
  await root.close();
  await d.cleanup();
});

test.run();
