// Host modules through the daemon (issue 17), measured on a real midshipd child process: the CPU
// one reporting.realtime sample costs the daemon (sampled, encoded, sent), the share of a core it
// spends sending the default 2 s stream to 200 subscribers, and the round trip of one keystroke
// through the web shell (client -> daemon -> pty -> `cat` -> daemon -> client), p50 and p99. The
// daemon's CPU includes its zfs-fuse kstat shell. Run alone with `node dist/bench/hostd.js`.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { Client, type Message } from '../tests/helpers/daemon.js';
import { processWithChildrenCpuMs } from './cpu.js';
import { startNode, stop, waitForLine } from './spawn.js';
import { latencySummary } from './stats.js';

export interface HostdBenchResult {
  /** Daemon CPU ms per realtime sample delivered (one subscriber per interval), idle CPU subtracted: target < 2. */
  sampleCpuMs: number;
  samples: number;
  /** Realtime events that carried ARC figures (none while zfs-fuse stalls, or without ZFS). */
  arcEvents: number;
  /** Share of one core the daemon used while 200 subscribers got the 2 s stream: target < 3 %. */
  fanout200Pct: number;
  /** The same daemon with no subscriber, over the same window. */
  idlePct: number;
  fanoutEvents: number;
  /** Web shell keystroke echo round trip. */
  shellEchoP50Ms: number;
  shellEchoP99Ms: number;
  shellEchoes: number;
}

const mainJs = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
const WINDOW_MS = 30_000;
const SUBSCRIBERS = 200;
const ECHOES = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Daemon CPU ms (with its kstat shell) over `ms` of wall time. */
async function cpuOver(pid: number, ms: number): Promise<{ cpuMs: number; wallMs: number }> {
  const c0 = (await processWithChildrenCpuMs(pid))!;
  const t0 = performance.now();
  await sleep(ms);
  return { cpuMs: (await processWithChildrenCpuMs(pid))! - c0, wallMs: performance.now() - t0 };
}

const isRealtime = (m: Message) => m.method === 'collection_update' && String(m.params?.collection).startsWith('reporting.realtime');

/** How long one step of the shell exchange may take before the bench gives up. */
const STEP_MS = 30_000;

async function shellEcho(socketPath: string, token: string): Promise<Float64Array> {
  const ws = new WebSocket(`ws+unix:${socketPath}:/websocket/shell`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let text = '';
  let answer: Record<string, unknown> | null = null;
  let waiter: (() => void) | null = null;
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) text += data.toString('latin1');
    else answer = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    waiter?.();
  });
  const until = (what: string, pred: () => boolean) => new Promise<void>((resolve, reject) => {
    if (pred()) return resolve();
    const timer = setTimeout(() => {
      waiter = null;
      reject(new Error(`web shell: no ${what} within ${STEP_MS / 1000} s (output so far: ${JSON.stringify(text.slice(-200))})`));
    }, STEP_MS);
    waiter = () => {
      if (!pred()) return;
      waiter = null;
      clearTimeout(timer);
      resolve();
    };
  });
  try {
    ws.send(JSON.stringify({ token, options: {} }));
    // Input before "connected" is not the shell's yet: wait for it.
    await until('answer to the token', () => answer !== null);
    if (answer!.msg !== 'connected') throw new Error(`web shell refused: ${JSON.stringify(answer)}`);
    // No echo from the terminal, each byte handed over at once: `cat` writes back what it reads.
    // The marker is printed once the terminal is raw (the echoed command line holds RE""ADY).
    ws.send(Buffer.from('stty raw -echo; echo RE""ADY; exec cat\r'));
    await until('READY marker', () => text.includes('READY'));
    ws.send(Buffer.from('GO'));
    await until('echo of GO', () => text.endsWith('GO'));
    // One keystroke at a time, each answered by exactly its own byte: anything else would time
    // a stray byte instead of the round trip.
    const base = text.length;
    const rtt = new Float64Array(ECHOES);
    for (let i = 0; i < ECHOES; i++) {
      const ch = String.fromCharCode(97 + (i % 26));
      const t0 = performance.now();
      ws.send(Buffer.from(ch));
      await until('keystroke echo', () => text.length > base + i);
      rtt[i] = performance.now() - t0;
      if (text.length !== base + i + 1 || text[base + i] !== ch) throw new Error(`web shell: sent ${ch}, got ${JSON.stringify(text.slice(base + i))}`);
    }
    return rtt;
  } finally {
    ws.close();
  }
}

