// The load generator, run as its own process (pinned to another core than the server). It takes
// one LoadJob as a JSON argument, drives core.ping calls and prints one LoadResult JSON line.
// Every server gets exactly this client, so its own cost is the same in every row.
import { WebSocket, type RawData } from 'ws';
import { latencySummary } from './stats.js';
import type { Expect, LoadJob, LoadResult, PipelinedJob, SequentialJob } from './types.js';

function request(id: number): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"core.ping","params":[]}`;
}

/** Checks one answer; returns its id, or an error text. */
function check(data: RawData, expect: Expect): number | string {
  let msg: { id?: unknown; result?: unknown; method?: unknown; error?: unknown };
  try {
    msg = JSON.parse(String(data)) as typeof msg;
  } catch {
    return `unparsable answer: ${String(data).slice(0, 200)}`;
  }
  if (typeof msg.id !== 'number') return `answer without a numeric id: ${String(data).slice(0, 200)}`;
  const ok = expect === 'echo' ? msg.method === 'core.ping' : msg.result === 'pong';
  return ok ? msg.id : `unexpected answer: ${String(data).slice(0, 200)}`;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Close handshakes, bounded: a server that does not answer the close must not stall the bench. */
function closeAll(sockets: WebSocket[]): Promise<unknown> {
  return Promise.race([
    Promise.all(sockets.map((ws) => new Promise((resolve) => {
      ws.once('close', resolve);
      ws.close(1000);
    }))),
    new Promise((resolve) => setTimeout(resolve, 1000).unref()),
  ]);
}

function busy(cpu: NodeJS.CpuUsage, elapsedMs: number): number {
  return (cpu.user + cpu.system) / 1000 / elapsedMs;
}

function totalCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

class Errors {
  count = 0;
  first: string | null = null;
  add(text: string): void {
    this.count++;
    this.first ??= text;
  }
}

async function pipelined(job: PipelinedJob): Promise<LoadResult> {
  const sockets = await Promise.all(Array.from({ length: job.connections }, () => open(job.url)));
  const errors = new Errors();
  const latencies = new Float64Array(job.maxCalls);
  let recorded = 0;
  let completedInWindow = 0;
  let answered = 0;
  let sent = 0;
  let outstanding = 0;
  let phase: 'warmup' | 'measure' | 'drain' = 'warmup';
  let windowStart = 0;
  let drained: (() => void) | null = null;

  for (const ws of sockets) {
    const started = new Map<number, number>();
    let nextId = 1;
    const send = (): void => {
      if (phase === 'drain' || sent >= job.maxCalls) return;
      const id = nextId++;
      sent++;
      outstanding++;
      started.set(id, performance.now());
      ws.send(request(id));
    };
    ws.on('message', (data: RawData) => {
      const now = performance.now();
      const id = check(data, job.expect);
      if (typeof id === 'string') {
        errors.add(id);
        return;
      }
      const t0 = started.get(id);
      if (t0 === undefined) {
        errors.add(`answer to an unknown id ${id}`);
        return;
      }
      started.delete(id);
      outstanding--;
      answered++;
      if (phase === 'measure') {
        completedInWindow++;
        // Latency only for calls sent inside the window, so warm-up queueing does not leak in.
        if (t0 >= windowStart) latencies[recorded++] = now - t0;
      }
      send();
      if (outstanding === 0 && drained) drained();
    });
    for (let k = 0; k < job.inFlight; k++) send();
  }

  await new Promise((r) => setTimeout(r, job.warmupMs));
  phase = 'measure';
  windowStart = performance.now();
  const cpuStart = process.cpuUsage();
  await new Promise((r) => setTimeout(r, job.measureMs));
  phase = 'drain';
  const elapsedMs = performance.now() - windowStart;
  const cpu = process.cpuUsage(cpuStart);
  // Let the calls still out come back (bounded) so the server does not see an abrupt close.
  await new Promise<void>((resolve) => {
    if (outstanding === 0) return resolve();
    drained = resolve;
    setTimeout(resolve, 2000).unref();
  });
  await closeAll(sockets);
  return {
    calls: completedInWindow,
    elapsedMs,
    callsPerSec: (completedInWindow / elapsedMs) * 1000,
    ...latencySummary(latencies, recorded),
    errors: errors.count,
    firstError: errors.first,
    answered,
    clientBusy: busy(cpu, elapsedMs),
    clientCpuMs: totalCpuMs(),
  };
}

async function sequential(job: SequentialJob): Promise<LoadResult> {
  const ws = await open(job.url);
  const errors = new Errors();
  const latencies = new Float64Array(job.measureCalls);
  let answer: ((data: RawData) => void) | null = null;
  ws.on('message', (data: RawData) => answer?.(data));
  const call = (id: number): Promise<number> => new Promise((resolve) => {
    const t0 = performance.now();
    answer = (data) => {
      const now = performance.now();
      const got = check(data, job.expect);
      if (got !== id) errors.add(typeof got === 'string' ? got : `answer to id ${got}, expected ${id}`);
      resolve(now - t0);
    };
    ws.send(request(id));
  });
  let id = 1;
  for (let i = 0; i < job.warmupCalls; i++) await call(id++);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < job.measureCalls; i++) latencies[i] = await call(id++);
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  await closeAll([ws]);
  return {
    calls: job.measureCalls,
    elapsedMs,
    callsPerSec: (job.measureCalls / elapsedMs) * 1000,
    ...latencySummary(latencies, job.measureCalls),
    errors: errors.count,
    firstError: errors.first,
    answered: job.warmupCalls + job.measureCalls,
    clientBusy: busy(cpu, elapsedMs),
    clientCpuMs: totalCpuMs(),
  };
}

const job = JSON.parse(process.argv[2] ?? 'null') as LoadJob | null;
if (job === null) {
  process.stderr.write('usage: client.js <LoadJob JSON>\n');
  process.exit(2);
}
const result = job.mode === 'pipelined' ? await pipelined(job) : await sequential(job);
process.stdout.write(`${JSON.stringify(result)}\n`);
// Sockets still closing must not keep the process (and the orchestrator) waiting.
process.exit(0);
