// Active sessions (auth.sessions, kept live by `auth.sessions` events): who, how they logged in,
// from where, since when; end one, or every other. A user sees its own sessions, a session admin
// (AUTH_SESSIONS_READ) everyone's; the daemon decides, this page shows what it is given. Ending a
// session closes its connection and revokes its tokens, so a dashboard there cannot log back in.
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatFullTime, relative } from './format.js';
import { html } from './html.js';
import { RpcError, type RpcClient } from './rpc.js';

interface CredentialsData {
  username?: string | null;
  api_key?: { id: number; name: string };
  parent?: { credentials: string; credentials_data: CredentialsData };
}

export interface SessionEntry {
  id: string;
  current: boolean;
  internal: boolean;
  origin: string;
  credentials: string;
  credentials_data: CredentialsData;
  created_at: { $date: number };
  secure_transport: boolean;
}

const KIND: Record<string, string> = {
  LOGIN_PASSWORD: 'Password',
  API_KEY: 'API key',
  TOKEN: 'Token',
  UNIX_SOCKET: 'Local socket',
  LOGIN_TWOFACTOR: 'Password and second factor',
  LOGIN_ONETIME_PASSWORD: 'One-time password',
};

function how(credentials: string, data: CredentialsData): string {
  const kind = KIND[credentials] ?? credentials;
  if (data.api_key) return `${kind} \u201c${data.api_key.name}\u201d`;
  if (data.parent) return `${kind} (from ${how(data.parent.credentials, data.parent.credentials_data).toLowerCase()})`;
  return kind;
}

function who(data: CredentialsData): string {
  return data.username ?? data.parent?.credentials_data.username ?? '?';
}

function useSessions(rpc: RpcClient): { sessions: SessionEntry[] | null; error: string | null } {
  const [sessions, setSessions] = useState<SessionEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    let off: (() => void) | null = null;
    const load = async () => {
      try {
        const list = await rpc.call<SessionEntry[]>('auth.sessions', [[['internal', '=', false]], { order_by: ['created_at'] }]);
        if (gone) return;
        setSessions(list);
        setError(null);
      } catch (err) {
        if (!gone) setError((err as Error).message);
      }
    };
    // Sessions are few: any change reloads the list (the event carries no `current`).
    void rpc
      .subscribe('auth.sessions', () => void load())
      .then((o) => (gone ? o() : (off = o)))
      .then(load);
    const offReconnect = rpc.onReconnected(() => void load());
    return () => {
      gone = true;
      off?.();
      offReconnect();
    };
  }, [rpc]);
  return { sessions, error };
}

function Row({ rpc, s, onError }: { rpc: RpcClient; s: SessionEntry; onError: (e: string | null) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  const end = async () => {
    setBusy(true);
    onError(null);
    try {
      if (!(await rpc.call<boolean>('auth.terminate_session', [s.id]))) onError('That session had already ended.');
    } catch (err) {
      onError(err instanceof RpcError ? err.message : (err as Error).message);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const since = s.created_at.$date;
  const user = who(s.credentials_data);
  return html`
    <tr data-session=${s.id} class=${s.current ? 'current' : ''}>
      <td data-label="User"><strong>${user}</strong>${s.current ? html` <span class="tag" data-testid="this-session">this session</span>` : null}</td>
      <td data-label="Logged in with">${how(s.credentials, s.credentials_data)}</td>
      <td data-label="From"><code>${s.origin}</code>${s.secure_transport ? null : html` <span class="muted small">(not encrypted)</span>`}</td>
      <td data-label="Since" title=${formatFullTime(since)}>${formatFullTime(since)} (${relative(since)})</td>
      <td data-label="Actions" class="row-actions">
        ${s.current
          ? html`<span class="muted small">use Log out</span>`
          : confirming
            ? html`<span class="confirm" role="group" aria-label=${`Confirm ending ${user}'s session`}><button type="button" class="danger" ref=${confirmRef} disabled=${busy} data-testid="session-end-confirm" onClick=${end}>Yes, end it</button><button type="button" onClick=${() => setConfirming(false)}>Cancel</button></span>`
            : html`<button type="button" class="danger" data-testid="session-end" onClick=${() => setConfirming(true)}>End session<span class="sr-only"> of ${user} from ${s.origin}</span></button>`}
      </td>
    </tr>`;
}

export function SessionsPage({ rpc }: { rpc: RpcClient }) {
  const { sessions, error } = useSessions(rpc);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [busy, setBusy] = useState(false);
  const others = sessions?.filter((s) => !s.current).length ?? 0;
  const endOthers = async () => {
    setBusy(true);
    setActionError(null);
    try {
      // The `auth.sessions` events of the ended sessions update the list.
      await rpc.call('auth.terminate_other_sessions');
    } catch (err) {
      setActionError(err instanceof RpcError ? err.message : (err as Error).message);
    } finally {
      setBusy(false);
      setConfirmAll(false);
    }
  };
  return html`
    <div class="sessions">
      <div class="page-head">
        <h1>Sessions</h1>
        ${others > 0
          ? confirmAll
            ? html`<span class="confirm" role="group" aria-label="Confirm ending every other session"><button type="button" class="danger" disabled=${busy} data-testid="sessions-end-others-confirm" onClick=${endOthers}>Yes, end ${others} other session${others === 1 ? '' : 's'}</button><button type="button" onClick=${() => setConfirmAll(false)}>Cancel</button></span>`
            : html`<button type="button" class="danger" data-testid="sessions-end-others" onClick=${() => setConfirmAll(true)}>End all other sessions</button>`
          : null}
      </div>
      <p class="muted">Ending a session closes its connection at once; the tokens it logged in with or made stop working, so it cannot come back without logging in again.</p>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${actionError ? html`<p class="error" role="alert" data-testid="sessions-error">${actionError}</p>` : null}
      ${sessions === null && !error ? html`<p class="muted">Loading\u2026</p>` : null}
      ${sessions !== null ? html`
        <div class="table-wrap">
          <table class="session-list" data-testid="sessions-table">
            <caption class="sr-only">Active sessions</caption>
            <thead><tr><th scope="col">User</th><th scope="col">Logged in with</th><th scope="col">From</th><th scope="col">Since</th><th scope="col">Actions</th></tr></thead>
            <tbody>${sessions.map((s) => html`<${Row} key=${s.id} rpc=${rpc} s=${s} onError=${setActionError} />`)}</tbody>
          </table>
        </div>` : null}
    </div>`;
}
