// The jobs page's data, outside the view: one page of core.get_jobs (newest first) plus its count,
// kept live by `core.get_jobs` events. Events are only collected when they arrive; they are
// applied once per animation frame (the latest copy of each job wins), so 1,000 events a second
// cost one re-render per frame, not one per event. Counts that events cannot keep exact (a
// filtered page, the summary) are re-queried, throttled.
import { isTerminal, type JobState } from './format.js';
import type { CollectionUpdate, RpcClient } from './rpc.js';

export interface Job {
  id: number;
  method: string;
  arguments: unknown[];
  description: string | null;
  state: JobState;
  abortable: boolean;
  logs_path: string | null;
  logs_excerpt: string | null;
  progress: { percent: number; description: string; extra: unknown };
  result: unknown;
  result_encoding_error: string | null;
  error: string | null;
  exception: string | null;
  exc_info: { repr: string; type: string; errno: number | null; extra: unknown } | null;
  time_started: unknown;
  time_finished: unknown;
  credentials: { type: string; data: Record<string, unknown> } | null;
  message_ids: unknown[];
  transient: boolean;
  parent_id?: number | null;
}

export interface JobFilter {
  state: JobState | '';
  /** Exact method name, or a prefix when it ends in '*' or '.'. */
  method: string;
  /** Case-insensitive substring of description, method or progress text; a number also matches the id. */
  text: string;
  /** Top-level jobs only, each with its child jobs (parent_id) to unfold beneath it. */
  tree: boolean;
}

/** null: not known yet. */
export interface Summary {
  running: number | null;
  waiting: number | null;
  failed24h: number | null;
  succeeded24h: number | null;
}

const NO_SUMMARY: Summary = { running: null, waiting: null, failed24h: null, succeeded24h: null };

/** Successful / (successful + failed) over jobs finished in the last 24 h; NaN when none did, null when not known. */
export function successRate(s: Summary): number | null {
  if (s.failed24h === null || s.succeeded24h === null) return null;
  const n = s.failed24h + s.succeeded24h;
  return n === 0 ? Number.NaN : s.succeeded24h / n;
}

export const PAGE_SIZE = 50;
/** Child jobs shown under one parent at most (the rest: open the parent's panel or filter). */
export const CHILDREN_SHOWN = 200;
const CACHE_LIMIT = 5000;
const PAGE_RELOAD_MS = 2000;
const ACTIVE_COUNTS_MS = 1000;
/**
 * The 24 h counts: a state plus a `time_finished.$date` lower bound, the query shape the daemon
 * answers from its counters (well under a millisecond whatever the history); between refreshes,
 * job events keep them current.
 */
const DAY_STATS_MS = 10_000;
const DAY_MS = 24 * 3600 * 1000;

function methodCondition(method: string): unknown[] | null {
  const m = method.trim();
  if (m === '') return null;
  if (m.endsWith('*')) return ['method', '^', m.slice(0, -1)];
  if (m.endsWith('.')) return ['method', '^', m];
  return ['method', '=', m];
}

/** The query filters (PROTOCOL.md 7.1) for a filter. */
export function queryFilters(f: JobFilter): unknown[] {
  const out: unknown[] = [];
  if (f.tree) out.push(['parent_id', '=', null]);
  if (f.state !== '') out.push(['state', '=', f.state]);
  const m = methodCondition(f.method);
  if (m !== null) out.push(m);
  const t = f.text.trim();
  if (t !== '') {
    const branches: unknown[] = [['description', 'Crin', t], ['method', 'Crin', t], ['progress.description', 'Crin', t]];
    if (/^\d+$/.test(t)) branches.push(['id', '=', Number(t)]);
    out.push(['OR', branches]);
  }
  return out;
}

/** The same test as queryFilters, on a job already here. */
export function jobMatches(j: Job, f: JobFilter): boolean {
  if (f.tree && typeof j.parent_id === 'number') return false;
  if (f.state !== '' && j.state !== f.state) return false;
  const m = f.method.trim();
  if (m !== '') {
    if (m.endsWith('*')) {
      if (!j.method.startsWith(m.slice(0, -1))) return false;
    } else if (m.endsWith('.')) {
      if (!j.method.startsWith(m)) return false;
    } else if (j.method !== m) return false;
  }
  const t = f.text.trim().toLowerCase();
  if (t !== '') {
    const hay = [j.description ?? '', j.method, j.progress.description ?? ''].map((s) => s.toLowerCase());
    if (!hay.some((s) => s.includes(t)) && !(/^\d+$/.test(t) && j.id === Number(t))) return false;
  }
  return true;
}

