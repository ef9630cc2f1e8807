// The shell: login screen or the pages, the "reconnecting" banner, navigation and logout.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { AlertBell, AlertsPage, type Alert } from './alerts-page.js';
import { AlertServicesPage } from './alertservices-page.js';
import { JobsPage } from './jobs-page.js';
import { useLiveList, type LiveList } from './live-list.js';
import { useRoute, type Route } from './router.js';
import type { ConnState, RpcClient } from './rpc.js';
import { SchedulesPage } from './schedules-page.js';
import { SessionsPage } from './sessions-page.js';
import { WebhooksPage } from './webhooks-page.js';
import { StoragePage } from './storage-page.js';
import { ShellPage } from './shell-page.js';
import { SystemPage } from './system-page.js';
import { LoginFailed, storedToken, type Session, type SessionInfo } from './session.js';

export interface AppProps {
  rpc: RpcClient;
  session: Session;
}

function useConnection(rpc: RpcClient): { state: ConnState; attempt: number } {
  const [s, set] = useState({ state: rpc.state, attempt: 0 });
  useEffect(() => rpc.onState((state, attempt) => set({ state, attempt })), [rpc]);
  return s;
}

function Banner({ state, attempt }: { state: ConnState; attempt: number }) {
  // Always in the DOM, so screen readers announce the change (role=status is a live region).
  const text = state === 'reconnecting' ? `Connection to the daemon lost \u2014 reconnecting${attempt > 1 ? ` (attempt ${attempt})` : ''}\u2026` : '';
  return html`<div class=${`banner${text ? ' shown' : ''}`} role="status" data-testid="conn-banner">${text}</div>`;
}

function LoginScreen({ session, reason }: { session: Session; reason: string | null }) {
  const [kind, setKind] = useState<'password' | 'api_key'>('password');
  const [username, setUsername] = useState('admin');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);
  const secretRef = useRef<HTMLInputElement>(null);

  useEffect(() => setError(reason), [reason]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.login(kind === 'password' ? { kind, username, password: secret } : { kind, username, apiKey: secret });
    } catch (err) {
      setError(err instanceof LoginFailed ? err.message : (err as Error).message);
      setSecret('');
      secretRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return html`
    <main class="login" id="main">
      <form class="card login-card" onSubmit=${submit} aria-labelledby="login-title">
        <h1 id="login-title">Midship</h1>
        <p class="muted">Log in to follow and control jobs.</p>
        <fieldset class="segmented">
          <legend class="sr-only">Log in with</legend>
          <label><input type="radio" name="kind" value="password" checked=${kind === 'password'} onChange=${() => setKind('password')} /> Password</label>
          <label><input type="radio" name="kind" value="api_key" checked=${kind === 'api_key'} onChange=${() => setKind('api_key')} /> API key</label>
        </fieldset>
        <label for="login-user">Username</label>
        <input id="login-user" name="username" autocomplete="username" required value=${username} onInput=${(e: Event) => setUsername((e.target as HTMLInputElement).value)} />
        <label for="login-secret">${kind === 'password' ? 'Password' : 'API key'}</label>
        <input id="login-secret" name=${kind === 'password' ? 'password' : 'api_key'} ref=${secretRef} type="password" required
          autocomplete=${kind === 'password' ? 'current-password' : 'off'} placeholder=${kind === 'api_key' ? '7-xxxxxxxx' : ''}
          value=${secret} onInput=${(e: Event) => setSecret((e.target as HTMLInputElement).value)} aria-describedby=${error ? 'login-error' : undefined} />
        ${error ? html`<p class="error" id="login-error" role="alert" data-testid="login-error">${error}</p>` : null}
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Logging in\u2026' : 'Log in'}</button>
      </form>
    </main>`;
}

const TITLES: Record<Route['page'], string> = { jobs: 'Jobs', schedules: 'Schedules', sessions: 'Sessions', alerts: 'Alerts', alertservices: 'Alert services', webhooks: 'Webhooks', storage: 'Storage', system: 'System', shell: 'Shell' };

