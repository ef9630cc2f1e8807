// The storage namespaces with the real TrueNAS client and real ZFS: `midclt call -j pool.create`
// with its progress, and every storage *.query / get_instance over a pool that has datasets,
// snapshots, a scrub, a periodic snapshot task and a replication printed by the unmodified
// midclt exactly as a raw client receives them (dates, nested children, vdev trees).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../helpers/daemon.js';
import { startStorage, type TestDaemon } from '../helpers/storage.js';
import { conformanceTest, normalize, realMidclt } from '../helpers/truenas-client.js';
import { ZfsLab, zfsTest, zfsUnavailable } from '../helpers/zfs.js';

// Both the real client and real ZFS are needed; each says why it is missing its own way.
const T = zfsUnavailable() !== null ? zfsTest(test) : conformanceTest(test);
const MiB = 1024 * 1024;

let lab: ZfsLab;
let d: TestDaemon;
let c: Client;
let unix: string;

test.after(async () => {
  await c?.close().catch(() => {});
  await d?.cleanup().catch(() => {});
  lab?.cleanupSync();
});

async function midclt(args: string[], code = 0): Promise<{ stdout: string; stderr: string }> {
  const r = await realMidclt(args);
  assert.is(r.code, code, `midclt ${args.join(' ')} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.not.match(r.stderr, /CallTimeout|Call timeout|Traceback/, `midclt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

T('pool.create -j with progress; storage queries and get_instance print what a raw client gets', async () => {
  lab = new ZfsLab();
  const [a, b] = await Promise.all([lab.loopDevice('a', 160 * MiB), lab.loopDevice('b', 160 * MiB)]);
  d = await startStorage(lab);
  c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  unix = `ws+unix://${d.socketPath}`;
  const name = lab.pool('c');
  const created = await midclt(['-u', unix, 'call', '-j', 'pool.create', JSON.stringify({ name, topology: { data: [{ type: 'MIRROR', disks: [a.device.slice(5), b.device.slice(5)] }] } })]);
  const pool = JSON.parse(created.stdout) as { id: number; name: string; topology: unknown };
  assert.is(pool.name, name);
  assert.match(created.stderr, /Creating ZFS Pool|Setting pool options/);

  await c.call('pool.dataset.create', { name: `${name}/d`, comments: 'conformance' });
  await c.call('pool.dataset.create', { name: `${name}/d/e` });
  await writeFile(join(lab.dir, 'mnt', name, 'd', 'f.txt'), 'x');
  await c.call('pool.snapshot.create', { dataset: `${name}/d`, name: 'auto-2026-01-01_00-00', recursive: true });
  await c.call('pool.scrub.scrub', name);
  await c.call('pool.snapshottask.create', { dataset: `${name}/d`, recursive: true });
  await c.call('replication.create', { name: 'conf', direction: 'PUSH', transport: 'LOCAL', source_datasets: [`${name}/d`], target_dataset: `${name}/copy`, recursive: false, auto: false, retention_policy: 'NONE', also_include_naming_schema: ['auto-%Y-%m-%d_%H-%M'] });
  await c.call('replication.run', 1);

  const queries: Array<[string, unknown[]]> = [
    ['pool.query', []],
    ['pool.get_instance', [pool.id]],
    ['pool.dataset.query', []],
    ['pool.dataset.query', [[['id', '=', `${name}/d`]], { extra: { flat: false, properties: ['used', 'creation', 'compression'] } }]],
    ['pool.dataset.get_instance', [`${name}/d`]],
    ['pool.snapshot.query', [[], { extra: { holds: true, properties: ['creation', 'used'] } }]],
    ['pool.snapshot.get_instance', [`${name}/d@auto-2026-01-01_00-00`]],
    ['pool.scrub.query', []],
    ['pool.snapshottask.query', []],
    ['replication.query', []],
    ['disk.query', [[['name', 'in', [a.device.slice(5), b.device.slice(5)]]], { extra: { pools: true } }]],
  ];
  for (const [method, params] of queries) {
    const printed = JSON.parse((await midclt(['-u', unix, 'call', method, ...params.map((p) => JSON.stringify(p))])).stdout) as unknown;
    const raw = await c.call(method, ...params);
    assert.equal(normalize(printed), normalize(raw), method);
  }
  const missing = await midclt(['-u', unix, 'call', 'pool.dataset.get_instance', JSON.stringify(`${name}/nope`)], 1);
  assert.match(missing.stderr, /does not exist/);
  const invalid = await midclt(['-u', unix, 'call', '-j', 'pool.create', JSON.stringify({ name, topology: { data: [{ type: 'MIRROR', disks: [a.device.slice(5)] }] } })], 1);
  assert.match(invalid.stderr, /pool_create\.name/);
  await c.call('pool.export', pool.id, { destroy: true });
  assert.equal(lab.livePools(), []);
});

test.run();