export class JobsStore {
  filter: JobFilter = { state: '', method: '', text: '', tree: false };
  page = 0;
  /** Ids of the rows shown, newest first. */
  rowIds: number[] = [];
  total: number | null = null;
  /** Jobs matching the filter added since this page was loaded while not on the first page. */
  newer = 0;
  loading = false;
  error: string | null = null;
  summary: Summary = NO_SUMMARY;
  /** Bumped on every change; the view re-renders when it moves. */
  version = 0;

  /** Tree mode: the children loaded under each unfolded job, ascending; and how many it has in all. */
  readonly childRows = new Map<number, { ids: number[]; total: number }>();
  /** Tree mode: jobs known to have child jobs (they get an unfold button). */
  readonly hasChildren = new Set<number>();
  readonly expanded = new Set<number>();
  private readonly cache = new Map<number, Job>();
  private readonly children = new Map<number, Set<number>>();
  private readonly pinned = new Set<number>();
  private pending = new Map<number, { job: Job; added: boolean }>();
  private frame: number | null = null;
  private readonly listeners = new Set<() => void>();
  /** Events seen while a page query is in flight, applied over its answer. */
  private duringLoad: Map<number, Job> | null = null;
  private loadSeq = 0;
  private unsubscribe: (() => void) | null = null;
  private timers = new Map<string, { timer: ReturnType<typeof setTimeout> | null; running: boolean; again: boolean }>();
  /** When each throttled refresh last started (also when it ran unthrottled, at start). */
  private readonly lastRun = new Map<string, number>();
  private stopped = false;
  /** Jobs seen finishing through events (counted once in the 24 h figures, whatever repeats). */
  private readonly finishedSeen = new Set<number>();
  /** For the benchmark and tests: events received and frames that applied them. */
  readonly stats = { events: 0, flushes: 0 };

  constructor(private readonly rpc: RpcClient) {}

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  async start(): Promise<void> {
    // Subscribe and query in one go: the daemon takes the subscription before it answers the
    // queries sent after it, and events that overtake the answers are applied over them.
    const subscribed = this.rpc.subscribe('core.get_jobs', (u) => this.onEvent(u)).then((off) => {
      if (this.stopped) off();
      else this.unsubscribe = off;
    });
    await Promise.all([subscribed, this.load(), this.refreshActiveCounts(), this.refreshDayStats()]);
  }

  /** After a reconnect: everything may have changed meanwhile. */
  reload(): void {
    void this.load();
    void this.refreshActiveCounts();
    void this.refreshDayStats();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    for (const t of this.timers.values()) if (t.timer) clearTimeout(t.timer);
  }

  get rows(): Job[] {
    return this.rowIds.map((id) => this.cache.get(id)).filter((j): j is Job => j !== undefined);
  }

  get(id: number): Job | undefined {
    return this.cache.get(id);
  }

  /** Child jobs seen so far (parent_id), ascending. */
  childrenOf(id: number): number[] {
    return [...(this.children.get(id) ?? [])].sort((a, b) => a - b);
  }

  /** Keep this job in the cache and current (the detail panel shows it). */
  pin(id: number): () => void {
    this.pinned.add(id);
    return () => this.pinned.delete(id);
  }

  /** One job, from the cache or the daemon. */
  async fetch(id: number): Promise<Job | null> {
    const have = this.cache.get(id);
    if (have) return have;
    const list = await this.rpc.call<Job[]>('core.get_jobs', [[['id', '=', id]], { order_by: ['-id'], limit: 1 }]);
    const j = list[0];
    if (!j) return null;
    // An event may have brought a newer copy while the query ran.
    if (!this.cache.has(id)) this.remember(j);
    this.changed();
    return this.cache.get(id) ?? j;
  }

  setFilter(f: JobFilter): void {
    this.filter = f;
    this.page = 0;
    void this.load();
  }

  setPage(page: number): void {
    this.page = Math.max(0, page);
    void this.load();
  }

  async load(): Promise<void> {
    this.lastRun.set('page', Date.now());
    const seq = ++this.loadSeq;
    const filters = queryFilters(this.filter);
    this.loading = true;
    this.duringLoad = new Map();
    this.changed();
    try {
      // The rows show as soon as they come; the count (a longer walk on a big history) follows.
      const counting = this.rpc.call<number>('core.get_jobs', [filters, { count: true }]);
      const rows = await this.rpc.call<Job[]>('core.get_jobs', [filters, { order_by: ['-id'], limit: PAGE_SIZE, offset: this.page * PAGE_SIZE }]);
      if (seq !== this.loadSeq) return;
      const newer = this.duringLoad!;
      for (const j of rows) this.remember(newer.get(j.id) ?? j);
      this.rowIds = rows.map((j) => j.id);
      if (this.filter.tree) {
        void this.findParents(this.rowIds);
        for (const id of this.expanded) void this.loadChildren(id).catch(() => undefined);
      }
      this.newer = 0;
      this.error = null;
      this.changed();
      const total = await counting;
      if (seq !== this.loadSeq) return;
      this.duringLoad = null;
      this.total = total;
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.duringLoad = null;
      this.error = (err as Error).message;
    } finally {
      if (seq === this.loadSeq) {
        this.loading = false;
        this.changed();
      }
    }
  }

