// Fleet over NATS (issue 21), against a real nats-server started from a `fleet init` conf and a
// real midshipd in fleet mode (pinned to the server core when there is one):
//   - call latency: core.ping as a signed fleet call through NATS to the daemon (signature made
//     and checked, nonce recorded, the daemon's dispatcher with FLEET credentials, the audit
//     line), against the same call over the daemon's unix socket; p50/p99, sequential and 16 in
//     flight; beside them a bare NATS request/reply to a trivial responder, the floor;
//   - history throughput: trivial jobs run on the daemon (4 connections x 16 in flight, each call
//     returning when its job ended and was stored), with fleet mode on (each job's two history
//     entries written in its batch, published meanwhile), on with NATS down (written only) and
//     off, and the time until JetStream acknowledged every entry; then a backlog written while
//     disconnected, published at once (the backfill);
//   - fan-out: one call to each of 100 hosts at once (100 host links, one connection each, in
//     this process), the time until the last answer is in.
// Standalone: `npm run build && node dist/bench/fleet.js`. Bounded: fixed counts, and every
// phase has a time limit. Only 127.0.0.1 is used.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { FleetClient, fleetInit, HistoryOutbox, HostLink, loadCredentials, parseTrustedKeys, rpcSubject } from '../methods/fleet/index.js';
import { hostInboxPrefix } from '../methods/fleet/subjects.js';
import { freePort, NatsServer, natsServerPath } from '../tests/helpers/nats.js';
import { Rpc } from './jobs.js';
import { startNode, stop, waitForLine, type Child } from './spawn.js';
import { latencySummary, median } from './stats.js';

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const testModules = fileURLToPath(new URL('../tests/helpers/modules.js', import.meta.url));
const SEQUENTIAL_CALLS = 3_000;
const PIPELINED_CALLS = 16_000;
const IN_FLIGHT = 16;
const HISTORY_JOBS = 20_000;
/** Jobs run on the daemon, with fleet mode on and off. */
const DAEMON_JOBS = 10_000;
const FANOUT_HOSTS = 100;
const FANOUT_ROUNDS = 30;
const PHASE_LIMIT_MS = 120_000;

type Root = ClassicLevel<string, unknown>;

export interface LatencyFigures { p50Ms: number; p99Ms: number; callsPerSecond: number; /** Daemon CPU per call (µs), where measured. */ cpuUs?: number }

/** CPU time (user + system) a process used so far, in µs, from /proc. */
async function cpuUs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** `fn`'s figures with the CPU the daemon `pid` spent per call (count calls). */
async function withCpu<T extends object>(pid: number, count: number, fn: () => Promise<T>): Promise<T & { cpuUs: number }> {
  const before = await cpuUs(pid);
  const r = await fn();
  return { ...r, cpuUs: (await cpuUs(pid) - before) / count };
}

export interface FleetBenchResult {
  /** core.ping through NATS to the daemon, signed and checked. */
  fleetSequential: LatencyFigures;
  fleetPipelined: LatencyFigures;
  /** core.ping over the same daemon's unix socket. */
  socketSequential: LatencyFigures;
  socketPipelined: LatencyFigures;
  bareSequential: LatencyFigures;
  barePipelined: LatencyFigures;
  history: {
    jobs: number;
    /** Jobs/s and daemon CPU µs a job: fleet mode on and publishing, off, and on with NATS unreachable (entries written, none published). */
    fleet: { jobsPerSecond: number; cpuUs: number };
    local: { jobsPerSecond: number; cpuUs: number };
    outboxOnly: { jobsPerSecond: number; cpuUs: number };
    /** From the first job to JetStream's last acknowledgement (two messages a job). */
    allAckedMs: number;
    messagesPerSecond: number;
    backfill: number;
    backfillMs: number;
    backfillPerSecond: number;
  };
  fanout: { hosts: number; rounds: number; p50Ms: number; p99Ms: number };
}

