// Bulk actions on the jobs page: over the selected rows, or over every job the current search
// matches (however many pages). Abort (core.job_abort_many), delete (core.job_delete: finished
// jobs only) and re-run (cronjob.run once per cron job among them); each asks first, stating how
// many jobs it will touch, counted by the daemon when the selection is "all matching".
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatCount, isTerminal } from './format.js';
import { html } from './html.js';
import type { Job, JobsStore } from './jobs-store.js';
import { queryFilters } from './jobs-store.js';
import { RpcError, type RpcClient } from './rpc.js';

export type Action = 'abort' | 'delete' | 'rerun';

/** What is selected: some jobs by id, or everything the filter matches. */
export type Selection = { kind: 'ids'; ids: Set<number> } | { kind: 'all' };

interface Plan {
  action: Action;
  /** Jobs the action will act on (for re-run: cron jobs to run). */
  count: number;
  /** Selected jobs it leaves alone, with why. */
  skipped: string | null;
  run(): Promise<string>;
}

const ACTIVE = ['WAITING', 'RUNNING'];
const FINISHED = ['SUCCESS', 'FAILED', 'ABORTED'];
const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;

function cronIdOf(j: Pick<Job, 'method' | 'arguments'>): number | null {
  return j.method === 'cronjob.run' && typeof j.arguments[0] === 'number' ? j.arguments[0] : null;
}

async function rerun(rpc: RpcClient, cronIds: number[]): Promise<string> {
  let started = 0;
  const failed: string[] = [];
  for (const id of cronIds) {
    try {
      await rpc.call('cronjob.run', [id]);
      started++;
    } catch (err) {
      failed.push(`cron job ${id}: ${(err as Error).message}`);
    }
  }
  return `Started ${plural(started, 'run')}.${failed.length > 0 ? ` Not started: ${failed.join('; ')}` : ''}`;
}

/** The plan of `action` on `sel`: how many it touches, and the call that does it. */
async function makePlan(rpc: RpcClient, store: JobsStore, sel: Selection, action: Action): Promise<Plan> {
  const base = queryFilters(store.filter);
  if (sel.kind === 'all') {
    const count = (extra: unknown[]) => rpc.call<number>('core.get_jobs', [[...base, ...extra], { count: true }]);
    if (action === 'delete') {
      const [n, active] = await Promise.all([count([['state', 'in', FINISHED]]), count([['state', 'in', ACTIVE]])]);
      return { action, count: n, skipped: active > 0 ? `${plural(active, 'job')} still waiting or running ${active === 1 ? 'is' : 'are'} not deleted` : null, run: async () => `Deleted ${plural(await rpc.call<number>('core.job_delete', [base]), 'job')}.` };
    }
    if (action === 'abort') {
      const [n, fixed] = await Promise.all([count([['state', 'in', ACTIVE], ['abortable', '=', true]]), count([['state', 'in', ACTIVE], ['abortable', '=', false]])]);
      return { action, count: n, skipped: fixed > 0 ? `${plural(fixed, 'job')} cannot be aborted` : null, run: async () => abortText(await rpc.call('core.job_abort_many', [base])) };
    }
    const runs = await rpc.call<Array<Pick<Job, 'method' | 'arguments'>>>('core.get_jobs', [[...base, ['method', '=', 'cronjob.run']], { select: ['method', 'arguments'] }]);
    const cronIds = [...new Set(runs.map(cronIdOf).filter((id): id is number => id !== null))];
    return { action, count: cronIds.length, skipped: null, run: () => rerun(rpc, cronIds) };
  }
  const jobs = [...sel.ids].map((id) => store.get(id)).filter((j): j is Job => j !== undefined);
  const ids = (js: Job[]) => js.map((j) => j.id);
  if (action === 'delete') {
    const done = jobs.filter((j) => isTerminal(j.state));
    const left = jobs.length - done.length;
    return { action, count: done.length, skipped: left > 0 ? `${plural(left, 'selected job')} still waiting or running ${left === 1 ? 'is' : 'are'} not deleted` : null, run: async () => `Deleted ${plural(await rpc.call<number>('core.job_delete', [[['id', 'in', ids(done)]]]), 'job')}.` };
  }
  if (action === 'abort') {
    const active = jobs.filter((j) => !isTerminal(j.state));
    const can = active.filter((j) => j.abortable);
    const notes = [jobs.length - active.length > 0 ? `${plural(jobs.length - active.length, 'selected job')} already ended` : '', active.length - can.length > 0 ? `${plural(active.length - can.length, 'job')} cannot be aborted` : ''].filter(Boolean);
    return { action, count: can.length, skipped: notes.length > 0 ? notes.join('; ') : null, run: async () => abortText(await rpc.call('core.job_abort_many', [[['id', 'in', ids(can)]]])) };
  }
  const cronIds = [...new Set(jobs.map(cronIdOf).filter((id): id is number => id !== null))];
  const other = jobs.filter((j) => cronIdOf(j) === null).length;
  return { action, count: cronIds.length, skipped: other > 0 ? `${plural(other, 'selected job')} ${other === 1 ? 'is' : 'are'} not a cron run and cannot be re-run` : null, run: () => rerun(rpc, cronIds) };
}