  /** Which of `ids` have child jobs: one index lookup each, answered with at most one id. */
  private async findParents(ids: number[]): Promise<void> {
    const found = await Promise.all(ids.map((id) => this.rpc.call<Array<{ id: number }>>('core.get_jobs', [[['parent_id', '=', id]], { limit: 1, select: ['id'] }]).then((r) => r.length > 0, () => false)));
    ids.forEach((id, i) => found[i] && this.hasChildren.add(id));
    this.changed();
  }

  /** Unfold or fold job `id` in the tree; unfolding loads its children (and finds theirs). */
  async toggle(id: number): Promise<void> {
    if (this.expanded.delete(id)) return this.changed();
    this.expanded.add(id);
    this.changed();
    await this.loadChildren(id);
  }

  private async loadChildren(id: number): Promise<void> {
    const filters = [['parent_id', '=', id]];
    const [rows, total] = await Promise.all([
      this.rpc.call<Job[]>('core.get_jobs', [filters, { order_by: ['id'], limit: CHILDREN_SHOWN }]),
      this.rpc.call<number>('core.get_jobs', [filters, { count: true }]),
    ]);
    for (const j of rows) this.remember(this.cache.get(j.id) ?? j);
    this.childRows.set(id, { ids: rows.map((j) => j.id), total });
    this.changed();
    await this.findParents(rows.map((j) => j.id));
  }

  /** Tree mode: the rows shown, each with its depth (children under unfolded parents). */
  get treeRows(): Array<{ job: Job; depth: number }> {
    const out: Array<{ job: Job; depth: number }> = [];
    const walk = (ids: number[], depth: number) => {
      for (const id of ids) {
        const job = this.cache.get(id);
        if (!job) continue;
        out.push({ job, depth });
        const kids = this.childRows.get(id);
        if (this.expanded.has(id) && kids && depth < 20) walk(kids.ids, depth + 1);
      }
    };
    walk(this.rowIds, 0);
    return out;
  }

  private remember(j: Job): void {
    this.cache.delete(j.id);
    this.cache.set(j.id, j);
    if (typeof j.parent_id === 'number') {
      let set = this.children.get(j.parent_id);
      if (!set) this.children.set(j.parent_id, (set = new Set()));
      set.add(j.id);
    }
    if (this.cache.size <= CACHE_LIMIT) return;
    const keep = new Set(this.rowIds);
    for (const id of this.cache.keys()) {
      if (this.cache.size <= CACHE_LIMIT) break;
      if (!keep.has(id) && !this.pinned.has(id)) this.cache.delete(id);
    }
  }

  private onEvent(u: CollectionUpdate): void {
    if (u.msg === 'removed') {
      if (typeof u.id === 'number') this.forget(u.id);
      return;
    }
    if (!u.fields) return;
    const job = u.fields as unknown as Job;
    this.stats.events++;
    const prev = this.pending.get(job.id);
    this.pending.set(job.id, { job, added: u.msg === 'added' || (prev?.added ?? false) });
    this.duringLoad?.set(job.id, job);
    // A background tab gets no frames: the pending map just holds the latest copy of each job.
    this.frame ??= requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = null;
    const batch = this.pending;
    this.pending = new Map();
    this.stats.flushes++;
    let reloadPage = false;
    let stateChanges = false;
    const shown = new Set(this.rowIds);
    for (const { job, added } of batch.values()) {
      const before = this.cache.get(job.id);
      if (added || before === undefined || before.state !== job.state) stateChanges = true;
      if (isTerminal(job.state)) this.countFinished(job, before);
      const wasKnown = before !== undefined;
      if (wasKnown || shown.has(job.id) || this.pinned.has(job.id) || typeof job.parent_id === 'number' || !isTerminal(job.state)) this.remember(job);
      if (added && typeof job.parent_id === 'number') this.adopt(job);
      const matches = jobMatches(job, this.filter);
      if (shown.has(job.id)) {
        if (!matches) {
          // Left the filter (e.g. finished under "Running"): the page is re-read to refill it.
          reloadPage = true;
        }
        continue;
      }
      if (!matches) continue;
      if (this.page > 0) {
        if (added) {
          this.newer++;
          if (this.total !== null) this.total++;
        }
        continue;
      }
      const last = this.rowIds[this.rowIds.length - 1];
      if (added || this.rowIds.length < PAGE_SIZE || (last !== undefined && job.id > last)) {
        this.remember(job);
        this.insertRow(job.id);
        shown.add(job.id);
        if (this.total !== null) this.total++;
      }
    }
    if (reloadPage) this.throttled('page', PAGE_RELOAD_MS, () => this.load());
    if (stateChanges) {
      this.throttled('active', ACTIVE_COUNTS_MS, () => this.refreshActiveCounts());
      this.throttled('day', DAY_STATS_MS, () => this.refreshDayStats());
    }
    this.changed();
  }

