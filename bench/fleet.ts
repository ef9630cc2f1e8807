// Fleet over NATS (issue 21), against a real nats-server started from a `fleet init` conf:
//   - call latency: a signed FleetClient.call through NATS to a HostLink with a trivial
//     dispatcher (signature made and checked, nonce recorded), p50/p99, sequential and 16 in
//     flight; beside it the same round trip as a bare NATS request/reply, the floor;
//   - history throughput: jobs written to level with their outbox entry in the same batch, until
//     JetStream acknowledged every one (file storage, msg-id de-duplication on); and a backlog
//     written while disconnected, published at once (the backfill after an outage);
//   - fan-out: one call to each of 100 hosts at once (100 links, one connection each, in this
//     process), the time until the last answer is in.
// Standalone: `npm run build && node dist/bench/fleet.js`. Bounded: fixed counts, and every
// phase has a time limit. Only 127.0.0.1 is used.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { FleetClient, fleetInit, HistoryOutbox, HostLink, loadCredentials, parseTrustedKeys, rpcSubject } from '../methods/fleet/index.js';
import { hostInboxPrefix } from '../methods/fleet/subjects.js';
import { freePort, NatsServer, natsServerPath } from '../tests/helpers/nats.js';
import { latencySummary, median } from './stats.js';

const SEQUENTIAL_CALLS = 3_000;
const PIPELINED_CALLS = 16_000;
const IN_FLIGHT = 16;
const HISTORY_JOBS = 20_000;
const FANOUT_HOSTS = 100;
const FANOUT_ROUNDS = 30;
const PHASE_LIMIT_MS = 120_000;

type Root = ClassicLevel<string, unknown>;

export interface LatencyFigures { p50Ms: number; p99Ms: number; callsPerSecond: number }

