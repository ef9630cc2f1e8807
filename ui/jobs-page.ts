// The jobs page: summary counts, filters, the live table (one page of the durable history, newest
// first) with a pager, and the detail panel of the job in the URL.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatCount, formatFullTime, formatTime, STATE_LOOK, STATES, toMs, type JobState } from './format.js';
import { html } from './html.js';
import { BulkBar, type Selection } from './job-bulk.js';
import { JobDetail } from './job-detail.js';
import { jobDuration, ProgressBar, StateBadge, useNow } from './job-parts.js';
import { JobsStore, PAGE_SIZE, successRate, type Job, type JobFilter, type Summary } from './jobs-store.js';
import { navigate, type Route } from './router.js';
import type { RpcClient } from './rpc.js';

declare global {
  interface Window {
    /** Counters for tests and the benchmark: job events received, animation frames that applied them. */
    midship?: { stats: { events: number; flushes: number } };
  }
}

function SummaryBar({ summary }: { summary: Summary }) {
  const n = (v: number | null) => (v === null ? '\u2026' : formatCount(v));
  const r = successRate(summary);
  const rate = r === null ? '\u2026' : Number.isNaN(r) ? '\u2013' : `${Math.round(r * 1000) / 10}%`;
  return html`
    <section class="summary" aria-label="Summary">
      <div class="stat stat-running" data-testid="sum-running"><span class="num">${n(summary.running)}</span><span class="label">running</span></div>
      <div class="stat stat-waiting" data-testid="sum-waiting"><span class="num">${n(summary.waiting)}</span><span class="label">waiting</span></div>
      <div class="stat stat-failed" data-testid="sum-failed"><span class="num">${n(summary.failed24h)}</span><span class="label">failed (24 h)</span></div>
      <div class="stat stat-success" data-testid="sum-rate"><span class="num">${rate}</span><span class="label">success rate (24 h)</span></div>
    </section>`;
}

function Filters({ filter, onChange }: { filter: JobFilter; onChange: (f: JobFilter) => void }) {
  const [method, setMethod] = useState(filter.method);
  const [text, setText] = useState(filter.text);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Typing is debounced: one query when the user pauses, not one per key.
  const later = (f: JobFilter) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => onChange(f), 300);
  };
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  return html`
    <form class="filters" role="search" aria-label="Filter jobs" onSubmit=${(e: Event) => (e.preventDefault(), onChange({ ...filter, method, text }))}>
      <label>State
        <select name="state" data-testid="filter-state" value=${filter.state} onChange=${(e: Event) => onChange({ ...filter, method, text, state: (e.target as HTMLSelectElement).value as JobState | '' })}>
          <option value="">All states</option>
          ${STATES.map((s) => html`<option value=${s}>${STATE_LOOK[s].label}</option>`)}
        </select>
      </label>
      <label>Method
        <input name="method" data-testid="filter-method" placeholder="e.g. cronjob.run or pool.*" value=${method} autocomplete="off"
          onInput=${(e: Event) => {
            const v = (e.target as HTMLInputElement).value;
            setMethod(v);
            later({ ...filter, text, method: v });
          }} />
      </label>
      <label class="check"><input type="checkbox" name="tree" data-testid="filter-tree" checked=${filter.tree}
        onChange=${(e: Event) => onChange({ ...filter, method, text, tree: (e.target as HTMLInputElement).checked })} /> Tree</label>
      <label class="grow">Search
        <input type="search" name="q" data-testid="filter-text" placeholder="description, method or id" value=${text} autocomplete="off"
          onInput=${(e: Event) => {
            const v = (e.target as HTMLInputElement).value;
            setText(v);
            later({ ...filter, method, text: v });
          }} />
      </label>
    </form>`;
}

interface RowTree {
  depth: number;
  /** null: no children (no unfold button). */
  expanded: boolean | null;
  toggle: () => void;
}

