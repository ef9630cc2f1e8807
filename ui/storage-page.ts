// The Storage page: pools with health, usage and topology, a scrub with its live progress
// (pool.scan events); datasets as a tree with their usage; snapshots with a filter and delete;
// replication tasks with run now, live progress (partial replication.query events) and their
// last result. Everything through the public API, kept live by events.
import { useEffect, useState } from 'preact/hooks';
import { formatFullTime, toMs } from './format.js';
import { html } from './html.js';
import { navigate } from './router.js';
import { RpcError, type RpcClient } from './rpc.js';
import { formatBytes, useLive, type Dataset, type Pool, type Replication, type ReplicationState, type Scan, type Snapshot, type Vdev } from './storage-data.js';

const message = (err: unknown) => (err instanceof RpcError ? err.message : (err as Error).message);

function Bar({ pct, label, kind }: { pct: number; label: string; kind: string }) {
  const p = Math.max(0, Math.min(100, pct));
  return html`<div class=${`bar bar-${kind}`} role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(p)} aria-label=${label}><div class="fill" style=${{ width: `${p}%` }}></div></div>`;
}

function Health({ pool }: { pool: Pool }) {
  const ok = pool.healthy && !pool.warning;
  const cls = ok ? 'success' : pool.status === 'ONLINE' ? 'waiting' : 'failed';
  const icon = ok ? '\u2714' : pool.status === 'ONLINE' ? '\u26A0' : '\u2716';
  return html`<span class=${`state state-${cls}`} data-testid="pool-health"><span class="icon" aria-hidden="true">${icon}</span> ${pool.status}${pool.warning ? ' (warning)' : ''}</span>`;
}

function VdevLine({ v, depth }: { v: Vdev; depth: number }) {
  const errors = v.stats.read_errors + v.stats.write_errors + v.stats.checksum_errors;
  return html`
    <li class=${`vdev depth-${depth}`} data-testid="vdev">
      <span class="vdev-name">${v.type === 'DISK' || v.type === 'FILE' ? (v.disk ?? v.name) : v.type}</span>
      <span class=${`vdev-status ${v.status === 'ONLINE' ? '' : 'state-failed'}`}>${v.status}</span>
      ${v.type === 'DISK' || v.type === 'FILE'
        ? html`<span class=${errors > 0 ? 'state-failed' : 'muted'} data-testid="vdev-errors">read ${v.stats.read_errors}, write ${v.stats.write_errors}, checksum ${v.stats.checksum_errors}</span>`
        : null}
      ${v.children.length > 0 ? html`<ul class="vdevs">${v.children.map((c) => html`<${VdevLine} v=${c} depth=${depth + 1} />`)}</ul>` : null}
    </li>`;
}

function ScanLine({ scan }: { scan: Scan | null }) {
  if (scan === null) return html`<span class="muted" data-testid="scan">No scrub yet</span>`;
  const what = scan.function === 'RESILVER' ? 'Resilver' : 'Scrub';
  if (scan.state === 'SCANNING') {
    return html`<div class="progress" data-testid="scan"><${Bar} pct=${scan.percentage} label=${`${what} progress`} kind="running" />
      <div class="progress-text"><span class="pct">${scan.percentage.toFixed(1)}%</span> ${what} in progress</div></div>`;
  }
  const end = toMs(scan.end_time);
  return html`<span data-testid="scan">${what} ${scan.state === 'FINISHED' ? 'finished' : 'canceled'}${end !== null ? ` ${formatFullTime(end)}` : ''}, ${scan.errors} error(s)</span>`;
}

