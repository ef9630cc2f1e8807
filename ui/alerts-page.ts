// The alert bell (active alerts counted by level, in the top bar on every page) and the alerts
// page: the current alerts, most severe first as alert.list orders them, each dismissable, and
// the dismissed ones restorable. Both follow the `alert.list` event, so they change by themselves.
import { useState } from 'preact/hooks';
import { formatFullTime, relative } from './format.js';
import { html } from './html.js';
import type { LiveList } from './live-list.js';
import type { RpcClient } from './rpc.js';

export interface Alert {
  uuid: string;
  klass: string;
  source: string;
  level: string;
  formatted: string | null;
  text: string;
  datetime: { $date: number };
  dismissed: boolean;
  one_shot: boolean;
}

/** Most severe first. */
const LEVELS = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO'];

export function levelCounts(alerts: readonly Alert[]): Array<[string, number]> {
  const active = alerts.filter((a) => !a.dismissed);
  return LEVELS.map((l): [string, number] => [l, active.filter((a) => a.level === l).length]).filter(([, n]) => n > 0);
}

export function AlertBell({ alerts }: { alerts: LiveList<Alert> }) {
  const counts = levelCounts(alerts.items ?? []);
  const total = counts.reduce((n, [, c]) => n + c, 0);
  const words = counts.map(([l, n]) => `${n} ${l.toLowerCase()}`).join(', ');
  return html`
    <a href="#/alerts" class=${`bell${total > 0 ? ' bell-on' : ''}`} data-testid="alert-bell" aria-label=${total === 0 ? 'Alerts: none active' : `Alerts: ${total} active (${words})`}>
      Alerts${total === 0 ? html` <span class="muted">0</span>` : counts.map(([l, n]) => html` <span class=${`lvl lvl-${l.toLowerCase()}`} data-level=${l}>${n} ${l.toLowerCase()}</span>`)}
    </a>`;
}

function Row({ rpc, a, onError }: { rpc: RpcClient; a: Alert; onError: (e: string | null) => void }) {
  const [busy, setBusy] = useState(false);
  const act = async (method: 'alert.dismiss' | 'alert.restore') => {
    setBusy(true);
    onError(null);
    try {
      await rpc.call(method, [a.uuid]); // the alert.list event updates the list
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const text = a.formatted ?? a.text;
  return html`
    <tr data-testid="alert-row" data-uuid=${a.uuid} data-klass=${a.klass} class=${a.dismissed ? 'dismissed' : ''}>
      <td data-label="Level"><span class=${`lvl lvl-${a.level.toLowerCase()}`}>${a.level}</span></td>
      <td data-label="Alert" class="alert-text">${text}<div class="muted small">${a.klass}${a.source ? ` \u00b7 ${a.source}` : ''}</div></td>
      <td data-label="Since" title=${formatFullTime(a.datetime.$date)}>${relative(a.datetime.$date)}</td>
      <td data-label="Actions" class="row-actions">
        ${a.dismissed
          ? html`<button type="button" disabled=${busy} data-testid="alert-restore" onClick=${() => act('alert.restore')}>Restore<span class="sr-only"> ${text}</span></button>`
          : html`<button type="button" disabled=${busy} data-testid="alert-dismiss" onClick=${() => act('alert.dismiss')}>${a.one_shot ? 'Dismiss (deletes)' : 'Dismiss'}<span class="sr-only"> ${text}</span></button>`}
      </td>
    </tr>`;
}

function Table({ rpc, list, caption, testid, onError }: { rpc: RpcClient; list: Alert[]; caption: string; testid: string; onError: (e: string | null) => void }) {
  return html`
    <div class="table-wrap">
      <table data-testid=${testid}>
        <caption class="sr-only">${caption}</caption>
        <thead><tr><th scope="col">Level</th><th scope="col">Alert</th><th scope="col">Since</th><th scope="col">Actions</th></tr></thead>
        <tbody>${list.map((a) => html`<${Row} key=${a.uuid} rpc=${rpc} a=${a} onError=${onError} />`)}</tbody>
      </table>
    </div>`;
}

export function AlertsPage({ rpc, alerts }: { rpc: RpcClient; alerts: LiveList<Alert> }) {
  const [error, setError] = useState<string | null>(null);
  const items = alerts.items;
  const active = items?.filter((a) => !a.dismissed) ?? [];
  const dismissed = items?.filter((a) => a.dismissed) ?? [];
  return html`
    <div class="alerts">
      <div class="page-head"><h1>Alerts</h1></div>
      <p class="muted">What needs a person: raised by the daemon's checks and tasks, cleared when the condition goes away. A dismissed alert stays listed below until its condition clears; a one-time alert (a failed run) is deleted when dismissed.</p>
      ${alerts.error ? html`<p class="error" role="alert">${alerts.error}</p>` : null}
      ${error ? html`<p class="error" role="alert" data-testid="alerts-error">${error}</p>` : null}
      ${items === null && !alerts.error ? html`<p class="muted">Loading\u2026</p>` : null}
      ${items !== null ? html`
        <h2>Active (${active.length})</h2>
        ${active.length === 0 ? html`<p class="muted empty" data-testid="alerts-none">No active alerts.</p>` : html`<${Table} rpc=${rpc} list=${active} caption="Active alerts" testid="alerts-active" onError=${setError} />`}
        ${dismissed.length > 0 ? html`<h2>Dismissed (${dismissed.length})</h2><${Table} rpc=${rpc} list=${dismissed} caption="Dismissed alerts" testid="alerts-dismissed" onError=${setError} />` : null}
      ` : null}
    </div>`;
}
