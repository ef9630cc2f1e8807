// Job webhooks: signed POSTs to a URL when jobs reach the states asked for (and their progress,
// if wanted). Add one, send a test delivery, see each webhook's recent deliveries with status,
// response code, duration and error, live; remove one. The secret is write-only.
import { useState } from 'preact/hooks';
import { parseHeaders } from './alertservices-page.js';
import { errorLines } from './form-errors.js';
import { formatFullTime, relative } from './format.js';
import { html } from './html.js';
import { useLiveList } from './live-list.js';
import type { RpcClient } from './rpc.js';

interface Webhook {
  id: number;
  name: string;
  url: string;
  methods: string[];
  states: string[];
  progress: boolean;
  enabled: boolean;
  queue: { queued: number; next_try_at: { $date: number } | null; failing_since: { $date: number } | null };
}

interface Delivery {
  delivery_id: string;
  event: string;
  try: number;
  at: { $date: number };
  status: string;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  next_try_at: { $date: number } | null;
}

const STATES = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'];

function HookForm({ rpc }: { rpc: RpcClient }) {
  const empty = { name: '', url: '', secret: '', methods: '*', headers: '', states: ['FAILED'], progress: false };
  const [f, setF] = useState(empty);
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const text = (k: 'name' | 'url' | 'secret' | 'methods' | 'headers') => (e: Event) => {
    const v = (e.target as HTMLInputElement).value;
    setF((o) => ({ ...o, [k]: v }));
  };
  const toggle = (s: string) => setF((o) => ({ ...o, states: o.states.includes(s) ? o.states.filter((x) => x !== s) : [...o.states, s] }));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    try {
      await rpc.call('webhook.create', [{
        name: f.name, url: f.url, secret: f.secret, headers: parseHeaders(f.headers), progress: f.progress,
        methods: f.methods.split(',').map((m) => m.trim()).filter(Boolean), states: STATES.filter((s) => f.states.includes(s)),
      }]);
      setF(empty);
    } catch (err) {
      setErrors(errorLines(err, /^webhook_create\.?/));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card cron-form" data-testid="webhook-form" onSubmit=${submit}>
      <h2>Add a webhook</h2>
      <div class="field"><label for="wh-name">Name</label><input id="wh-name" value=${f.name} onInput=${text('name')} /></div>
      <div class="field"><label for="wh-url">URL</label><input id="wh-url" value=${f.url} placeholder="https://example.com/midship" onInput=${text('url')} /></div>
      <div class="field"><label for="wh-secret">Signing secret (16 characters or more)</label><input id="wh-secret" type="password" autocomplete="off" value=${f.secret} onInput=${text('secret')} /></div>
      <div class="field"><label for="wh-methods">Job methods (comma-separated, * matches anything)</label><input id="wh-methods" value=${f.methods} onInput=${text('methods')} /></div>
      <fieldset class="field checks"><legend>Send when a job becomes</legend>
        ${STATES.map((s) => html`<label><input type="checkbox" name="wh-state" value=${s} checked=${f.states.includes(s)} onChange=${() => toggle(s)} /> ${s}</label> `)}
        <label><input type="checkbox" id="wh-progress" checked=${f.progress} onChange=${() => setF((o) => ({ ...o, progress: !o.progress }))} /> and its progress (at most once a second)</label>
      </fieldset>
      <div class="field"><label for="wh-headers">Extra headers (Name: value, one a line)</label><textarea id="wh-headers" rows="2" value=${f.headers} onInput=${text('headers')}></textarea></div>
      ${errors.length > 0 ? html`<ul class="error validation" role="alert" data-testid="webhook-errors">${errors.map((x) => html`<li>${x}</li>`)}</ul>` : null}
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>Add</button></div>
    </form>`;
}

function Deliveries({ rpc, id }: { rpc: RpcClient; id: number }) {
  // webhook.query changes with every try of this webhook: the list reloads then.
  const list = useLiveList<Delivery>(rpc, 'webhook.deliveries', 'webhook.query', [id, 20]);
  if (list.error) return html`<p class="error" role="alert">${list.error}</p>`;
  if (list.items === null) return html`<p class="muted">Loading\u2026</p>`;
  if (list.items.length === 0) return html`<p class="muted empty" data-testid="deliveries-none">No deliveries yet.</p>`;
  return html`
    <table class="deliveries" data-testid="webhook-deliveries"><caption class="sr-only">Recent deliveries</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Try</th><th scope="col">Status</th><th scope="col">Code</th><th scope="col">Took</th><th scope="col">Error</th></tr></thead>
      <tbody>${list.items.map((d) => html`
        <tr data-testid="delivery-row" data-status=${d.status}>
          <td title=${formatFullTime(d.at.$date)}>${relative(d.at.$date)}</td>
          <td><code>${d.event}</code></td>
          <td class="num-cell">${d.try}</td>
          <td class=${`state state-${d.status === 'SUCCESS' ? 'success' : d.status === 'RETRYING' ? 'waiting' : 'failed'}`}>${d.status}${d.next_try_at ? html`<span class="muted small"> (next ${relative(d.next_try_at.$date)})</span>` : null}</td>
          <td class="num-cell">${d.status_code ?? '\u2014'}</td>
          <td class="num-cell">${d.duration_ms === null ? '\u2014' : `${Math.round(d.duration_ms)} ms`}</td>
          <td class="error-text">${d.error ?? ''}</td>
        </tr>`)}</tbody>
    </table>`;
}

function Hook({ rpc, h }: { rpc: RpcClient; h: Webhook }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const test = async () => {
    setNote('Sending\u2026');
    try {
      const r = await rpc.call<{ ok: boolean; status_code: number | null; duration_ms: number; error: string | null }>('webhook.test', [h.id]);
      setNote(r.ok ? `Test delivered: HTTP ${r.status_code} in ${Math.round(r.duration_ms)} ms.` : `Test failed: ${r.error ?? `HTTP ${r.status_code}`}`);
    } catch (err) {
      setNote((err as Error).message);
    }
  };
  const remove = async () => {
    try {
      await rpc.call('webhook.delete', [h.id]);
    } catch (err) {
      setNote((err as Error).message);
    }
  };
  const q = h.queue;
  return html`
    <section class="card webhook" data-testid="webhook" data-id=${h.id}>
      <div class="page-head">
        <h2>${h.name}${h.enabled ? null : html` <span class="tag">disabled</span>`}</h2>
        <span class="row-actions">
          <button type="button" data-testid="webhook-test" onClick=${test}>Send a test</button>
          <button type="button" aria-expanded=${open} data-testid="webhook-deliveries-toggle" onClick=${() => setOpen(!open)}>${open ? 'Hide deliveries' : 'Recent deliveries'}</button>
          ${confirming
            ? html`<span class="confirm" role="group" aria-label=${`Confirm removing ${h.name}`}><button type="button" class="danger" data-testid="webhook-delete-confirm" onClick=${remove}>Yes, remove</button><button type="button" onClick=${() => setConfirming(false)}>Cancel</button></span>`
            : html`<button type="button" class="danger" data-testid="webhook-delete" onClick=${() => setConfirming(true)}>Remove</button>`}
        </span>
      </div>
      <dl class="facts">
        <dt>URL</dt><dd><code>${h.url}</code></dd>
        <dt>Jobs</dt><dd>${h.methods.join(', ')}</dd>
        <dt>Sends</dt><dd>${[...h.states, ...(h.progress ? ['progress'] : [])].join(', ') || '\u2014'}</dd>
        <dt>Queue</dt><dd data-testid="webhook-queue">${q.queued === 0 ? 'nothing waiting' : `${q.queued} waiting`}${q.next_try_at ? `, next try ${relative(q.next_try_at.$date)}` : ''}${q.failing_since ? html`, <span class="error-text">failing since ${formatFullTime(q.failing_since.$date)}</span>` : ''}</dd>
      </dl>
      ${note ? html`<p class="note" role="status" data-testid="webhook-note">${note}</p>` : null}
      ${open ? html`<${Deliveries} rpc=${rpc} id=${h.id} />` : null}
    </section>`;
}

export function WebhooksPage({ rpc }: { rpc: RpcClient }) {
  const list = useLiveList<Webhook>(rpc, 'webhook.query', 'webhook.query');
  return html`
    <div class="webhooks">
      <div class="page-head"><h1>Webhooks</h1></div>
      <p class="muted">Each delivery is signed (X-Midship-Signature: HMAC-SHA256 of the body with the secret), stored before it is sent, retried for a day on timeouts and 5xx answers, and sent in order.</p>
      ${list.error ? html`<p class="error" role="alert">${list.error}</p>` : null}
      ${list.items !== null && list.items.length === 0 ? html`<p class="muted empty">No webhooks yet.</p>` : null}
      ${(list.items ?? []).map((h) => html`<${Hook} key=${h.id} rpc=${rpc} h=${h} />`)}
      <${HookForm} rpc=${rpc} />
    </div>`;
}