function PoolCard({ rpc, pool, onError }: { rpc: RpcClient; pool: Pool; onError: (e: string | null) => void }) {
  const [busy, setBusy] = useState(false);
  const used = pool.size && pool.allocated !== null ? (100 * pool.allocated) / pool.size : 0;
  const groups = pool.topology === null ? [] : (Object.entries(pool.topology) as Array<[string, Vdev[]]>).filter(([, list]) => list.length > 0);
  const scrub = async () => {
    setBusy(true);
    onError(null);
    try {
      await rpc.call<number>('pool.scrub.scrub', [pool.name]);
    } catch (err) {
      onError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section class="card pool" data-pool=${pool.name} aria-labelledby=${`pool-${pool.id}`}>
      <div class="pool-head">
        <h3 id=${`pool-${pool.id}`}>${pool.name}</h3>
        <${Health} pool=${pool} />
        <button type="button" disabled=${busy || pool.scan?.state === 'SCANNING' || pool.status === 'OFFLINE'} onClick=${scrub} data-testid="scrub">Scrub</button>
      </div>
      ${pool.status_detail ? html`<p class="muted small">${pool.status_detail}</p>` : null}
      <div class="usage" data-testid="pool-usage">
        <${Bar} pct=${used} label=${`${pool.name} used`} kind=${used > 90 ? 'failed' : 'success'} />
        <div class="progress-text">${formatBytes(pool.allocated)} used of ${formatBytes(pool.size)} (${formatBytes(pool.free)} free)</div>
      </div>
      <div class="scan"><${ScanLine} scan=${pool.scan} /></div>
      ${groups.map(([kind, list]) => html`<div class="topology"><span class="muted small">${kind}</span><ul class="vdevs">${list.map((v) => html`<${VdevLine} v=${v} depth=${0} />`)}</ul></div>`)}
    </section>`;
}

function Pools({ rpc }: { rpc: RpcClient }) {
  const [actionError, setActionError] = useState<string | null>(null);
  const { data, error } = useLive<Pool[]>(rpc, ['pool.query', 'pool.scan'], () => rpc.call<Pool[]>('pool.query', [[], { order_by: ['name'] }]), (u, set) => {
    // A scan event moves one pool's progress: no need to read every pool again.
    if (u.collection !== 'pool.scan') return false;
    const f = u.fields as { name: string; scan: Scan };
    set((prev) => prev && prev.map((p) => (p.name === f.name ? { ...p, scan: f.scan } : p)));
    return f.scan.state === 'SCANNING';
  });
  return html`
    <section aria-labelledby="pools-title" class="storage-section">
      <h2 id="pools-title">Pools</h2>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${actionError ? html`<p class="error" role="alert">${actionError}</p>` : null}
      ${data === null && !error ? html`<p class="muted">Loading\u2026</p>` : null}
      ${data !== null && data.length === 0 ? html`<p class="empty muted">No pools yet: create one with pool.create.</p>` : null}
      <div class="pools">${(data ?? []).map((p) => html`<${PoolCard} key=${p.id} rpc=${rpc} pool=${p} onError=${setActionError} />`)}</div>
    </section>`;
}

function DatasetRows({ ds, depth }: { ds: Dataset; depth: number }): unknown {
  const used = ds.used?.parsed as number | undefined;
  const avail = ds.available?.parsed as number | undefined;
  return html`
    <tr data-dataset=${ds.id}>
      <td data-label="Dataset"><span class=${`tree depth-${Math.min(depth, 8)}`}>${depth > 0 ? '\u2514 ' : ''}${ds.id.split('/').pop()}</span>${ds.type === 'VOLUME' ? html` <span class="tag">volume</span>` : null}</td>
      <td data-label="Used" class="num-cell" data-testid="ds-used">${formatBytes(used)}</td>
      <td data-label="Available" class="num-cell">${formatBytes(avail)}</td>
      <td data-label="Compression">${ds.compression?.value ?? ''}</td>
      <td data-label="Mountpoint"><code class="small">${ds.mountpoint ?? ''}</code></td>
    </tr>
    ${ds.children.map((c) => html`<${DatasetRows} ds=${c} depth=${depth + 1} />`)}`;
}

function Datasets({ rpc }: { rpc: RpcClient }) {
  const { data, error } = useLive<Dataset[]>(rpc, ['pool.dataset.query', 'pool.query'], () =>
    rpc.call<Dataset[]>('pool.dataset.query', [[], { order_by: ['id'], extra: { flat: false, retrieve_user_props: false, properties: ['used', 'available', 'compression', 'mountpoint'] } }]));
  return html`
    <section aria-labelledby="datasets-title" class="storage-section">
      <h2 id="datasets-title">Datasets</h2>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${data !== null && data.length === 0 ? html`<p class="empty muted">No datasets.</p>` : null}
      ${data !== null && data.length > 0 ? html`
        <div class="table-wrap"><table data-testid="dataset-tree"><caption class="sr-only">Datasets</caption>
          <thead><tr><th scope="col">Dataset</th><th scope="col">Used</th><th scope="col">Available</th><th scope="col">Compression</th><th scope="col">Mountpoint</th></tr></thead>
          <tbody>${data.map((d) => html`<${DatasetRows} ds=${d} depth=${0} />`)}</tbody></table></div>` : null}
    </section>`;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function SnapshotRow({ rpc, s, onError }: { rpc: RpcClient; s: Snapshot; onError: (e: string | null) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const del = async () => {
    setBusy(true);
    onError(null);
    try {
      await rpc.call('pool.snapshot.delete', [s.id]);
    } catch (err) {
      onError(message(err));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  const created = toMs(s.properties.creation?.parsed);
  return html`
    <tr data-snapshot=${s.id}>
      <td data-label="Snapshot"><code>${s.dataset}@<strong>${s.snapshot_name}</strong></code>${s.holds?.truenas ? html` <span class="tag">held</span>` : null}</td>
      <td data-label="Created">${created === null ? '' : formatFullTime(created)}</td>
      <td data-label="Used" class="num-cell">${formatBytes(s.properties.used?.parsed as number | undefined)}</td>
      <td data-label="Actions" class="row-actions">${confirming
        ? html`<span class="confirm" role="group" aria-label="Confirm delete"><button type="button" class="danger" disabled=${busy} onClick=${del} data-testid="snapshot-confirm">Yes, delete</button><button type="button" onClick=${() => setConfirming(false)}>Cancel</button></span>`
        : html`<button type="button" class="danger" onClick=${() => setConfirming(true)} data-testid="snapshot-delete">Delete</button>`}</td>
    </tr>`;
}

function Snapshots({ rpc }: { rpc: RpcClient }) {
  const [filter, setFilter] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);
  // `~` matches from the start (Python's re.match): the text may be anywhere in the name.
  const filters = filter.trim() === '' ? [] : [['name', '~', `.*${escapeRegex(filter.trim())}`]];
  const { data, error, reload } = useLive<Snapshot[]>(rpc, ['pool.snapshot.query', 'pool.query'], () =>
    rpc.call<Snapshot[]>('pool.snapshot.query', [filters, { order_by: ['name'], limit: 200, extra: { holds: true, properties: ['creation', 'used'] } }]));
  useEffect(() => reload(), [filter]);
  return html`
    <section aria-labelledby="snapshots-title" class="storage-section">
      <h2 id="snapshots-title">Snapshots</h2>
      <div class="filters"><label class="grow">Filter by name<input type="search" value=${filter} data-testid="snapshot-filter" placeholder="e.g. tank/data@auto" onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} /></label></div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${actionError ? html`<p class="error" role="alert">${actionError}</p>` : null}
      ${data !== null && data.length === 0 ? html`<p class="empty muted" data-testid="no-snapshots">No snapshots${filter ? ' match' : ''}.</p>` : null}
      ${data !== null && data.length > 0 ? html`
        <div class="table-wrap"><table data-testid="snapshot-table"><caption class="sr-only">Snapshots</caption>
          <thead><tr><th scope="col">Snapshot</th><th scope="col">Created</th><th scope="col">Used</th><th scope="col">Actions</th></tr></thead>
          <tbody>${data.map((s) => html`<${SnapshotRow} key=${s.id} rpc=${rpc} s=${s} onError=${setActionError} />`)}</tbody></table></div>` : null}
    </section>`;
}

function ReplicationStateCell({ state }: { state: ReplicationState }) {
  const p = state.progress;
  if (state.state === 'RUNNING' && p) {
    const frac = p.bytes_total > 0 ? Math.min(1, p.bytes_sent / p.bytes_total) : 0;
    const pct = p.snapshots_total > 0 ? (100 * (p.snapshots_sent + frac)) / p.snapshots_total : 0;
    return html`<div class="progress" data-testid="repl-progress"><${Bar} pct=${pct} label="Replication progress" kind="running" />
      <div class="progress-text">Sending ${p.snapshots_sent + 1} of ${p.snapshots_total}: ${p.dataset}@${p.snapshot} (${formatBytes(p.bytes_sent)} / ${formatBytes(p.bytes_total)})</div></div>`;
  }
  const look: Record<string, string> = { FINISHED: 'success', ERROR: 'failed', RUNNING: 'running', PENDING: 'waiting' };
  const when = toMs(state.datetime);
  return html`<div data-testid="repl-state"><span class=${`state state-${look[state.state] ?? 'waiting'}`}>${state.state}</span>${when !== null ? html` <span class="muted small">${formatFullTime(when)}</span>` : null}
    ${state.error ? html`<div class="error-text small">${state.error}</div>` : null}
    ${state.last_snapshot ? html`<div class="muted small">last: <code>${state.last_snapshot}</code></div>` : null}</div>`;
}

function Replications({ rpc }: { rpc: RpcClient }) {
  const [actionError, setActionError] = useState<string | null>(null);
  const { data, error } = useLive<Replication[]>(rpc, ['replication.query'], () => rpc.call<Replication[]>('replication.query', [[], { order_by: ['id'] }]), (u, set) => {
    // While it runs a task's event carries only {state}: merge it, as TrueNAS clients must.
    const f = u.fields as Partial<Replication> | undefined;
    if (u.msg !== 'changed' || !f || Object.keys(f).join() !== 'state') return false;
    set((prev) => prev && prev.map((r) => (r.id === u.id ? { ...r, state: f.state! } : r)));
    return true;
  });
  const run = async (r: Replication) => {
    setActionError(null);
    try {
      const jobId = await rpc.call<number>('replication.run', [r.id]);
      navigate(`/jobs/${jobId}`);
    } catch (err) {
      setActionError(message(err));
    }
  };
  return html`
    <section aria-labelledby="replication-title" class="storage-section">
      <h2 id="replication-title">Replication tasks</h2>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${actionError ? html`<p class="error" role="alert">${actionError}</p>` : null}
      ${data !== null && data.length === 0 ? html`<p class="empty muted">No replication tasks.</p>` : null}
      ${data !== null && data.length > 0 ? html`
        <div class="table-wrap"><table data-testid="replication-table"><caption class="sr-only">Replication tasks</caption>
          <thead><tr><th scope="col">Task</th><th scope="col">From \u2192 to</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
          <tbody>${data.map((r) => html`
            <tr data-replication=${r.id}>
              <td data-label="Task"><strong>${r.name}</strong> <span class="tag">${r.transport}</span>${r.enabled ? null : html` <span class="muted">disabled</span>`}</td>
              <td data-label="From \u2192 to"><code class="small">${r.source_datasets.join(', ')}</code> \u2192 <code class="small">${r.target_dataset}</code></td>
              <td data-label="State"><${ReplicationStateCell} state=${r.state} /></td>
              <td data-label="Actions" class="row-actions"><button type="button" disabled=${r.state.state === 'RUNNING'} onClick=${() => run(r)} data-testid="repl-run">Run now</button></td>
            </tr>`)}</tbody></table></div>` : null}
    </section>`;
}

export function StoragePage({ rpc }: { rpc: RpcClient }) {
  return html`
    <div class="storage">
      <div class="page-head"><h1>Storage</h1></div>
      <${Pools} rpc=${rpc} />
      <${Datasets} rpc=${rpc} />
      <${Snapshots} rpc=${rpc} />
      <${Replications} rpc=${rpc} />
    </div>`;
}