export interface FleetBenchResult {
  signedSequential: LatencyFigures;
  signedPipelined: LatencyFigures;
  bareSequential: LatencyFigures;
  barePipelined: LatencyFigures;
  history: { jobs: number; writeMs: number; allAckedMs: number; jobsPerSecond: number; backfillMs: number; backfillPerSecond: number };
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

async function hostConnection(credsPath: string, url: string) {
  const creds = await loadCredentials(credsPath);
  return connect({ servers: url, authenticator: creds.authenticator, inboxPrefix: hostInboxPrefix('bench') });
}

export async function benchFleet(): Promise<FleetBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-fleet-'));
  const hosts = ['bench', ...Array.from({ length: FANOUT_HOSTS }, (_, i) => `h${String(i).padStart(3, '0')}`)];
  const port = await freePort();
  const init = await fleetInit(dir, { hosts, natsPort: port });
  const server = await new NatsServer(init.confPath, port).start();
  const db: Root = new ClassicLevel<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
  await db.open();
  // One outbox per simulated host on this one database (a daemon has one): each listens for writes.
  db.setMaxListeners(FANOUT_HOSTS + 10);
  const trusted = parseTrustedKeys(await readFile(init.signerPubPath, 'utf8'));
  const links: Array<HostLink<Root>> = [];
  const open = async (host: string) => {
    const l = await HostLink.open<Root>({
      servers: server.url, host, credentials: await loadCredentials(init.creds[host]!), trusted, version: 'bench',
      jobCounts: () => ({}), outboxDb: db.sublevel<string, unknown>(`outbox_${host}`, { valueEncoding: 'json' }),
      dispatch: () => 'pong', maxInFlight: 256,
    });
    links.push(l);
    return l;
  };
  const client = await FleetClient.fromFile(server.url, init.signerKeyPath);
  try {
    const bench = await open('bench');
    if (!(await bench.whenConnected(30_000))) throw new Error('the bench host did not connect');

    // Calls: signed through the host link, then bare request/reply as the floor.
    const call = () => client.call('bench', 'core.ping', [], 'bench', ['READONLY_ADMIN']);
    await latencies(300, 1, call);
    const signedSequential = await latencies(SEQUENTIAL_CALLS, 1, call);
    const signedPipelined = await latencies(PIPELINED_CALLS, IN_FLIGHT, call);
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

    // History: one level batch per job change (as the job store writes), outbox entry included.
    const jobs = db.sublevel<string, unknown>('jobs', { valueEncoding: 'json' });
    const t0 = performance.now();
    for (let id = 1; id <= HISTORY_JOBS; id++) {
      const job = { id, state: 'SUCCESS', method: 'cronjob.run', arguments: [id], result: null, time_started: Date.now(), time_finished: Date.now() };
      const op = bench.outboxOp(job);
      if (op === null) throw new Error('outbox full');
      await db.batch([{ type: 'put', sublevel: jobs, key: String(id).padStart(12, '0'), value: job }, op]);
    }
    const writeMs = performance.now() - t0;
    if (!(await bench.drained(PHASE_LIMIT_MS))) throw new Error('history not acknowledged in time');
    const allAckedMs = performance.now() - t0;

    // Backfill: a backlog written while disconnected (batches of 500), then published at once.
    const backlog = new HistoryOutbox<Root>({ db: db.sublevel<string, unknown>('backlog', { valueEncoding: 'json' }), host: 'bench' });
    await backlog.open();
    for (let id = 1; id <= HISTORY_JOBS; id += 500) {
      const ops = [];
      for (let j = id; j < id + 500; j++) ops.push(backlog.outboxOp({ id: j, state: 'FAILED', method: 'cronjob.run', arguments: [j], result: null })!);
      await db.batch(ops);
    }
    const hostNc = await hostConnection(init.creds.bench!, server.url);
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
      signedSequential, signedPipelined, bareSequential, barePipelined,
      history: { jobs: HISTORY_JOBS, writeMs, allAckedMs, jobsPerSecond: HISTORY_JOBS / (allAckedMs / 1000), backfillMs, backfillPerSecond: HISTORY_JOBS / (backfillMs / 1000) },
      fanout: { hosts: FANOUT_HOSTS, rounds: rounds.length, p50Ms: median(rounds), p99Ms: fan.p99Ms },
    };
  } finally {
    await client.close();
    for (const l of links) await l.stop();
    await db.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const f = (n: number, d = 2) => n.toFixed(d);

export function fleetLines(r: FleetBenchResult): string[] {
  const row = (name: string, x: LatencyFigures) => `  ${name.padEnd(34)} p50 ${f(x.p50Ms, 3)} ms  p99 ${f(x.p99Ms, 3)} ms  ${f(x.callsPerSecond, 0)} calls/s`;
  return [
    'Fleet over NATS (nats-server, 127.0.0.1)',
    row('signed call, sequential', r.signedSequential),
    row(`signed call, ${IN_FLIGHT} in flight`, r.signedPipelined),
    row('bare NATS request, sequential', r.bareSequential),
    row(`bare NATS request, ${IN_FLIGHT} in flight`, r.barePipelined),
    `  signing + checking costs ${f(r.signedSequential.p50Ms / r.bareSequential.p50Ms)}x the bare round trip (p50, sequential)`,
    `  history: ${r.history.jobs} jobs written in ${f(r.history.writeMs, 0)} ms (level, one batch each), all acknowledged by JetStream after ${f(r.history.allAckedMs, 0)} ms: ${f(r.history.jobsPerSecond, 0)} jobs/s`,
    `  backfill: a backlog of ${r.history.jobs} entries published and acknowledged in ${f(r.history.backfillMs, 0)} ms: ${f(r.history.backfillPerSecond, 0)} messages/s`,
    `  fan-out: one call to each of ${r.fanout.hosts} hosts at once, last answer after p50 ${f(r.fanout.p50Ms)} ms, p99 ${f(r.fanout.p99Ms)} ms (${r.fanout.rounds} rounds)`,
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
