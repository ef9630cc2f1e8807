// Turning the measured rows into what is printed: a markdown table (readable in a terminal and
// pasteable into the README), the Midship ratios, and PASS/MISS per target. A miss is reported,
// never an exit status: the bench is a measurement.
import type { ServerName } from './servers.js';
import type { LoadResult } from './types.js';

export interface Scenario {
  id: string;
  label: string;
  kind: 'pipelined' | 'sequential';
}

/** One client run plus the server's CPU time per answered call over that run. */
export type Measured = LoadResult & {
  serverUsPerCall: number | null;
  /** Cores' worth of CPU used by other processes during the run (null: unknown). */
  foreignCores: number | null;
};

export interface Row {
  scenario: Scenario;
  server: ServerName;
  /** Medians over the rounds. */
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverUsPerCall: number | null;
  clientBusy: number;
  errors: number;
  rounds: Measured[];
}

export interface Ratios {
  scenario: string;
  throughputVsEcho: number;
  throughputVsJsonRpc2: number;
  p99VsEcho: number;
  p99VsJsonRpc2: number;
  /** Server CPU per call; null where /proc is missing. */
  cpuVsEcho: number | null;
  cpuVsJsonRpc2: number | null;
}

export interface Target {
  text: string;
  value: number;
  pass: boolean;
}

const rate = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(3);
const x = (n: number) => n.toFixed(2);

function find(rows: Row[], scenario: string, server: ServerName): Row {
  const r = rows.find((row) => row.scenario.id === scenario && row.server === server);
  if (!r) throw new Error(`no result for ${server} in ${scenario}`);
  return r;
}

const perCall = (n: number | null) => (n === null ? 'n/a' : n.toFixed(1));
const pct = (n: number) => `${Math.round(n * 100)}%`;
const div = (a: number | null, b: number | null) => (a === null || b === null ? null : a / b);

export function table(rows: Row[]): string {
  const lines = [
    '| Load | Server | calls/s | p50 (ms) | p99 (ms) | server CPU (µs/call) | client busy |',
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.scenario.label} | ${r.server} | ${rate(r.callsPerSec)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${perCall(r.serverUsPerCall)} | ${pct(r.clientBusy)} |`);
  }
  return lines.join('\n');
}

export function ratios(rows: Row[], scenarios: Scenario[]): Ratios[] {
  return scenarios.map((s) => {
    const m = find(rows, s.id, 'midship');
    const e = find(rows, s.id, 'echo');
    const j = find(rows, s.id, 'json-rpc-2.0');
    return {
      scenario: s.id,
      throughputVsEcho: m.callsPerSec / e.callsPerSec,
      throughputVsJsonRpc2: m.callsPerSec / j.callsPerSec,
      p99VsEcho: m.p99Ms / e.p99Ms,
      p99VsJsonRpc2: m.p99Ms / j.p99Ms,
      cpuVsEcho: div(m.serverUsPerCall, e.serverUsPerCall),
      cpuVsJsonRpc2: div(m.serverUsPerCall, j.serverUsPerCall),
    };
  });
}

export function ratioTable(rs: Ratios[], scenarios: Scenario[]): string {
  const label = (id: string) => scenarios.find((s) => s.id === id)?.label ?? id;
  const lines = [
    '| Load | calls/s Midship/echo | calls/s Midship/json-rpc-2.0 | p99 Midship/echo | p99 Midship/json-rpc-2.0 | CPU/call Midship/echo | CPU/call Midship/json-rpc-2.0 |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rs) {
    const cpu = (v: number | null) => (v === null ? 'n/a' : x(v));
    lines.push(`| ${label(r.scenario)} | ${x(r.throughputVsEcho)} | ${x(r.throughputVsJsonRpc2)} | ${x(r.p99VsEcho)} | ${x(r.p99VsJsonRpc2)} | ${cpu(r.cpuVsEcho)} | ${cpu(r.cpuVsJsonRpc2)} |`);
  }
  return lines.join('\n');
}

/** The targets: pipelined >= 0.85 x echo and >= json-rpc-2.0; sequential p99 <= 1.3 x echo. */
export function targets(rs: Ratios[], scenarios: Scenario[]): Target[] {
  const out: Target[] = [];
  for (const s of scenarios) {
    const r = rs.find((q) => q.scenario === s.id)!;
    if (s.kind === 'pipelined') {
      out.push({ text: `${s.label}: Midship calls/s >= 0.85 x echo`, value: r.throughputVsEcho, pass: r.throughputVsEcho >= 0.85 });
      out.push({ text: `${s.label}: Midship calls/s >= json-rpc-2.0`, value: r.throughputVsJsonRpc2, pass: r.throughputVsJsonRpc2 >= 1 });
    } else {
      out.push({ text: `${s.label}: Midship p99 <= 1.3 x echo`, value: r.p99VsEcho, pass: r.p99VsEcho <= 1.3 });
    }
  }
  return out;
}

export function targetLines(ts: Target[]): string {
  return ts.map((t) => `${t.pass ? 'PASS' : 'MISS'}  ${t.text}  (ratio ${x(t.value)})`).join('\n');
}
