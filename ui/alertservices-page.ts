// Alert services: where alerts are sent (a signed Webhook, Slack, Mattermost, Mail), from which
// level up. Add one (with a test message first, if wanted), see them live, remove one. Secrets
// are write-only: the daemon shows them as ********.
import { useState } from 'preact/hooks';
import { errorLines } from './form-errors.js';
import { html } from './html.js';
import { useLiveList } from './live-list.js';
import type { RpcClient } from './rpc.js';

interface AlertService {
  id: number;
  name: string;
  attributes: Record<string, unknown> & { type: string };
  level: string;
  enabled: boolean;
  type__title: string;
}

const TYPES = ['Webhook', 'Slack', 'Mattermost', 'Mail'] as const;
type ServiceType = (typeof TYPES)[number];
const LEVELS = ['INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];

interface Form {
  name: string;
  type: ServiceType;
  level: string;
  enabled: boolean;
  url: string;
  secret: string;
  headers: string;
  username: string;
  channel: string;
  host: string;
  port: string;
  security: string;
  from: string;
  to: string;
  password: string;
}

const EMPTY: Form = { name: '', type: 'Webhook', level: 'WARNING', enabled: true, url: '', secret: '', headers: '', username: '', channel: '', host: '', port: '587', security: 'TLS', from: '', to: '', password: '' };

/** `Name: value` per line. */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (line.trim() !== '') out[(at < 0 ? line : line.slice(0, at)).trim()] = at < 0 ? '' : line.slice(at + 1).trim();
  }
  return out;
}

function attributes(f: Form): Record<string, unknown> {
  switch (f.type) {
    case 'Webhook': return { type: f.type, url: f.url, secret: f.secret, headers: parseHeaders(f.headers) };
    case 'Slack': return { type: f.type, url: f.url };
    case 'Mattermost': return { type: f.type, url: f.url, username: f.username, ...(f.channel ? { channel: f.channel } : {}) };
    case 'Mail': return {
      type: f.type, host: f.host, port: /^\d+$/.test(f.port) ? Number(f.port) : f.port, security: f.security, from: f.from,
      to: f.to.split(',').map((t) => t.trim()).filter(Boolean),
      ...(f.username ? { username: f.username, password: f.password } : {}),
    };
  }
}

function Field({ id, label, value, onInput, type = 'text', hint }: { id: string; label: string; value: string; onInput: (v: string) => void; type?: string; hint?: string }) {
  return html`<div class="field"><label for=${id}>${label}</label><input id=${id} type=${type} value=${value} autocomplete="off" onInput=${(e: Event) => onInput((e.target as HTMLInputElement).value)} />${hint ? html`<span class="muted small">${hint}</span>` : null}</div>`;
}