  /** A job was deleted (core.job_delete): it leaves the page, which is refilled. */
  private forget(id: number): void {
    this.pending.delete(id);
    this.cache.delete(id);
    this.hasChildren.delete(id);
    for (const kids of this.childRows.values()) {
      const i = kids.ids.indexOf(id);
      if (i !== -1) {
        kids.ids.splice(i, 1);
        kids.total--;
      }
    }
    const row = this.rowIds.indexOf(id);
    if (row !== -1) {
      this.rowIds.splice(row, 1);
      if (this.total !== null) this.total--;
      this.throttled('page', PAGE_RELOAD_MS, () => this.load());
    }
    this.changed();
  }

  private countFinished(job: Job, before: Job | undefined): void {
    if (this.finishedSeen.has(job.id) || (before !== undefined && isTerminal(before.state))) return;
    this.finishedSeen.add(job.id);
    if (this.finishedSeen.size > 10_000) this.finishedSeen.delete(this.finishedSeen.values().next().value!);
    const s = this.summary;
    if (job.state === 'FAILED' && s.failed24h !== null) this.summary = { ...s, failed24h: s.failed24h + 1 };
    if (job.state === 'SUCCESS' && s.succeeded24h !== null) this.summary = { ...s, succeeded24h: s.succeeded24h + 1 };
  }

  /** A new child job: its parent has children now, and an unfolded parent shows it. */
  private adopt(job: Job): void {
    const parent = job.parent_id as number;
    this.hasChildren.add(parent);
    const kids = this.childRows.get(parent);
    if (!kids || kids.ids.includes(job.id)) return;
    kids.total++;
    if (kids.ids.length < CHILDREN_SHOWN) kids.ids.push(job.id);
  }

  private insertRow(id: number): void {
    let i = 0;
    while (i < this.rowIds.length && this.rowIds[i]! > id) i++;
    if (this.rowIds[i] === id) return;
    this.rowIds.splice(i, 0, id);
    if (this.rowIds.length > PAGE_SIZE) this.rowIds.length = PAGE_SIZE;
  }

  /** Run `fn` at most once per `ms`, never two at once; a call meanwhile runs it once more after. */
  private throttled(key: string, ms: number, fn: () => Promise<void>): void {
    let t = this.timers.get(key);
    if (!t) this.timers.set(key, (t = { timer: null, running: false, again: false }));
    const slot = t;
    if (slot.running) {
      slot.again = true;
      return;
    }
    if (slot.timer !== null) return;
    const run = async () => {
      slot.timer = null;
      slot.running = true;
      try {
        await fn();
      } catch {
        // Shown as stale numbers; the next change retries.
      } finally {
        slot.running = false;
        if (slot.again && !this.stopped) {
          slot.again = false;
          this.throttled(key, ms, fn);
        }
      }
    };
    slot.timer = setTimeout(() => void run(), Math.max(0, (this.lastRun.get(key) ?? 0) + ms - Date.now()));
  }

  private async refreshActiveCounts(): Promise<void> {
    this.lastRun.set('active', Date.now());
    const [running, waiting] = await Promise.all([
      this.rpc.call<number>('core.get_jobs', [[['state', '=', 'RUNNING']], { count: true }]),
      this.rpc.call<number>('core.get_jobs', [[['state', '=', 'WAITING']], { count: true }]),
    ]);
    this.summary = { ...this.summary, running, waiting };
    this.changed();
  }

  private async refreshDayStats(): Promise<void> {
    this.lastRun.set('day', Date.now());
    const since = new Date(Date.now() - DAY_MS).toISOString();
    const recent = ['time_finished.$date', '>=', since];
    const [failed, succeeded] = await Promise.all([
      this.rpc.call<number>('core.get_jobs', [[['state', '=', 'FAILED'], recent], { count: true }]),
      this.rpc.call<number>('core.get_jobs', [[['state', '=', 'SUCCESS'], recent], { count: true }]),
    ]);
    this.summary = { ...this.summary, failed24h: failed, succeeded24h: succeeded };
    this.changed();
  }
}