export async function benchHostd(core: number | null): Promise<HostdBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-hostd-'));
  // The shell's start-up is not the point, nor is whatever the user's dotfiles run: an empty HOME.
  const home = join(dir, 'home');
  await mkdir(home);
  const child = startNode(mainJs, ['--port', '0', '--data-dir', join(dir, 'data'), '--log-level', 'warn'], core, [], { HOME: home });
  const pid = child.proc.pid!;
  const clients: Client[] = [];
  try {
    await waitForLine(child, 'stdout', (l) => l.includes('dashboard at'), 60_000);
    const socketPath = join(dir, 'data', 'middlewared.sock');
    const root = await Client.connect(socketPath);
    clients.push(root);
    await sleep(2000); // past start-up work
    const idle = await cpuOver(pid, WINDOW_MS);

    // One subscriber at each of 16 distinct intervals: 16 samplers, about 70 samples in the window.
    const intervals = Array.from({ length: 16 }, (_, i) => i + 2);
    for (const n of intervals) await root.call('core.subscribe', `reporting.realtime:{"interval": ${n}}`);
    await sleep(4000);
    const seen0 = root.received.filter(isRealtime).length;
    const sampled = await cpuOver(pid, WINDOW_MS);
    const sampledEvents = root.received.filter(isRealtime).slice(seen0);
    const samples = sampledEvents.length;
    const arcEvents = sampledEvents.filter((m) => ((m.params?.fields as { memory?: { arc_size?: number } } | undefined)?.memory?.arc_size ?? 0) > 0).length;
    await root.close();
    clients.length = 0;
    await sleep(1000);

    for (let i = 0; i < SUBSCRIBERS; i++) {
      const c = await Client.connect(socketPath);
      clients.push(c);
      await c.call('core.subscribe', 'reporting.realtime');
    }
    await sleep(4000);
    const events0 = clients.reduce((a, c) => a + c.received.filter(isRealtime).length, 0);
    const fanout = await cpuOver(pid, WINDOW_MS);
    const events = clients.reduce((a, c) => a + c.received.filter(isRealtime).length, 0) - events0;
    await Promise.all(clients.map((c) => c.close()));
    clients.length = 0;

    const admin = await Client.connect(socketPath);
    clients.push(admin);
    const token = (await admin.call('auth.generate_token', 300, {}, false, true)) as string;
    const rtt = await shellEcho(socketPath, token);
    const { p50Ms, p99Ms } = latencySummary(rtt, rtt.length);
    const idlePerMs = idle.cpuMs / idle.wallMs;
    return {
      sampleCpuMs: samples > 0 ? Math.max(0, sampled.cpuMs - idlePerMs * sampled.wallMs) / samples : NaN,
      samples,
      arcEvents,
      fanout200Pct: (100 * fanout.cpuMs) / fanout.wallMs,
      idlePct: 100 * idlePerMs,
      fanoutEvents: events,
      shellEchoP50Ms: p50Ms,
      shellEchoP99Ms: p99Ms,
      shellEchoes: rtt.length,
    };
  } finally {
    for (const c of clients) c.ws.terminate();
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');

export function hostdLines(r: HostdBenchResult): string {
  return [
    `  through the daemon, one realtime sample     ${r.sampleCpuMs.toFixed(2)} ms CPU (${r.samples} samples at 16 intervals, idle subtracted, ${r.arcEvents} with ARC figures)`,
    `  ${pass(r.sampleCpuMs < 2)}  realtime sample through the daemon under 2 ms of CPU: ${r.sampleCpuMs.toFixed(2)} ms`,
    `  200 subscribers at 2 s, daemon CPU          ${r.fanout200Pct.toFixed(2)} % of a core (idle ${r.idlePct.toFixed(2)} %; ${r.fanoutEvents} events in ${WINDOW_MS / 1000} s)`,
    `  ${pass(r.fanout200Pct < 3)}  daemon under 3 % of a core with 200 subscribers: ${r.fanout200Pct.toFixed(2)} %`,
    `  web shell keystroke echo                    p50 ${r.shellEchoP50Ms.toFixed(2)} ms, p99 ${r.shellEchoP99Ms.toFixed(2)} ms over ${r.shellEchoes}`,
    `  ${pass(r.shellEchoP99Ms < 5)}  web shell echo p99 under 5 ms: ${r.shellEchoP99Ms.toFixed(2)} ms`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchHostd(null).then((r) => console.log(hostdLines(r)), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