function page(route: Route, rpc: RpcClient, alerts: LiveList<Alert>) {
  switch (route.page) {
    case 'jobs': return html`<${JobsPage} rpc=${rpc} route=${route} />`;
    case 'schedules': return html`<${SchedulesPage} rpc=${rpc} route=${route} />`;
    case 'sessions': return html`<${SessionsPage} rpc=${rpc} />`;
    case 'alerts': return html`<${AlertsPage} rpc=${rpc} alerts=${alerts} />`;
    case 'alertservices': return html`<${AlertServicesPage} rpc=${rpc} />`;
    case 'webhooks': return html`<${WebhooksPage} rpc=${rpc} />`;
    case 'storage': return html`<${StoragePage} rpc=${rpc} />`;
    case 'system': return html`<${SystemPage} rpc=${rpc} />`;
    case 'shell': return html`<${ShellPage} rpc=${rpc} />`;
  }
}

function Shell({ rpc, session, user }: AppProps & { user: SessionInfo }) {
  const route = useRoute();
  // One alert list for the bell and the alerts page, followed from login on.
  const alerts = useLiveList<Alert>(rpc, 'alert.list', 'alert.list');
  const [loggingOut, setLoggingOut] = useState(false);
  const mainRef = useRef<HTMLElement>(null);
  const link = (page: Route['page'], label: string) =>
    html`<a href=${`#/${page}`} class=${route.page === page ? 'active' : ''} aria-current=${route.page === page ? 'page' : undefined}>${label}</a>`;
  useEffect(() => {
    document.title = route.page === 'jobs' && route.id !== null ? `Job ${route.id} \u00b7 Midship` : `${TITLES[route.page]} \u00b7 Midship`;
  }, [route.page, route.id]);
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => (e.preventDefault(), mainRef.current?.focus())}>Skip to content</a>
    <header class="topbar">
      <span class="brand">Midship</span>
      <nav aria-label="Pages">${link('jobs', 'Jobs')}${link('schedules', 'Schedules')}${link('sessions', 'Sessions')}${link('storage', 'Storage')}${link('system', 'System')}${link('shell', 'Shell')}${link('alertservices', 'Alert services')}${link('webhooks', 'Webhooks')}</nav>
      <${AlertBell} alerts=${alerts} />
      <span class="user">
        <span class="muted" data-testid="whoami">${user.username}</span>
        <button type="button" disabled=${loggingOut} onClick=${() => (setLoggingOut(true), void session.logout())}>Log out</button>
      </span>
    </header>
    <main id="main" ref=${mainRef} tabindex="-1">
      ${page(route, rpc, alerts)}
    </main>`;
}

export function App({ rpc, session }: AppProps) {
  const conn = useConnection(rpc);
  const [user, setUser] = useState<SessionInfo | null>(session.current);
  // 'resuming': a stored token is being tried; the login form would only flash.
  const [resuming, setResuming] = useState(() => storedToken() !== null);
  const [reason, setReason] = useState<string | null>(null);

  useEffect(() => {
    const off = session.onChange((s, why) => {
      setUser(s);
      if (s === null) setReason(why);
    });
    if (session.current === null && storedToken() !== null) {
      session.resume().then(
        () => setResuming(false),
        (err: unknown) => {
          setReason(err instanceof LoginFailed ? err.message : null);
          setResuming(false);
        },
      );
    }
    return off;
  }, [session]);

  const body = user !== null
    ? html`<${Shell} rpc=${rpc} session=${session} user=${user} />`
    : resuming
      ? html`<main class="login" id="main"><p class="muted" role="status">Connecting\u2026</p></main>`
      : html`<${LoginScreen} session=${session} reason=${reason} />`;
  return html`<${Banner} state=${conn.state} attempt=${conn.attempt} />${body}`;
}