async function latencies(count: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<LatencyFigures> {
  const samples = new Float64Array(count);
  let next = 0;
  const deadline = Date.now() + PHASE_LIMIT_MS;
  const started = performance.now();
  const worker = async () => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      await call(i);
      samples[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const done = Math.min(next, count);
  const { p50Ms, p99Ms } = latencySummary(samples, done);
  return { p50Ms, p99Ms, callsPerSecond: done / ((performance.now() - started) / 1000) };
}

async function hostConnection(host: string, credsPath: string, url: string) {
  const creds = await loadCredentials(credsPath);
  return connect({ servers: url, authenticator: creds.authenticator, inboxPrefix: hostInboxPrefix(host) });
}

/** midshipd with the test module (test.noop), its environment extended by `env`. */
async function startDaemon(dataDir: string, core: number | null, env: Record<string, string>): Promise<{ child: Child; socketPath: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, { MIDSHIP_MODULES: testModules, ...env });
  const child = startNode(mainJs, ['--port', '0', '--data-dir', dataDir, '--log-level', 'info'], core);
  process.env = saved;
  await waitForLine(child, 'stderr', (l) => l.includes('"midshipd listening"'), 60_000);
  return { child, socketPath: join(dataDir, 'middlewared.sock') };
}

/** `total` test.noop jobs, 4 connections x 16 in flight, each call returning when its job ended. */
async function runJobs(socketPath: string, total: number): Promise<{ jobsPerSecond: number }> {
  const conns = await Promise.all(Array.from({ length: 4 }, () => Rpc.open(socketPath)));
  for (const c of conns) await c.call('core.set_options', [{ legacy_jobs: false }]);
  let issued = 0;
  const started = performance.now();
  const deadline = Date.now() + PHASE_LIMIT_MS;
  await Promise.all(conns.flatMap((c) => Array.from({ length: IN_FLIGHT }, async () => {
    while (issued < total && Date.now() < deadline) {
      issued++;
      await c.call('test.noop');
    }
  })));
  const rate = issued / ((performance.now() - started) / 1000);
  for (const c of conns) c.close();
  return { jobsPerSecond: rate };
}

export async function benchFleet(serverCore: number | null = null): Promise<FleetBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-fleet-'));
  const hosts = ['bench', ...Array.from({ length: FANOUT_HOSTS }, (_, i) => `h${String(i).padStart(3, '0')}`)];
  const port = await freePort();
  const init = await fleetInit(dir, { hosts, natsPort: port });
  const server = await new NatsServer(init.confPath, port).start();
  const dbs: Root[] = [];
  const trusted = parseTrustedKeys(await readFile(init.signerPubPath, 'utf8'));
  const links: Array<HostLink<Root>> = [];
  const open = async (host: string) => {
    const l = await HostLink.open<Root>({
      servers: server.url, host, credentials: await loadCredentials(init.creds[host]!), trusted, version: 'bench',
      jobCounts: () => ({}), outboxDb: dbs[0]!.sublevel<string, unknown>(`outbox_${host}`, { valueEncoding: 'json' }),
      dispatch: () => 'pong', maxInFlight: 256,
    });
    links.push(l);
    return l;
  };
  const client = await FleetClient.fromFile(server.url, init.signerKeyPath);
  let daemon: Child | null = null;
  try {
    // The daemon in fleet mode as host `bench` (a heartbeat every 10 s, as by default).
    const fleetDaemon = await startDaemon(join(dir, 'host'), serverCore, {
      MIDSHIP_FLEET_URL: server.url, MIDSHIP_FLEET_HOST_ID: 'bench', MIDSHIP_FLEET_CREDS: init.creds.bench!, MIDSHIP_FLEET_TRUST: init.signerPubPath,
    });
    daemon = fleetDaemon.child;
    const local = await Rpc.open(fleetDaemon.socketPath);
    await local.call('core.set_options', [{ legacy_jobs: false }]);
    const deadline0 = Date.now() + 30_000;
    while (!((await local.call('fleet.status')) as { connected: boolean }).connected) {
      if (Date.now() > deadline0) throw new Error('the daemon did not join the fleet');
      await new Promise((r) => setTimeout(r, 50));
    }

    // Calls: through NATS to the daemon, then over its unix socket, then a bare NATS round trip.
    const call = () => client.call('bench', 'core.ping', [], 'bench', ['READONLY_ADMIN']);
    await latencies(300, 1, call);
    const pid = fleetDaemon.child.proc.pid!;
    const fleetSequential = await withCpu(pid, SEQUENTIAL_CALLS, () => latencies(SEQUENTIAL_CALLS, 1, call));
    const fleetPipelined = await withCpu(pid, PIPELINED_CALLS, () => latencies(PIPELINED_CALLS, IN_FLIGHT, call));
    const ping = () => local.call('core.ping');
    await latencies(300, 1, ping);
    const socketSequential = await withCpu(pid, SEQUENTIAL_CALLS, () => latencies(SEQUENTIAL_CALLS, 1, ping));
    const socketPipelined = await withCpu(pid, PIPELINED_CALLS, () => latencies(PIPELINED_CALLS, IN_FLIGHT, ping));
    const hostCreds = await loadCredentials(init.creds.h000!);
    const echo = await connect({ servers: server.url, authenticator: hostCreds.authenticator, inboxPrefix: hostInboxPrefix('h000') });
    echo.subscribe('midship.h000.rpc.>', { callback: (_e, m) => { m.respond('{"result":"pong"}'); } });
    await echo.flush();
    const subject = rpcSubject('h000', 'core.ping');
    const bare = () => client.nc.request(subject, '[]', { timeout: 10_000 });
    await latencies(300, 1, bare);
    const bareSequential = await latencies(SEQUENTIAL_CALLS, 1, bare);
    const barePipelined = await latencies(PIPELINED_CALLS, IN_FLIGHT, bare);
    await echo.close();

    // History: jobs on the daemon with fleet mode on, until JetStream acknowledged every entry.
    const t0 = performance.now();
    const cpu0 = await cpuUs(pid);
    const ran = await runJobs(fleetDaemon.socketPath, DAEMON_JOBS);
    const deadline1 = Date.now() + PHASE_LIMIT_MS;
    while (((await local.call('fleet.status')) as { outbox: { pending: number } }).outbox.pending > 0) {
      if (Date.now() > deadline1) throw new Error('history not acknowledged in time');
      await new Promise((r) => setTimeout(r, 20));
    }
    const allAckedMs = performance.now() - t0;
    // The daemon's CPU until everything was acknowledged: the publishing after the last job too.
    const fleetJobs = { ...ran, cpuUs: (await cpuUs(pid) - cpu0) / DAEMON_JOBS };
    local.close();
    await stop(fleetDaemon.child, 10_000);
    daemon = null;
    // The same jobs with fleet mode off: what the outbox costs the job engine.
    const plain = await startDaemon(join(dir, 'plain'), serverCore, {});
    daemon = plain.child;
    const localJobs = await withCpu(plain.child.proc.pid!, DAEMON_JOBS, () => runJobs(plain.socketPath, DAEMON_JOBS));
    await stop(plain.child, 10_000);
    daemon = null;
    // Fleet mode on with NATS unreachable: the outbox entries are written, nothing is published.
    const cut = await startDaemon(join(dir, 'cut'), serverCore, {
      MIDSHIP_FLEET_URL: `nats://127.0.0.1:${await freePort()}`, MIDSHIP_FLEET_HOST_ID: 'bench', MIDSHIP_FLEET_TRUST: init.signerPubPath,
    });
    daemon = cut.child;
    const outboxJobs = await withCpu(cut.child.proc.pid!, DAEMON_JOBS, () => runJobs(cut.socketPath, DAEMON_JOBS));
    await stop(cut.child, 10_000);
    daemon = null;

    const db: Root = new ClassicLevel<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
    await db.open();
    dbs.push(db);
    // One outbox per simulated host on this one database (a daemon has one): each listens for writes.
    db.setMaxListeners(FANOUT_HOSTS + 10);
    // Backfill: a backlog written while disconnected (batches of 500), then published at once.
    const backlog = new HistoryOutbox<Root>({ db: db.sublevel<string, unknown>('backlog', { valueEncoding: 'json' }), host: 'h000' });
    await backlog.open();
    for (let id = 1; id <= HISTORY_JOBS; id += 500) {
      const ops = [];
      for (let j = id; j < id + 500; j++) ops.push(backlog.outboxOp({ id: j, state: 'FAILED', method: 'cronjob.run', arguments: [j], result: null })!);
      await db.batch(ops);
    }
    // (A host may publish only its own history: h000's entries, on h000's connection.)
    const hostNc = await hostConnection('h000', init.creds.h000!, server.url);
    const js = jetstream(hostNc);
    const t1 = performance.now();
    backlog.attach({ publish: (subj, body, msgId) => js.publish(subj, body, { msgID: msgId }) });
    if (!(await backlog.drained(PHASE_LIMIT_MS))) throw new Error('backlog not acknowledged in time');
    const backfillMs = performance.now() - t1;
    await backlog.close();
    await hostNc.close();

    // Fan-out: the 100 hosts, then rounds of one call to each at once.
    const fleetLinks = await Promise.all(hosts.slice(1).map(open));
    for (const l of fleetLinks) if (!(await l.whenConnected(30_000))) throw new Error(`${l.host} did not connect`);
    const rounds: number[] = [];
    const deadline = Date.now() + PHASE_LIMIT_MS;
    for (let r = 0; r < FANOUT_ROUNDS + 3 && Date.now() < deadline; r++) {
      const start = performance.now();
      await Promise.all(hosts.slice(1).map((h) => client.call(h, 'core.ping', [], 'bench', [])));
      if (r >= 3) rounds.push(performance.now() - start);
    }
    const sorted = Float64Array.from(rounds);
    const fan = latencySummary(sorted, sorted.length);
    return {
      fleetSequential, fleetPipelined, socketSequential, socketPipelined, bareSequential, barePipelined,
      history: {
        jobs: DAEMON_JOBS, fleet: fleetJobs, local: localJobs, outboxOnly: outboxJobs, allAckedMs, messagesPerSecond: (2 * DAEMON_JOBS) / (allAckedMs / 1000),
        backfill: HISTORY_JOBS, backfillMs, backfillPerSecond: HISTORY_JOBS / (backfillMs / 1000),
      },
      fanout: { hosts: FANOUT_HOSTS, rounds: rounds.length, p50Ms: median(rounds), p99Ms: fan.p99Ms },
    };
  } finally {
    if (daemon !== null) await stop(daemon, 10_000);
    await client.close();
    for (const l of links) await l.stop();
    for (const db of dbs) await db.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const f = (n: number, d = 2) => n.toFixed(d);

export function fleetLines(r: FleetBenchResult): string[] {
  const row = (name: string, x: LatencyFigures) => `  ${name.padEnd(40)} p50 ${f(x.p50Ms, 3)} ms  p99 ${f(x.p99Ms, 3)} ms  ${f(x.callsPerSecond, 0)} calls/s${x.cpuUs === undefined ? '' : `  daemon ${f(x.cpuUs, 0)} µs/call`}`;
  const h = r.history;
  return [
    'Calls to one daemon (core.ping)',
    row('fleet call via NATS, sequential', r.fleetSequential),
    row(`fleet call via NATS, ${IN_FLIGHT} in flight`, r.fleetPipelined),
    row('unix socket, sequential', r.socketSequential),
    row(`unix socket, ${IN_FLIGHT} in flight`, r.socketPipelined),
    row('bare NATS request (floor), sequential', r.bareSequential),
    row(`bare NATS request (floor), ${IN_FLIGHT} in flight`, r.barePipelined),
    `  fleet / unix socket p50: ${f(r.fleetSequential.p50Ms / r.socketSequential.p50Ms)}x sequential, ${f(r.fleetPipelined.p50Ms / r.socketPipelined.p50Ms)}x at ${IN_FLIGHT} in flight`,
    `History: ${h.jobs} jobs on the daemon (jobs/s, daemon CPU per job):`,
    `  fleet mode off                         ${f(h.local.jobsPerSecond, 0)} jobs/s  ${f(h.local.cpuUs, 0)} µs`,
    `  on, NATS down (entries written only)   ${f(h.outboxOnly.jobsPerSecond, 0)} jobs/s  ${f(h.outboxOnly.cpuUs, 0)} µs (${f(h.outboxOnly.cpuUs / h.local.cpuUs)}x)`,
    `  on, publishing (nats-server here too)  ${f(h.fleet.jobsPerSecond, 0)} jobs/s  ${f(h.fleet.cpuUs, 0)} µs (${f(h.fleet.cpuUs / h.local.cpuUs)}x, publishing included)`,
    `  every entry acknowledged by JetStream ${f(h.allAckedMs, 0)} ms after the first job: ${f(h.messagesPerSecond, 0)} messages/s (2 a job)`,
    `  backfill: a backlog of ${h.backfill} entries published and acknowledged in ${f(h.backfillMs, 0)} ms: ${f(h.backfillPerSecond, 0)} messages/s`,
    `Fan-out: one call to each of ${r.fanout.hosts} hosts at once, last answer after p50 ${f(r.fanout.p50Ms)} ms, p99 ${f(r.fanout.p99Ms)} ms (${r.fanout.rounds} rounds)`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (natsServerPath() === null) {
    console.log('fleet bench skipped: nats-server not found (apt-get install -y nats-server)');
  } else {
    const r = await benchFleet();
    for (const line of fleetLines(r)) console.log(line);
  }
}
