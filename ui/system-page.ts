// The System page: what the host is (system.info), and live charts of CPU, memory, network, disk
// and pool usage from reporting.realtime (one point every 2 s, the last 5 minutes kept), or the
// history of the last hour, day or 30 days from reporting.get_data.
import { useEffect, useState } from 'preact/hooks';
import { formatFullTime } from './format.js';
import { html } from './html.js';
import type { RpcClient } from './rpc.js';
import { Chart, type Columns } from './system-charts.js';

interface SystemInfo {
  version: string;
  hostname: string;
  physmem: number;
  model: string;
  cores: number;
  physical_cores: number;
  loadavg: number[];
  uptime_seconds: number;
  boottime: { $date: number };
  timezone: string;
  system_product: string | null;
  system_manufacturer: string | null;
}

interface Realtime {
  cpu: Record<string, { usage: number; temp: number | null }>;
  memory: { physical_memory_total: number; physical_memory_available: number; arc_size: number };
  disks: { read_bytes: number; write_bytes: number; busy: number };
  interfaces: Record<string, { received_bytes_rate: number; sent_bytes_rate: number }>;
  pools: Record<string, { used?: number; total?: number; available?: number }>;
}

interface GraphData { name: string; identifier: string | null; legend: string[]; data: Array<Array<number | null>> }

type Range = 'live' | 'hour' | 'day' | 'month';
const RANGES: Array<{ key: Range; label: string; seconds: number }> = [
  { key: 'live', label: 'Live', seconds: 0 },
  { key: 'hour', label: '1 hour', seconds: 3600 },
  { key: 'day', label: '24 hours', seconds: 86400 },
  { key: 'month', label: '30 days', seconds: 30 * 86400 },
];
const LIVE_POINTS = 150;

/** Every chart's columns: time, then its series. */
interface Charts {
  cpu: Columns;
  memory: Columns;
  network: Columns;
  disk: Columns;
  pools: { names: string[]; columns: Columns };
}

const empty = (n: number): Columns => [[], ...Array.from({ length: n }, () => [] as Array<number | null>)];
const emptyCharts = (): Charts => ({ cpu: empty(1), memory: empty(2), network: empty(2), disk: empty(2), pools: { names: [], columns: empty(0) } });

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? '-' : ''}${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
const rate = (n: number) => `${bytes(n)}/s`;
const percent = (n: number) => `${Math.round(n * 10) / 10} %`;

function uptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}

/** Appends one realtime payload to the live columns (a new array each time, so charts update). */
function appendLive(prev: Charts, p: Realtime, at: number): Charts {
  const push = (cols: Columns, values: Array<number | null>): Columns =>
    cols.map((c, i) => [...c, i === 0 ? at : values[i - 1] ?? null].slice(-LIVE_POINTS)) as Columns;
  const ifaces = Object.values(p.interfaces);
  const names = [...new Set([...prev.pools.names, ...Object.keys(p.pools)])].sort();
  // A pool that appears later gets nulls for the time before it.
  const poolCols = names.map((n) => {
    const old = prev.pools.names.indexOf(n);
    return old >= 0 ? prev.pools.columns[old + 1]! : prev.pools.columns[0].map(() => null);
  });
  const poolValues = names.map((n) => {
    const u = p.pools[n];
    return u?.used !== undefined && u.total ? (100 * u.used) / u.total : null;
  });
  return {
    cpu: push(prev.cpu, [p.cpu.cpu?.usage ?? null]),
    memory: push(prev.memory, [p.memory.physical_memory_total - p.memory.physical_memory_available, p.memory.physical_memory_available]),
    network: push(prev.network, [ifaces.reduce((a, i) => a + i.received_bytes_rate, 0), ifaces.reduce((a, i) => a + i.sent_bytes_rate, 0)]),
    disk: push(prev.disk, [p.disks.read_bytes, p.disks.write_bytes]),
    pools: { names, columns: push([prev.pools.columns[0], ...poolCols] as Columns, poolValues) },
  };
}

/** Sums columns `names` of several graph instances on their shared time grid, times `scale`. */
function summed(graphs: GraphData[], names: string[], scale: number): Columns {
  const rows = new Map<number, Array<number | null>>();
  for (const g of graphs) {
    const idx = names.map((n) => g.legend.indexOf(n));
    for (const r of g.data) {
      const t = r[0] as number;
      const row = rows.get(t) ?? names.map(() => null);
      idx.forEach((k, i) => {
        const v = k > 0 ? r[k] : null;
        if (typeof v === 'number') row[i] = (row[i] ?? 0) + v * scale;
      });
      rows.set(t, row);
    }
  }
  const times = [...rows.keys()].sort((a, b) => a - b);
  return [times, ...names.map((_, i) => times.map((t) => rows.get(t)![i] ?? null))] as Columns;
}

