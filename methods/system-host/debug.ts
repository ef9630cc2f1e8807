// system.debug's bundle: a gzip tarball streamed into the job's download pipe (core.download).
// Everything in it is gathered first (a few MB at most), then packed with tar-stream, so a slow
// download holds no file open and a failed collection sends nothing half-made.
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { REDACTED, type App, type JobHandle, type JobRecord } from '#midship/module-api';
import { withDeadline } from '../host/deadline.js';
import type { SystemInfoT } from '../../schemas/system.js';
import { scrubObject, scrubText } from './scrub.js';
import type { SoftwareVersion } from './version.js';

/** Job records in the bundle, newest first. */
const JOB_RECORDS = 1000;
/** Failed jobs whose logs are included, and how much of each log (its end). */
const FAILED_LOGS = 20;
const LOG_TAIL_BYTES = 64 * 1024;
const ZPOOL_TIMEOUT_MS = 15_000;

export interface DebugSources {
  version: SoftwareVersion;
  info: () => Promise<SystemInfoT>;
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** The last `bytes` of a file (job logs are capped but may still be large), or null if unreadable. */
async function fileTail(path: string, bytes: number): Promise<string | null> {
  const fh = await open(path, 'r').catch(() => null);
  if (fh === null) return null;
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return (start > 0 ? `[... first ${start} bytes left out ...]\n` : '') + buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A job as the bundle shows it: arguments replaced (they may hold anything), the rest scrubbed. */
function bundledJob(r: JobRecord): unknown {
  return scrubObject({ ...r, arguments: r.arguments.map(() => REDACTED) });
}

async function jobsSection(app: App): Promise<{ records: unknown[]; failedLogs: Map<string, string> }> {
  const records: unknown[] = [];
  const failed: JobRecord[] = [];
  for await (const r of app.jobs.history({ reverse: true })) {
    records.push(bundledJob(r));
    if (r.state === 'FAILED' && r.logs_path !== null && failed.length < FAILED_LOGS) failed.push(r);
    if (records.length >= JOB_RECORDS) break;
  }
  const failedLogs = new Map<string, string>();
  for (const r of failed) {
    const text = await fileTail(r.logs_path!, LOG_TAIL_BYTES);
    if (text !== null) failedLogs.set(`jobs/failed/${r.id}-${r.method}.log`, scrubText(text));
  }
  return { records, failedLogs };
}

/** The configuration as loaded, secrets replaced and the log stream left out. */
function configSection(app: App): unknown {
  const { logDestination: _stream, adminPassword, ...rest } = app.config;
  return scrubObject({ ...rest, adminPassword: adminPassword === null ? null : REDACTED });
}

function run(cmd: string, args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: ZPOOL_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024, signal }, (err, stdout, stderr) => {
      resolve(err ? `${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}` : stdout);
    });
  });
}

/**
 * Pools through the storage module when it is loaded (never imported: called by name, the seam of
 * methods/reporting/pools.ts), bounded in time as `zpool` is: a stalled ZFS must not hold the bundle.
 */
async function poolSection(app: App, signal: AbortSignal): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!app.registry.get('pool.query')) return out;
  const asked = app.call('pool.query', []).catch((err: unknown) => ({ error: (err as Error).message }));
  const pools = await withDeadline<unknown>(asked, ZPOOL_TIMEOUT_MS, () => ({ error: `pool.query did not answer within ${ZPOOL_TIMEOUT_MS / 1000} s` }));
  out.set('storage/pools.json', json(scrubObject(pools)));
  if (Array.isArray(pools) && pools.length > 0) out.set('storage/zpool-status.txt', await run('zpool', ['status', '-v'], signal));
  return out;
}

async function optionalCall(app: App, name: string, args: unknown[]): Promise<unknown> {
  if (!app.registry.get(name)) return undefined;
  return app.call(name, args).catch((err: unknown) => ({ error: (err as Error).message }));
}

export async function writeDebugBundle(app: App, job: JobHandle, sources: DebugSources): Promise<void> {
  job.setProgress(0, 'Generating debug file');
  const files = new Map<string, string>();
  files.set('version.json', json({
    version: sources.version.version,
    fullname: sources.version.fullname,
    buildtime: new Date(sources.version.buildtime).toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    boot_id: app.bootId,
    generated: new Date().toISOString(),
  }));
  files.set('config.json', json(configSection(app)));
  files.set('system/info.json', json(await sources.info()));
  job.setProgress(10, 'System facts collected');
  files.set('log/midshipd.log', scrubText(app.logTail().join('')));
  job.setProgress(20, 'Log collected');
  const { records, failedLogs } = await jobsSection(app);
  files.set('jobs/jobs.json', json(records));
  for (const [name, text] of failedLogs) files.set(name, text);
  job.setProgress(50, 'Jobs collected');
  for (const [name, text] of await poolSection(app, job.signal)) files.set(name, text);
  const interfaces = await optionalCall(app, 'interface.query', []);
  if (interfaces !== undefined) files.set('network/interfaces.json', json(scrubObject(interfaces)));
  job.setProgress(70, 'Storage and network collected');
  const methods = [...app.registry.methods.values()].map((m) => ({ name: m.def.name, job: m.def.job !== null, roles: m.roles, private: m.def.private }));
  files.set('api/methods.json', json(methods.sort((a, b) => a.name.localeCompare(b.name))));
  const events = [...app.registry.events.values()].map((e) => ({ name: e.name, source: e.source !== undefined, roles: e.roles ?? [] }));
  files.set('api/events.json', json(events.sort((a, b) => a.name.localeCompare(b.name))));
  job.signal.throwIfAborted();

  job.setProgress(90, 'Preparing debug file for streaming');
  const tar = pack();
  const mtime = new Date();
  const packing = (async () => {
    for (const [name, text] of files) {
      await new Promise<void>((resolve, reject) => tar.entry({ name: `midship-debug/${name}`, mode: 0o644, mtime }, text, (err) => (err ? reject(err) : resolve())));
    }
    tar.finalize();
  })();
  await Promise.all([pipeline(tar, createGzip(), job.output!, { signal: job.signal }), packing]);
  job.setProgress(100, 'Debug file ready');
}
