// The sections of `npm run bench` after the core.ping comparison, in the order they run. Adding a
// section is one entry here: its name (for `--skip NAME` and its key in .bench/results.json), the
// line printed before it runs, how to run it, and how to print its figures.
import { alertsLines, benchAlerts } from './alerts.js';
import { benchDelivery, deliveryLines } from './delivery.js';
import { benchFleet, fleetLines } from './fleet.js';
import { natsServerPath } from '../tests/helpers/nats.js';
import { benchHostHistory, hostHistoryLines } from './host-history.js';
import { benchHostSample, hostSampleLines } from './host-sample.js';
import { benchHostd, hostdLines } from './hostd.js';
import { benchJobs, jobTargetLines } from './jobs.js';
import { benchLimits, limitsTargetLines } from './jobs-limits.js';
import { benchScheduling, schedulingLines } from './scheduling.js';
import { benchStorage, storageBenchUnavailable, storageLines } from './storage.js';
import { benchTokens, tokenLines } from './tokens.js';
import { benchUi } from './ui.js';
import { benchWire, wireTargetLines } from './wire.js';
import { benchZfsSnapshots, zfsBenchUnavailable, zfsTargetLines } from './zfs-snapshots.js';

/** Where a section's processes run: the servers' core and the load client's (null: not pinned). */
export interface Cores {
  server: number | null;
  client: number | null;
}

export interface Section<R = unknown> {
  name: string;
  title: string;
  /** Why the section cannot run on this machine, or null when it can. */
  unavailable?(): string | null;
  run(cores: Cores): Promise<R>;
  lines(result: R): string;
}

/** A section whose result type the table need not know. */
function section<R>(s: Section<R>): Section {
  return s as unknown as Section;
}

export const SECTIONS: readonly Section[] = [
  section({
    name: 'jobs',
    title: 'Job engine: 20,000 trivial jobs over 8 connections x 16 in flight (new-style calls, each returns when its job ended and is stored), with and without fsync; then a 200,000-job history finished within one day, half of it deleted with core.job_delete while another client pings',
    run: (c) => benchJobs(c.server, c.client),
    lines: jobTargetLines,
  }),
  section({
    name: 'limits',
    title: 'Job engine limits: 50,000 core.job_wait jobs aborted (heap after a full GC); SIGTERM with 50,000 running jobs; core.ping while a cron job prints 2,000,000 lines',
    run: (c) => benchLimits(c.server),
    lines: limitsTargetLines,
  }),
  section({
    name: 'tokens',
    title: 'Token sessions: sequential core.ping of a session logged in with a token, 3,000 calls',
    run: () => benchTokens(),
    lines: tokenLines,
  }),
  section({
    name: 'wire',
    title: 'Wire: a 1 GiB job log downloaded over the unix socket (daemon RSS sampled every 20 ms); a ReDoS-style regex filter over a job history while another client pings',
    run: (c) => benchWire(c.server),
    lines: wireTargetLines,
  }),
  section({
    name: 'ui',
    title: 'Dashboard (headless Chromium): progress change in the daemon -> DOM over 500 changes; first screen with 200,000 jobs in history',
    run: () => benchUi(),
    lines: (ui) => Object.entries(ui).map(([k, v]) => `  ${k.padEnd(40)} ${v}`).join('\n'),
  }),
  section({
    name: 'host',
    title: 'Host: CPU of one reporting.realtime sample (in process, then through a daemon); 31 days of 10 s history through the real store; the daemon with 200 reporting.realtime subscribers; web shell keystroke echo (about five minutes)',
    run: async (c) => ({ sample: await benchHostSample(), history: await benchHostHistory(), daemon: await benchHostd(c.server) }),
    lines: (r) => `${hostSampleLines(r.sample)}\n${hostHistoryLines(r.history)}\n${hostdLines(r.daemon)}`,
  }),
  section({
    name: 'zfs',
    title: 'ZFS driver: listing 10,000 snapshots (a throw-away pool on a sparse file)',
    unavailable: zfsBenchUnavailable,
    run: () => benchZfsSnapshots(() => {}),
    lines: zfsTargetLines,
  }),
  section({
    name: 'storage',
    title: 'Storage through the daemon on real ZFS (pools on loop devices): replication.run vs `zfs send | zfs recv` of the same snapshot; pool.snapshot.query over 10,000 snapshots; pool.dataset.query over 1,000 datasets; daemon CPU while a scrub is followed',
    unavailable: storageBenchUnavailable,
    run: () => benchStorage((line) => console.log(`  ${line}`)),
    lines: storageLines,
  }),
  section({
    name: 'scheduling',
    title: 'Scheduler: 10,000 enabled cron jobs armed (start-up, idle CPU, memory), in the engine and through midshipd; catch-up of 1,000 missed runs',
    run: (c) => benchScheduling(c.server),
    lines: schedulingLines,
  }),
  section({
    name: 'delivery',
    title: 'Webhook delivery: 20,000 signed deliveries to a local receiver, persistence on',
    run: () => benchDelivery(),
    lines: deliveryLines,
  }),
  section({
    name: 'alerts',
    title: 'Alerts and job webhooks through the daemon: signed deliveries from ending jobs to a local receiver, persistence on; job throughput with one webhook on FAILED vs without, alternately',
    run: (c) => benchAlerts(c.server, c.client),
    lines: alertsLines,
  }),
  section({
    name: 'fleet',
    title: 'Fleet over NATS: core.ping to a real daemon as a signed fleet call vs over its unix socket (sequential, 16 in flight), jobs with the history outbox on and off, backfill, one call fanned out to 100 hosts',
    unavailable: () => (natsServerPath() === null ? 'nats-server not installed' : null),
    run: (c) => benchFleet(c.server),
    lines: (r) => fleetLines(r).join('\n'),
  }),
];

/** Run every section not skipped; their results by name (null: skipped or unavailable). */
export async function runSections(skip: ReadonlySet<string>, cores: Cores): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const s of SECTIONS) {
    results[s.name] = null;
    if (skip.has(s.name)) continue;
    const why = s.unavailable?.() ?? null;
    if (why !== null) {
      console.log(`\n${s.name}: skipped (${why})`);
      continue;
    }
    console.log(`\n${s.title}\n`);
    const r = await s.run(cores);
    console.log(s.lines(r));
    results[s.name] = r;
  }
  return results;
}