async function loadHistory(rpc: RpcClient, seconds: number, physmem: number): Promise<Charts> {
  const end = Math.floor(Date.now() / 1000);
  const query = { start: end - seconds, end, aggregate: false };
  const [cpu, memory, ifaces, disks, pools] = await Promise.all(['cpu', 'memory', 'interface', 'disk', 'pool'].map((name) =>
    rpc.call<GraphData[]>('reporting.get_data', [[{ name }], query])));
  const mem = summed(memory!, ['available'], 1);
  const poolNames = pools!.map((p) => p.identifier ?? p.name);
  // Percent used per pool, on the union of their times.
  const poolSeries = pools!.map((p) => {
    const used = p.legend.indexOf('used');
    const total = p.legend.indexOf('total');
    return new Map(p.data.map((r) => {
      const u = r[used];
      const t = r[total];
      return [r[0] as number, typeof u === 'number' && typeof t === 'number' && t > 0 ? (100 * u) / t : null];
    }));
  });
  const times = [...new Set(pools!.flatMap((p) => p.data.map((r) => r[0] as number)))].sort((a, b) => a - b);
  return {
    cpu: summed(cpu!, ['cpu'], 1),
    memory: [mem[0], mem[1]!.map((v) => (v === null ? null : physmem - v)), mem[1]!],
    // Interface history is in kilobits/s, disk history in KiB/s (TrueNAS's units).
    network: summed(ifaces!, ['received', 'sent'], 1000 / 8),
    disk: summed(disks!, ['reads', 'writes'], 1024),
    pools: { names: poolNames, columns: [times, ...poolSeries.map((m) => times.map((t) => m.get(t) ?? null))] as Columns },
  };
}

function Facts({ info }: { info: SystemInfo }) {
  const fact = (label: string, value: string, testid: string) => html`<div class="stat"><span class="label">${label}</span><span class="fact" data-testid=${testid}>${value}</span></div>`;
  return html`
    <div class="facts" data-testid="system-facts">
      ${fact('Hostname', info.hostname, 'system-hostname')}
      ${fact('Version', `Midship ${info.version}`, 'system-version')}
      ${fact('CPU', `${info.model} \u00b7 ${info.cores} threads, ${info.physical_cores} cores`, 'system-cpu')}
      ${fact('Memory', bytes(info.physmem), 'system-memory')}
      ${fact('Load', info.loadavg.map((l) => l.toFixed(2)).join(' \u00b7 '), 'system-load')}
      ${fact('Up', `${uptime(info.uptime_seconds)} (since ${formatFullTime(info.boottime.$date)})`, 'system-uptime')}
      ${fact('Timezone', info.timezone, 'system-timezone')}
      ${info.system_product ? fact('Hardware', [info.system_manufacturer, info.system_product].filter(Boolean).join(' '), 'system-product') : null}
    </div>`;
}

export function SystemPage({ rpc }: { rpc: RpcClient }) {
  const [info, setInfo] = useState<SystemInfo | null>(null);
  const [range, setRange] = useState<Range>('live');
  const [live, setLive] = useState<Charts>(emptyCharts);
  const [history, setHistory] = useState<Charts | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let gone = false;
    const load = () => rpc.call<SystemInfo>('system.info').then((i) => !gone && (setInfo(i), setError(null)), (err: unknown) => !gone && setError((err as Error).message));
    void load();
    const timer = setInterval(load, 30_000);
    const offReconnect = rpc.onReconnected(() => void load());
    return () => {
      gone = true;
      clearInterval(timer);
      offReconnect();
    };
  }, [rpc]);

  // Live figures are collected while the page is open, whichever range is shown.
  useEffect(() => {
    let off: (() => void) | null = null;
    let gone = false;
    rpc.subscribe('reporting.realtime', (u) => {
      if (u.fields) setLive((prev) => appendLive(prev, u.fields as unknown as Realtime, Date.now() / 1000));
    }).then((unsub) => (gone ? unsub() : (off = unsub)), (err: unknown) => setError((err as Error).message));
    return () => {
      gone = true;
      off?.();
    };
  }, [rpc]);

  useEffect(() => {
    if (range === 'live' || info === null) return;
    let gone = false;
    setHistory(null);
    loadHistory(rpc, RANGES.find((r) => r.key === range)!.seconds, info.physmem).then(
      (h) => !gone && setHistory(h),
      (err: unknown) => !gone && setError((err as Error).message),
    );
    return () => {
      gone = true;
    };
  }, [range, info === null, rpc]);

  const shown = range === 'live' ? live : history;
  return html`
    <div class="system-page">
      <h1>System</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${info ? html`<${Facts} info=${info} />` : html`<p class="muted" role="status">Loading\u2026</p>`}
      <div class="segmented ranges" role="group" aria-label="Time range">
        ${RANGES.map((r) => html`<button type="button" class=${range === r.key ? 'primary' : ''} aria-pressed=${range === r.key} data-testid=${`range-${r.key}`} onClick=${() => setRange(r.key)}>${r.label}</button>`)}
      </div>
      ${shown === null ? html`<p class="muted" role="status">Loading history\u2026</p>` : html`
        <div class="charts" data-range=${range}>
          <${Chart} id="cpu" title="CPU usage" series=${['usage']} data=${shown.cpu} format=${percent} range=${[0, 100]} />
          <${Chart} id="memory" title="Memory" series=${['used', 'available']} data=${shown.memory} format=${bytes} />
          <${Chart} id="network" title="Network (all interfaces)" series=${['received', 'sent']} data=${shown.network} format=${rate} />
          <${Chart} id="disk" title="Disk I/O (all disks)" series=${['read', 'written']} data=${shown.disk} format=${rate} />
          ${shown.pools.names.length > 0
            ? html`<${Chart} id="pools" title="Pool usage" series=${shown.pools.names} data=${shown.pools.columns} format=${percent} range=${[0, 100]} />`
            : html`<section class="card chart" data-testid="chart-pools"><h3>Pool usage</h3><p class="muted">No pools.</p></section>`}
        </div>`}
    </div>`;
}