function abortText(r: unknown): string {
  const { aborted, not_abortable } = r as { aborted: number[]; not_abortable: number[] };
  return `Aborted ${plural(aborted.length, 'job')}.${not_abortable.length > 0 ? ` ${plural(not_abortable.length, 'job')} could not be aborted.` : ''}`;
}

function question(p: Plan): string {
  switch (p.action) {
    case 'delete': return `Delete ${plural(p.count, 'finished job')} and their logs?`;
    case 'abort': return `Abort ${plural(p.count, 'job')}?`;
    case 'rerun': return `Run ${plural(p.count, 'cron job')} again?`;
  }
}

/**
 * The bar above the table while something is selected: the count, "select all matching", the
 * actions and their confirmation. `onDone` clears the selection after an action ran.
 */
export function BulkBar({ rpc, store, selection, pageIds, onSelect, onDone }: {
  rpc: RpcClient;
  store: JobsStore;
  selection: Selection;
  pageIds: number[];
  onSelect: (s: Selection) => void;
  onDone: () => void;
}) {
  const [plan, setPlan] = useState<Plan | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (plan) confirmRef.current?.focus();
  }, [plan]);
  const total = store.total ?? 0;
  const n = selection.kind === 'all' ? total : selection.ids.size;
  const allOnPage = selection.kind === 'ids' && pageIds.length > 0 && pageIds.every((id) => selection.ids.has(id));

  const guard = async (fn: () => Promise<void>) => {
    setBusy(true);
    setMessage(null);
    try {
      await fn();
    } catch (err) {
      setMessage({ text: err instanceof RpcError ? err.message : (err as Error).message, error: true });
    } finally {
      setBusy(false);
    }
  };
  const ask = (action: Action) => guard(async () => setPlan(await makePlan(rpc, store, selection, action)));
  const confirm = () => guard(async () => {
    const p = plan!;
    setPlan(null);
    setMessage({ text: await p.run(), error: false });
    onDone();
    store.reload();
  });

  if (n === 0 && message === null) return null;
  return html`
    <div class="bulk" role="region" aria-label="Selected jobs" data-testid="bulk-bar">
      ${n > 0 ? html`
        <span data-testid="bulk-count">${selection.kind === 'all' ? `All ${plural(total, 'job')} matching this search are selected` : `${formatCount(n)} selected`}</span>
        ${allOnPage && total > pageIds.length ? html`<button type="button" class="link" data-testid="select-all-matching" onClick=${() => onSelect({ kind: 'all' })}>Select all ${formatCount(total)} matching this search</button>` : null}
        <span class="bulk-actions">
          <button type="button" data-testid="bulk-abort" disabled=${busy} onClick=${() => ask('abort')}>Abort\u2026</button>
          <button type="button" class="danger" data-testid="bulk-delete" disabled=${busy} onClick=${() => ask('delete')}>Delete\u2026</button>
          <button type="button" data-testid="bulk-rerun" disabled=${busy} onClick=${() => ask('rerun')}>Re-run\u2026</button>
          <button type="button" class="link" data-testid="bulk-clear" onClick=${() => (setPlan(null), onSelect({ kind: 'ids', ids: new Set() }))}>Clear selection</button>
        </span>` : null}
      ${plan ? html`
        <div class="confirm" role="alertdialog" aria-labelledby="bulk-question" data-testid="bulk-confirm-box">
          <span id="bulk-question" data-testid="bulk-question">${question(plan)}</span>
          ${plan.skipped ? html`<span class="muted" data-testid="bulk-skipped">(${plan.skipped})</span>` : null}
          <button type="button" class=${plan.action === 'delete' ? 'danger' : ''} ref=${confirmRef} data-testid="bulk-confirm" disabled=${busy || plan.count === 0} onClick=${confirm}>Yes, ${plan.action === 'rerun' ? 're-run' : plan.action} ${formatCount(plan.count)}</button>
          <button type="button" data-testid="bulk-cancel" onClick=${() => setPlan(null)}>Cancel</button>
        </div>` : null}
      ${message ? html`<p class=${message.error ? 'error' : 'note'} role="status" data-testid="bulk-result">${message.text}</p>` : null}
    </div>`;
}
