// `npm run bench`: core.ping through three servers on the same machine, same transport (unix
// socket), same client: a raw ws echo (the ceiling), ws + json-rpc-2.0 (the bare alternative) and
// the Midship daemon with everything a real start has. Servers run on core 0, the load generator
// on core 1 (taskset), one client process per measurement. Rounds are interleaved, with the
// server order rotated, and the median of each figure is reported.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpuMs } from './cpu.js';
import { busyFraction, systemBusyMs, waitForQuiet } from './idle.js';
import { parseOptions, type BenchOptions } from './options.js';
import { ratios, ratioTable, table, targetLines, targets, type Measured, type Row, type Scenario } from './report.js';
import { SERVER_NAMES, startServers, stopServers, type RunningServer, type ServerName } from './servers.js';
import { pinningAvailable, runToEnd, startNode } from './spawn.js';
import { median } from './stats.js';
import { SECTIONS, runSections } from './sections.js';
import type { LoadJob, LoadResult } from './types.js';

const SCENARIOS: Array<Scenario & { connections: number; inFlight: number }> = [
  { id: 'pipelined-8x16', label: '8 conn x 16 in flight', kind: 'pipelined', connections: 8, inFlight: 16 },
  { id: 'pipelined-50x4', label: '50 conn x 4 in flight', kind: 'pipelined', connections: 50, inFlight: 4 },
  { id: 'sequential', label: 'sequential (1 x 1)', kind: 'sequential', connections: 1, inFlight: 1 },
];

/** No single phase may send more than this, whatever the duration asked for. */
const MAX_CALLS_PER_RUN = 4_000_000;

const root = fileURLToPath(new URL('../../', import.meta.url));
const clientScript = fileURLToPath(new URL('./client.js', import.meta.url));

function jobFor(s: (typeof SCENARIOS)[number], server: RunningServer, o: BenchOptions): LoadJob {
  if (s.kind === 'sequential') {
    return { mode: 'sequential', url: server.url, expect: server.expect, warmupCalls: o.seqWarmupCalls, measureCalls: o.seqCalls };
  }
  return {
    mode: 'pipelined', url: server.url, expect: server.expect, connections: s.connections, inFlight: s.inFlight,
    warmupMs: o.warmupMs, measureMs: o.measureMs, maxCalls: MAX_CALLS_PER_RUN,
  };
}

async function measure(job: LoadJob, server: RunningServer, core: number | null): Promise<Measured> {
  const pid = server.child.proc.pid!;
  const cpuBefore = await processCpuMs(pid);
  const sysBefore = await systemBusyMs();
  const wallStart = performance.now();
  const child = startNode(clientScript, [JSON.stringify(job)], core);
  // Sequential runs are bounded by their call count; 60 s covers a very slow server.
  const limit = job.mode === 'pipelined' ? job.warmupMs + job.measureMs + 15_000 : 60_000;
  const out = await runToEnd(child, limit);
  const cpuAfter = await processCpuMs(pid);
  const sysAfter = await systemBusyMs();
  const wallMs = performance.now() - wallStart;
  const r = JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
  const serverMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  const serverUsPerCall = serverMs === null || r.answered === 0 ? null : (serverMs * 1000) / r.answered;
  // Whatever the machine did beyond our server and client (the orchestrator itself is idle).
  const foreignCores = serverMs === null || sysBefore === null || sysAfter === null
    ? null
    : Math.max(0, sysAfter - sysBefore - serverMs - r.clientCpuMs) / wallMs;
  return { ...r, serverUsPerCall, foreignCores };
}

/** Other processes using more than this share of a core during a run make its figures suspect. */
const FOREIGN_LIMIT = 0.1;