function JobRow({ job, now, selected, checked, onCheck, tree }: { job: Job; now: number; selected: boolean; checked: boolean; onCheck: (on: boolean) => void; tree: RowTree | null }) {
  const started = toMs(job.time_started);
  return html`
    <tr class=${`${selected ? 'selected' : ''}${tree && tree.depth > 0 ? ' child' : ''}`} aria-current=${selected ? 'true' : undefined} aria-level=${tree ? tree.depth + 1 : undefined} data-job=${job.id} data-depth=${tree?.depth} onClick=${(e: MouseEvent) => {
      // The id link is the keyboard path; the whole row is a convenience for the mouse.
      if ((e.target as HTMLElement).closest('a, button, input, label')) return;
      navigate(`/jobs/${job.id}`);
    }}>
      <td class="select-cell" data-label="Select"><input type="checkbox" data-select=${job.id} aria-label=${`Select job ${job.id}`} checked=${checked} onChange=${(e: Event) => onCheck((e.target as HTMLInputElement).checked)} /></td>
      <td data-label="Id" class="id-cell" style=${tree ? { paddingLeft: `${8 + tree.depth * 18}px` } : undefined}>
        ${tree ? (tree.expanded === null ? html`<span class="twisty" aria-hidden="true"></span>` : html`<button type="button" class="twisty" data-testid="toggle" aria-expanded=${tree.expanded ? 'true' : 'false'} aria-label=${`${tree.expanded ? 'Fold' : 'Unfold'} the child jobs of job ${job.id}`} onClick=${tree.toggle}>${tree.expanded ? '\u25BE' : '\u25B8'}</button>`) : null}
        <a href=${`#/jobs/${job.id}`} aria-label=${`Job ${job.id}`}>${job.id}</a></td>
      <td data-label="Method"><code>${job.method}</code></td>
      <td data-label="Description" class="desc" title=${job.description ?? ''}>${job.description ?? ''}</td>
      <td data-label="State"><${StateBadge} state=${job.state} /></td>
      <td data-label="Progress" class="progress-cell"><${ProgressBar} job=${job} /></td>
      <td data-label="Started" title=${formatFullTime(started)}>${formatTime(started, now)}</td>
      <td data-label="Duration" class="num-cell">${jobDuration(job, now)}</td>
    </tr>`;
}

function Pager({ store }: { store: JobsStore }) {
  const total = store.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = total === 0 ? 0 : store.page * PAGE_SIZE + 1;
  const last = Math.min(total, (store.page + 1) * PAGE_SIZE);
  return html`
    <nav class="pager" aria-label="Pages of jobs">
      <button type="button" data-testid="page-newer" disabled=${store.page === 0} onClick=${() => store.setPage(store.page - 1)}>\u2039 Newer</button>
      <span data-testid="page-info">${store.total === null ? '' : `${formatCount(first)}\u2013${formatCount(last)} of ${formatCount(total)} \u00b7 page ${formatCount(store.page + 1)} of ${formatCount(pages)}`}</span>
      <button type="button" data-testid="page-older" disabled=${store.page + 1 >= pages} onClick=${() => store.setPage(store.page + 1)}>Older \u203a</button>
    </nav>`;
}

export function JobsPage({ rpc, route }: { rpc: RpcClient; route: Route }) {
  const store = useMemo(() => new JobsStore(rpc), [rpc]);
  const [, setTick] = useState(0);
  const rerender = () => setTick((n) => n + 1);
  useEffect(() => {
    const off = store.onChange(rerender);
    const offReconnect = rpc.onReconnected(() => store.reload());
    window.midship = { stats: store.stats };
    void store.start();
    return () => {
      off();
      offReconnect();
      store.stop();
    };
  }, [store]);
  const tree = store.filter.tree;
  const shown = tree ? store.treeRows : store.rows.map((job) => ({ job, depth: 0 }));
  const rows = shown.map((r) => r.job);
  const selected = route.id;
  const now = useNow(rows.some((j) => j.state === 'RUNNING'));
  const [selection, setSelection] = useState<Selection>({ kind: 'ids', ids: new Set() });
  // A new search is a new selection.
  useEffect(() => setSelection({ kind: 'ids', ids: new Set() }), [store.filter]);
  const isChecked = (id: number) => selection.kind === 'all' || selection.ids.has(id);
  const pageIds = rows.map((j) => j.id);
  const check = (id: number, on: boolean) => {
    const ids = new Set(selection.kind === 'all' ? pageIds : selection.ids);
    if (on) ids.add(id);
    else ids.delete(id);
    setSelection({ kind: 'ids', ids });
  };
  const allChecked = pageIds.length > 0 && pageIds.every(isChecked);
  const checkPage = (on: boolean) => setSelection({ kind: 'ids', ids: on ? new Set([...(selection.kind === 'ids' ? selection.ids : []), ...pageIds]) : new Set() });

  return html`
    <div class=${`jobs-layout${selected !== null ? ' with-detail' : ''}`}>
      ${selected !== null ? html`<${JobDetail} key=${selected} rpc=${rpc} store=${store} id=${selected} />` : null}
      <div class="jobs-main">
        <${SummaryBar} summary=${store.summary} />
        <${Filters} filter=${store.filter} onChange=${(f: JobFilter) => store.setFilter(f)} />
        ${store.newer > 0 ? html`<p class="note"><button type="button" class="link" onClick=${() => store.setPage(0)}>${formatCount(store.newer)} newer job${store.newer === 1 ? '' : 's'} \u2014 show the newest</button></p>` : null}
        ${store.error ? html`<p class="error" role="alert">${store.error}</p>` : null}
        <${BulkBar} rpc=${rpc} store=${store} selection=${selection} pageIds=${pageIds} onSelect=${setSelection} onDone=${() => setSelection({ kind: 'ids', ids: new Set() })} />
        <div class="table-wrap">
          <table class="jobs" aria-busy=${store.loading ? 'true' : 'false'} data-testid="jobs-table">
            <caption class="sr-only">Jobs, newest first</caption>
            <thead><tr><th scope="col" class="select-cell"><input type="checkbox" data-testid="select-page" aria-label="Select every job on this page" checked=${allChecked} onChange=${(e: Event) => checkPage((e.target as HTMLInputElement).checked)} /></th><th scope="col">Id</th><th scope="col">Method</th><th scope="col">Description</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Started</th><th scope="col">Duration</th></tr></thead>
            <tbody>
              ${shown.map(({ job: j, depth }) => html`<${JobRow} key=${j.id} job=${j} now=${now} selected=${j.id === selected} checked=${isChecked(j.id)} onCheck=${(on: boolean) => check(j.id, on)}
                tree=${tree ? { depth, expanded: store.hasChildren.has(j.id) ? store.expanded.has(j.id) : null, toggle: () => void store.toggle(j.id) } : null} />`)}
            </tbody>
          </table>
          ${!store.loading && rows.length === 0 ? html`<p class="empty muted">${store.total === 0 && store.filter.state === '' && !store.filter.method && !store.filter.text && !store.filter.tree ? 'No jobs yet.' : 'No jobs match these filters.'}</p>` : null}
        </div>
        <${Pager} store=${store} />
      </div>
    </div>`;
}
