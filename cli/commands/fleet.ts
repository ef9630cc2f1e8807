// The fleet as a signer sees it (docs/fleet.md), over NATS instead of a daemon's WebSocket:
//   midclt --fleet URL --fleet-creds signer.key fleet hosts
//   midclt --fleet URL --fleet-creds signer.key fleet jobs [--host H] [--state S]
//   midclt --fleet URL --fleet-creds signer.key --host H call [-j] METHOD [ARG...]
// Calls are signed with the signer key as --fleet-user (default: the local user name) holding
// --fleet-roles (default FULL_ADMIN); each host caps those roles by its own MIDSHIP_FLEET_MAX_ROLES.
// A job call answers with the job id; -j follows the job through the fleet's history.
import { userInfo } from 'node:os';
import { parseArgs } from '../args.js';
import { Exit, err, failure, out, callTimeoutMs, type GlobalOptions } from '../context.js';
import { fromJsonRpcError, ClientError } from '../errors.js';
import { formatDuration, formatTime, table } from '../format.js';
import { jobError, type Job } from '../jobs.js';
import { printResult } from './call.js';
import {
  FleetCallError, FleetClient, FleetInputError, FleetTimeoutError, HostUnreachableError, TERMINAL_STATES, type FleetJobEntry,
} from '../../methods/fleet/index.js';

const STATES = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'];

export interface FleetGlobals extends GlobalOptions {
  fleet?: string;
  fleetCreds?: string;
  host?: string;
  fleetUser?: string;
  fleetRoles?: string;
}

/** Connects as the signer; missing options are usage errors, a server that is not there exit 1. */
async function connectFleet(g: FleetGlobals, what: string): Promise<FleetClient> {
  if (g.fleet === undefined || g.fleetCreds === undefined) throw new Exit(2, [`${what} needs --fleet URL and --fleet-creds FILE (the signer.key of \`midshipd fleet init\`)`]);
  const servers = g.fleet.split(',').map((s) => s.trim()).filter((s) => s !== '');
  try {
    return await FleetClient.fromFile(servers, g.fleetCreds, { callTimeoutMs: callTimeoutMs(g), name: `midclt ${userInfo().username}` });
  } catch (e) {
    if (e instanceof FleetInputError) throw new Exit(1, [`--fleet-creds: ${e.message}`]);
    throw new Exit(1, [`Cannot connect to the fleet at ${g.fleet}: ${(e as Error).message}`]);
  }
}

async function withFleet(g: FleetGlobals, what: string, fn: (c: FleetClient) => Promise<number>): Promise<number> {
  const client = await connectFleet(g, what);
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function uptime(s: number): string {
  return formatDuration(s * 1000);
}

export async function runFleetHosts(g: FleetGlobals, o: { json?: boolean }): Promise<number> {
  return withFleet(g, 'midclt fleet hosts', async (c) => {
    const hosts = await c.hosts();
    if (o.json || g.json) {
      out(JSON.stringify(hosts));
      return 0;
    }
    if (hosts.length === 0) {
      err('No host has joined this fleet yet.');
      return 0;
    }
    const rows = hosts.map((h) => [
      h.host, h.status, h.version, h.status === 'online' ? uptime(h.uptime_s) : '-', String(h.jobs.RUNNING ?? 0), String(h.jobs.WAITING ?? 0),
      String((h.jobs.SUCCESS ?? 0) + (h.jobs.FAILED ?? 0) + (h.jobs.ABORTED ?? 0)),
      h.outbox.dropped > 0 ? `${h.outbox.pending} (${h.outbox.dropped} dropped)` : String(h.outbox.pending), formatTime(h.last_seen),
    ]);
    out(table(['HOST', 'STATUS', 'VERSION', 'UPTIME', 'RUNNING', 'WAITING', 'FINISHED', 'OUTBOX', 'LAST SEEN'], rows));
    return 0;
  });
}

export async function runFleetJobs(g: FleetGlobals, o: { host?: string; state?: string; json?: boolean }): Promise<number> {
  const state = o.state?.toUpperCase();
  if (state !== undefined && !STATES.includes(state)) throw new Exit(2, [`--state: unknown state ${o.state} (one of ${STATES.join(', ')})`]);
  return withFleet(g, 'midclt fleet jobs', async (c) => {
    let res;
    try {
      res = await c.jobs({ host: o.host, state });
    } catch (e) {
      if (e instanceof FleetInputError) throw new Exit(2, [`--${e.message}`]);
      throw e;
    }
    if (res.truncated) err('(the history holds more than was read: showing the jobs of the first 500,000 messages)');
    if (o.json || g.json) {
      out(JSON.stringify(res.jobs));
      return 0;
    }
    if (res.jobs.length === 0) {
      err('No jobs match.');
      return 0;
    }
    const duration = (e: FleetJobEntry) => {
      const start = e.job.time_started;
      const end = e.job.time_finished ?? null;
      return typeof start === 'number' && typeof end === 'number' ? formatDuration(end - start) : '-';
    };
    const rows = res.jobs.map((e) => [e.host, String(e.job.id), e.job.method ?? '', e.job.state, formatTime(e.job.time_started as number), duration(e), typeof e.job.error === 'string' ? e.job.error.split('\n')[0]! : '']);
    out(table(['HOST', 'ID', 'METHOD', 'STATE', 'STARTED', 'DURATION', 'ERROR'], rows));
    return 0;
  });
}

/** A host's answer or the reason there was none, as midclt prints a failed call. */
function callFailure(e: unknown, o: { quiet?: boolean; json?: boolean }): Exit {
  if (e instanceof FleetCallError) return failure(fromJsonRpcError(e.error), o);
  if (e instanceof HostUnreachableError || e instanceof FleetTimeoutError || e instanceof FleetInputError) return failure(new ClientError(e.message), o);
  return failure(e, o);
}

export async function runFleetCall(g: FleetGlobals, o: { quiet?: boolean; job?: boolean; json?: boolean }, method: string, rawArgs: string[]): Promise<number> {
  const json = o.json === true || g.json === true;
  const host = g.host!;
  const params = await parseArgs(rawArgs);
  const user = g.fleetUser ?? userInfo().username;
  const roles = (g.fleetRoles ?? 'FULL_ADMIN').split(',').map((r) => r.trim()).filter((r) => r !== '');
  return withFleet(g, 'midclt --host', async (c) => {
    const since = new Date(Date.now() - 60_000);
    let result: unknown;
    try {
      result = await c.call(host, method, params, user, roles);
    } catch (e) {
      throw callFailure(e, { quiet: o.quiet, json });
    }
    if (!o.job || typeof result !== 'number') {
      printResult(result, json);
      return 0;
    }
    err(`Job ${result} started on ${host} (${method}); following it through the fleet history`);
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    let entry: FleetJobEntry | null;
    try {
      entry = await c.follow(host, result, { since, signal: stop.signal, each: (e) => { if (!TERMINAL_STATES.has(e.job.state)) err(`${host} job ${e.job.id}: ${e.job.state}`); } });
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (entry === null) {
      err(`Stopped following; job ${result} continues on ${host} (midclt --host ${host} call core.get_jobs '[["id", "=", ${result}]]')`);
      return 130;
    }
    const job = entry.job as unknown as Job;
    if (job.state === 'SUCCESS') {
      printResult(job.result, json);
      return 0;
    }
    const e = jobError(job)!;
    if (json) throw failure(e, { quiet: o.quiet, json });
    if (o.quiet) return 1;
    throw failure(e);
  });
}
