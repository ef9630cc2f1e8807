// Cron jobs (cronjob.query, kept live by `cronjob.query` events): schedule in words, next run,
// last run; run now (opens the run's job panel), enable/disable, create/edit/delete.
import { useEffect, useRef, useState } from 'preact/hooks';
import { CronForm, type CronJob } from './cron-form.js';
import { formatFullTime, relative, scheduleInWords, toMs } from './format.js';
import { html } from './html.js';
import { StateBadge } from './job-parts.js';
import { navigate, type Route } from './router.js';
import { RpcError, type RpcClient } from './rpc.js';

function useCronJobs(rpc: RpcClient): { jobs: CronJob[] | null; error: string | null } {
  const [jobs, setJobs] = useState<Map<number, CronJob> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    let off: (() => void) | null = null;
    // Events seen before the query answers are applied over it.
    let early: Array<{ msg: string; id: number; fields?: CronJob }> | null = [];
    const apply = (m: Map<number, CronJob>, e: { msg: string; id: number; fields?: CronJob }) => {
      if (e.msg === 'removed') m.delete(e.id);
      else if (e.fields) m.set(e.id, e.fields);
    };
    const load = async () => {
      early = [];
      try {
        const list = await rpc.call<CronJob[]>('cronjob.query', [[], { order_by: ['id'] }]);
        if (gone) return;
        const m = new Map(list.map((j) => [j.id, j]));
        for (const e of early ?? []) apply(m, e);
        early = null;
        setJobs(m);
        setError(null);
      } catch (err) {
        if (!gone) setError((err as Error).message);
      }
    };
    void rpc
      .subscribe('cronjob.query', (u) => {
        const e = { msg: u.msg, id: Number(u.id), fields: u.fields as CronJob | undefined };
        if (early !== null) early.push(e);
        else setJobs((prev) => {
          const m = new Map(prev ?? []);
          apply(m, e);
          return m;
        });
      })
      .then((o) => (gone ? o() : (off = o)))
      .then(load);
    const offReconnect = rpc.onReconnected(() => void load());
    // next_run moves on by itself: read it again now and then.
    const t = setInterval(() => void load(), 60_000);
    return () => {
      gone = true;
      off?.();
      offReconnect();
      clearInterval(t);
    };
  }, [rpc]);
  return { jobs: jobs === null ? null : [...jobs.values()].sort((a, b) => a.id - b.id), error };
}

function Row({ rpc, job, onError }: { rpc: RpcClient; job: CronJob; onError: (e: string | null) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  // The switch shows the new value while the update is on its way (the event confirms it).
  const [switching, setSwitching] = useState<boolean | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    onError(null);
    try {
      await fn();
    } catch (err) {
      onError(err instanceof RpcError ? err.message : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const title = job.description || job.command;
  const next = toMs(job.next_run);
  const last = job.last_run;
  return html`
    <tr data-cron=${job.id}>
      <td data-label="Cron job"><div class="cron-title">${title}</div>${job.description ? html`<code class="muted small">${job.command}</code>` : null}</td>
      <td data-label="Schedule"><span data-testid="cron-words">${scheduleInWords(job.schedule)}</span></td>
      <td data-label="Next run" title=${formatFullTime(next)}>${job.enabled ? (next === null ? '\u2013' : `${formatFullTime(next)} (${relative(next)})`) : html`<span class="muted">paused</span>`}</td>
      <td data-label="Last run">${last ? html`<a href=${`#/jobs/${last.job_id}`}><${StateBadge} state=${last.state} /></a>` : html`<span class="muted">never</span>`}</td>
      <td data-label="Enabled">
        <label class="switch"><input type="checkbox" checked=${switching ?? job.enabled} disabled=${busy} data-testid="cron-enabled"
          onChange=${(e: Event) => {
            const enabled = (e.target as HTMLInputElement).checked;
            setSwitching(enabled);
            void act(async () => void (await rpc.call('cronjob.update', [job.id, { enabled }]))).finally(() => setSwitching(null));
          }} />
          <span class="sr-only">Enabled: ${title}</span></label>
      </td>
      <td data-label="Actions" class="row-actions">
        <button type="button" disabled=${busy} data-testid="cron-run" onClick=${() => act(async () => navigate(`/jobs/${await rpc.call<number>('cronjob.run', [job.id])}`))}>Run now</button>
        <a class="button" href=${`#/schedules/${job.id}/edit`}>Edit</a>
        ${confirming
          ? html`<span class="confirm" role="group" aria-label="Confirm delete"><button type="button" class="danger" ref=${confirmRef} disabled=${busy}
              onClick=${() => act(async () => void (await rpc.call('cronjob.delete', [job.id])))}>Yes, delete</button><button type="button" onClick=${() => setConfirming(false)}>Cancel</button></span>`
          : html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete</button>`}
      </td>
    </tr>`;
}

export function SchedulesPage({ rpc, route }: { rpc: RpcClient; route: Route }) {
  const { jobs, error } = useCronJobs(rpc);
  const [actionError, setActionError] = useState<string | null>(null);
  const editing = route.action === 'edit' && route.id !== null ? (jobs?.find((j) => j.id === route.id) ?? null) : null;
  return html`
    <div class="schedules">
      <div class="page-head">
        <h1>Schedules</h1>
        ${route.action === null ? html`<a class="button primary" href="#/schedules/new" data-testid="cron-new">New cron job</a>` : null}
      </div>
      ${route.action === 'new' ? html`<${CronForm} key="new" rpc=${rpc} job=${null} />` : null}
      ${route.action === 'edit' ? (editing ? html`<${CronForm} key=${`edit-${editing.id}`} rpc=${rpc} job=${editing} />` : jobs !== null ? html`<p class="error" role="alert">Cron job ${route.id} does not exist.</p>` : null) : null}
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${actionError ? html`<p class="error" role="alert">${actionError}</p>` : null}
      ${jobs === null && !error ? html`<p class="muted">Loading\u2026</p>` : null}
      ${jobs !== null && jobs.length === 0 ? html`<p class="empty muted">No cron jobs yet.</p>` : null}
      ${jobs !== null && jobs.length > 0 ? html`
        <div class="table-wrap">
          <table class="crons" data-testid="cron-table">
            <caption class="sr-only">Cron jobs</caption>
            <thead><tr><th scope="col">Cron job</th><th scope="col">Schedule</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col">Enabled</th><th scope="col">Actions</th></tr></thead>
            <tbody>${jobs.map((j) => html`<${Row} key=${j.id} rpc=${rpc} job=${j} onError=${setActionError} />`)}</tbody>
          </table>
        </div>` : null}
    </div>`;
}