function foreign(r: Measured): string {
  if (r.foreignCores === null || r.foreignCores <= FOREIGN_LIMIT) return '';
  return `  [other processes used ${Math.round(r.foreignCores * 100)}% of a core]`;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), SECTIONS.map((s) => s.name));
  const pin = pinningAvailable();
  const serverCore = pin.ok ? 0 : null;
  const clientCore = pin.ok ? 1 : null;
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-'));
  const outDir = join(root, '.bench');
  await mkdir(outDir, { recursive: true });

  console.log(`midship bench: node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x ${cpus().length}`);
  console.log(pin.ok
    ? 'pinning: servers on core 0, load client on core 1 (taskset)'
    : `pinning: none (${pin.why}); server and client share the cores, figures are noisier`);
  console.log('transport: WebSocket over a unix socket for all three servers (Midship: the local-administrator socket)');
  // Other work on the machine moves these figures more than anything measured here.
  const busyBefore = await busyFraction(1000);
  if (busyBefore !== null) {
    const pct = Math.round(busyBefore * 100);
    console.log(`CPU busy before start: ${pct}%${busyBefore > 0.15 ? '  WARNING: something else is running; figures will be noisy' : ''}`);
  }
  console.log(`rounds: ${o.rounds}, pipelined: ${o.warmupMs} ms warm-up + ${o.measureMs} ms measured, sequential: ${o.seqWarmupCalls} warm-up + ${o.seqCalls} measured calls`);
  console.log(o.waitQuietMs > 0 ? `each run first waits (up to ${o.waitQuietMs / 1000} s) for the machine to be quiet\n` : '');

  const servers = await startServers(dir, serverCore, o.profile ? outDir : null);
  const results = new Map<string, Measured[]>();
  const key = (scenario: string, server: ServerName) => `${scenario}\0${server}`;
  try {
    for (let round = 0; round < o.rounds; round++) {
      // Rotate the order so no server always runs first (or last) in a round.
      const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
      for (const s of SCENARIOS) {
        for (const server of order) {
          if (o.waitQuietMs > 0) {
            const busy = await waitForQuiet(0.15, o.waitQuietMs);
            if (busy !== null && busy > 0.15) console.log(`(machine still ${Math.round(busy * 100)}% busy after waiting ${o.waitQuietMs / 1000} s; measuring anyway)`);
          }
          const r = await measure(jobFor(s, server, o), server, clientCore);
          const list = results.get(key(s.id, server.name)) ?? [];
          list.push(r);
          results.set(key(s.id, server.name), list);
          const err = r.errors > 0 ? `  ${r.errors} BAD ANSWERS, first: ${r.firstError}` : '';
          console.log(`round ${round + 1}/${o.rounds}  ${s.label.padEnd(22)} ${server.name.padEnd(13)} ${Math.round(r.callsPerSec).toLocaleString('en-US').padStart(9)} calls/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  server ${r.serverUsPerCall?.toFixed(1) ?? '?'} us/call  client busy ${Math.round(r.clientBusy * 100)}%${foreign(r)}${err}`);
        }
      }
    }
  } finally {
    await stopServers(servers);
    await rm(dir, { recursive: true, force: true });
  }

  const rows: Row[] = [];
  for (const s of SCENARIOS) {
    for (const name of SERVER_NAMES) {
      const rs = results.get(key(s.id, name))!;
      rows.push({
        scenario: s,
        server: name,
        callsPerSec: median(rs.map((r) => r.callsPerSec)),
        p50Ms: median(rs.map((r) => r.p50Ms)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        serverUsPerCall: rs.some((r) => r.serverUsPerCall === null) ? null : median(rs.map((r) => r.serverUsPerCall!)),
        clientBusy: median(rs.map((r) => r.clientBusy)),
        errors: rs.reduce((n, r) => n + r.errors, 0),
        rounds: rs,
      });
    }
  }
  const rs = ratios(rows, SCENARIOS);
  const ts = targets(rs, SCENARIOS);
  console.log(`\nMedians of ${o.rounds} round(s):\n`);
  console.log(table(rows));
  console.log('\nserver CPU: the server process\'s CPU time over the run divided by the calls it answered (warm-up included).');
  console.log('client busy: the load client\'s CPU share in the measured window; near 100% means the client, not the server, set the rate.');
  console.log('\nRatios:\n');
  console.log(ratioTable(rs, SCENARIOS));
  console.log('\nTargets:\n');
  console.log(targetLines(ts));
  const disturbed = rows.flatMap((r) => r.rounds).filter((r) => r.foreignCores !== null && r.foreignCores > FOREIGN_LIMIT).length;
  if (disturbed > 0) {
    console.log(`\nWARNING: other processes used more than ${FOREIGN_LIMIT * 100}% of a core during ${disturbed} of ${rows.length * o.rounds} runs (marked above); run again on a quiet machine`);
  }
  const bad = rows.filter((r) => r.errors > 0);
  if (bad.length > 0) console.log(`\nWARNING: wrong answers from ${bad.map((r) => `${r.server} (${r.scenario.label})`).join(', ')}; those figures are not valid`);

  const sections = await runSections(o.skip, { server: serverCore, client: clientCore });

  const file = join(outDir, 'results.json');
  await writeFile(file, `${JSON.stringify({
    at: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? null,
    cores: cpus().length,
    pinned: pin.ok,
    cpuBusyBefore: busyBefore,
    transport: 'unix socket',
    options: { ...o, skip: [...o.skip] },
    rows: rows.map((r) => ({ ...r, scenario: r.scenario.id })),
    ratios: rs,
    targets: ts,
    ...sections,
  }, null, 2)}\n`);
  console.log(`\nresults: ${file}${o.profile ? ` (daemon CPU profile in ${outDir})` : ''}`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
