// A daemon with the storage module over this run's ZFS lab (tests/helpers/zfs.ts): pools mount
// under the lab's directory, loop devices count as disks, and a test may hand in its own clock.
// Helpers to read errors, events and job records (files: tests/helpers/files.ts).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModuleFactory } from '#midship/module-api';
import { coreModule } from '../../methods/core.js';
import { jobsModule } from '../../methods/jobs.js';
import type { Clock } from '../../methods/scheduling/index.js';
import { makeStorageModule } from '../../methods/storage/index.js';
import { startDaemon, type Client, type Message, type TestDaemon } from './daemon.js';
import type { ZfsLab } from './zfs.js';

export interface StorageTestOptions {
  clock?: Clock;
  /** How often a running scan is read (default 500 ms here; the daemon's is 2 s). */
  scanIntervalMs?: number;
}

export function storageModules(lab: ZfsLab, o: StorageTestOptions = {}): ModuleFactory[] {
  return [coreModule, jobsModule, makeStorageModule({ mountRoot: join(lab.dir, 'mnt'), includeLoop: true, scanIntervalMs: o.scanIntervalMs ?? 500, ...(o.clock ? { clock: o.clock } : {}) })];
}

export async function startStorage(lab: ZfsLab, o: StorageTestOptions & { dataDir?: string; modules?: ModuleFactory[] } = {}): Promise<TestDaemon> {
  await mkdir(join(lab.dir, 'mnt'), { recursive: true });
  return startDaemon({ modules: o.modules ?? storageModules(lab, o), ...(o.dataDir ? { dataDir: o.dataDir } : {}) });
}

export interface RpcError {
  code: number;
  message: string;
  data?: { error: number; errname: string; reason: string; extra: unknown };
}

/** The error a call ends with (fails the test when it succeeds). */
export async function callError(c: Client, method: string, ...params: unknown[]): Promise<RpcError> {
  const r = await c.request(method, params);
  if (!r.error) throw new Error(`${method} succeeded: ${JSON.stringify(r.result).slice(0, 300)}`);
  return r.error as unknown as RpcError;
}

/** Validation entries [attribute, message, errno] of a call that must fail validation. */
export async function validationOf(c: Client, method: string, ...params: unknown[]): Promise<Array<[string, string, number]>> {
  const e = await callError(c, method, ...params);
  if (!Array.isArray(e.data?.extra)) throw new Error(`${method}: not a validation error: ${JSON.stringify(e)}`);
  return e.data!.extra as Array<[string, string, number]>;
}

export function events(c: Client, collection: string): Array<{ msg: string; id?: unknown; fields?: Record<string, unknown>; extra?: Record<string, unknown> }> {
  return c.received
    .filter((m: Message) => m.method === 'collection_update' && (m.params as { collection: string }).collection === collection)
    .map((m) => m.params as { msg: string; id?: unknown; fields?: Record<string, unknown>; extra?: Record<string, unknown> });
}

export interface JobRec {
  id: number;
  method: string;
  state: string;
  error: string | null;
  result: unknown;
  progress: { percent: number | null; description: string | null };
  logs_excerpt: string | null;
}

export async function job(c: Client, id: number): Promise<JobRec> {
  return (await c.call('core.get_jobs', [['id', '=', id]], { get: true })) as JobRec;
}

/** Every progress description a job's events showed (subscribe to core.get_jobs first). */
export function progressSeen(c: Client, jobId: number): string[] {
  return events(c, 'core.get_jobs').filter((e) => e.id === jobId && e.fields).map((e) => (e.fields!.progress as { description: string | null }).description ?? '').filter((d, i, a) => d !== '' && a[i - 1] !== d);
}

export type { TestDaemon };