function ServiceForm({ rpc, onDone }: { rpc: RpcClient; onDone: () => void }) {
  const [f, setF] = useState<Form>(EMPTY);
  const [errors, setErrors] = useState<string[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof Form) => (v: string | boolean) => setF((old) => ({ ...old, [k]: v }));
  const data = () => ({ name: f.name, level: f.level, enabled: f.enabled, attributes: attributes(f) });
  const run = async (what: 'create' | 'test') => {
    setBusy(true);
    setErrors([]);
    setNote(null);
    try {
      if (what === 'test') setNote((await rpc.call<boolean>('alertservice.test', [data()])) ? 'Test message accepted.' : 'Test message not accepted (see the daemon log for why).');
      else {
        await rpc.call('alertservice.create', [data()]);
        setF(EMPTY);
        onDone();
      }
    } catch (err) {
      setErrors(errorLines(err, /^alert_service_create\.(attributes\.)?/));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card cron-form" data-testid="alertservice-form" onSubmit=${(e: Event) => (e.preventDefault(), void run('create'))}>
      <h2>Add an alert service</h2>
      <${Field} id="as-name" label="Name" value=${f.name} onInput=${set('name')} />
      <div class="field"><label for="as-type">Type</label>
        <select id="as-type" value=${f.type} onChange=${(e: Event) => set('type')((e.target as HTMLSelectElement).value)}>${TYPES.map((t) => html`<option value=${t}>${t === 'Mail' ? 'Mail (SMTP)' : t}</option>`)}</select></div>
      <div class="field"><label for="as-level">Send alerts from level</label>
        <select id="as-level" value=${f.level} onChange=${(e: Event) => set('level')((e.target as HTMLSelectElement).value)}>${LEVELS.map((l) => html`<option value=${l}>${l}</option>`)}</select></div>
      ${f.type !== 'Mail' ? html`<${Field} id="as-url" label=${f.type === 'Webhook' ? 'URL' : 'Incoming webhook URL'} value=${f.url} onInput=${set('url')} />` : null}
      ${f.type === 'Webhook' ? html`
        <${Field} id="as-secret" label="Signing secret (16 characters or more)" type="password" value=${f.secret} onInput=${set('secret')} />
        <div class="field"><label for="as-headers">Extra headers (Name: value, one a line)</label><textarea id="as-headers" rows="2" value=${f.headers} onInput=${(e: Event) => set('headers')((e.target as HTMLTextAreaElement).value)}></textarea></div>` : null}
      ${f.type === 'Mattermost' ? html`<${Field} id="as-username" label="Post as user" value=${f.username} onInput=${set('username')} /><${Field} id="as-channel" label="Channel (optional)" value=${f.channel} onInput=${set('channel')} />` : null}
      ${f.type === 'Mail' ? html`
        <${Field} id="as-host" label="SMTP host" value=${f.host} onInput=${set('host')} />
        <${Field} id="as-port" label="Port" value=${f.port} onInput=${set('port')} />
        <div class="field"><label for="as-security">Security</label><select id="as-security" value=${f.security} onChange=${(e: Event) => set('security')((e.target as HTMLSelectElement).value)}>
          <option value="TLS">STARTTLS (required)</option><option value="SSL">TLS from the start</option><option value="PLAIN">None</option></select></div>
        <${Field} id="as-from" label="From" value=${f.from} onInput=${set('from')} />
        <${Field} id="as-to" label="To (comma-separated)" value=${f.to} onInput=${set('to')} />
        <${Field} id="as-mail-user" label="SMTP user name (optional)" value=${f.username} onInput=${set('username')} />
        <${Field} id="as-mail-password" label="SMTP password" type="password" value=${f.password} onInput=${set('password')} />` : null}
      <label class="switch"><input type="checkbox" checked=${f.enabled} onChange=${(e: Event) => set('enabled')((e.target as HTMLInputElement).checked)} /> Enabled</label>
      ${errors.length > 0 ? html`<ul class="error validation" role="alert" data-testid="alertservice-errors">${errors.map((e) => html`<li>${e}</li>`)}</ul>` : null}
      ${note ? html`<p class="note" role="status" data-testid="alertservice-note">${note}</p>` : null}
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Add</button>
        <button type="button" disabled=${busy} data-testid="alertservice-test" onClick=${() => void run('test')}>Send a test message</button>
      </div>
    </form>`;
}

function Row({ rpc, s, onError }: { rpc: RpcClient; s: AlertService; onError: (e: string | null) => void }) {
  const [confirming, setConfirming] = useState(false);
  const remove = async () => {
    onError(null);
    try {
      await rpc.call('alertservice.delete', [s.id]);
    } catch (err) {
      onError((err as Error).message);
    }
  };
  const where = typeof s.attributes.url === 'string' ? s.attributes.url : Array.isArray(s.attributes.to) ? (s.attributes.to as string[]).join(', ') : '';
  return html`
    <tr data-testid="alertservice-row" data-id=${s.id}>
      <td data-label="Name"><strong>${s.name}</strong>${s.enabled ? null : html` <span class="tag">disabled</span>`}</td>
      <td data-label="Type">${s.type__title}</td>
      <td data-label="To"><code>${where}</code></td>
      <td data-label="From level">${s.level}</td>
      <td data-label="Actions" class="row-actions">${confirming
        ? html`<span class="confirm" role="group" aria-label=${`Confirm removing ${s.name}`}><button type="button" class="danger" data-testid="alertservice-delete-confirm" onClick=${remove}>Yes, remove</button><button type="button" onClick=${() => setConfirming(false)}>Cancel</button></span>`
        : html`<button type="button" class="danger" data-testid="alertservice-delete" onClick=${() => setConfirming(true)}>Remove<span class="sr-only"> ${s.name}</span></button>`}</td>
    </tr>`;
}

export function AlertServicesPage({ rpc }: { rpc: RpcClient }) {
  const list = useLiveList<AlertService>(rpc, 'alertservice.query', 'alertservice.query');
  const [error, setError] = useState<string | null>(null);
  return html`
    <div class="alertservices">
      <div class="page-head"><h1>Alert services</h1></div>
      <p class="muted">Each service gets the alerts at or above its level when they are raised and cleared, at once or in hourly or daily digests as each alert class's policy says. Deliveries are stored and retried until they get through.</p>
      ${list.error ? html`<p class="error" role="alert">${list.error}</p>` : null}
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${list.items !== null && list.items.length === 0 ? html`<p class="muted empty">No alert services yet.</p>` : null}
      ${list.items !== null && list.items.length > 0 ? html`
        <div class="table-wrap"><table data-testid="alertservices-table"><caption class="sr-only">Alert services</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">To</th><th scope="col">From level</th><th scope="col">Actions</th></tr></thead>
          <tbody>${list.items.map((s) => html`<${Row} key=${s.id} rpc=${rpc} s=${s} onError=${setError} />`)}</tbody></table></div>` : null}
      <${ServiceForm} rpc=${rpc} onDone=${() => setError(null)} />
    </div>`;
}
