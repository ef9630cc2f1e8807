// GET /metrics in the Prometheus text format (collectors.ts). Who may read it: anyone on the unix
// socket (the local administrator) or on loopback; from other addresses only when the daemon is
// configured so (MIDSHIP_METRICS_REMOTE=1), with an API key of a user holding READONLY_ADMIN,
// METRICS_READ or FULL_ADMIN in `Authorization: Bearer <key>`. Metrics name methods, users' job
// counts and pools: not for the whole network by default.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasAnyRole, isExpired, type App, type ConnectionInfo, type Credentials, type ModuleDef } from '#midship/module-api';
import { PoolSource } from '../reporting/pools.js';
import { createMetrics } from './collectors.js';

export const METRICS_PATH = '/metrics';
export const METRICS_ROLE = 'METRICS_READ';
/** A verified key is trusted this long (verification is a deliberately slow PBKDF2); revocation still applies at once. */
const KEY_TRUST_MS = 60_000;

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function deny(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${text}\n`);
}

export function metricsModule(app: App): ModuleDef {
  const pools = new PoolSource(app);
  const metrics = createMetrics(app, pools);
  const removeObserver = app.observe(metrics.observer);
  const trusted = new Map<string, { keyId: number; until: number }>();

  /** The credentials of an API key login, as auth.login_with_api_key checks it (throttled per address). */
  async function keyCredentials(req: IncomingMessage, key: string): Promise<Credentials | null> {
    const digest = createHash('sha256').update(key).digest('hex');
    const hit = trusted.get(digest);
    if (hit && hit.until > Date.now()) {
      const record = app.auth.keys.get(hit.keyId);
      const user = record ? app.auth.users.byName(record.username) : undefined;
      if (record && !record.revoked && !isExpired(record) && user && !user.locked) {
        return { type: 'API_KEY', username: user.username, userId: user.id, roles: [...user.roles], loginId: 'metrics', loginAt: Date.now(), apiKey: { id: record.id, name: record.name } };
      }
    }
    trusted.delete(digest);
    const remote = req.socket.remoteAddress ?? 'unknown';
    // A stand-in for the scrape's connection: one id for all, so a key's expiry timer is replaced, never piled up.
    const conn: ConnectionInfo = {
      id: 'metrics-scrape', options: { legacy_jobs: true, private_methods: false, py_exceptions: false }, protocol: 'jsonrpc',
      credentials: null, close: () => {}, transport: 'tcp', remoteAddress: remote, origin: remote,
    };
    const result = await app.auth.loginApiKey(conn, null, key);
    if (result.type !== 'SUCCESS') return null;
    if (result.credentials.apiKey) {
      if (trusted.size > 1000) trusted.clear();
      trusted.set(digest, { keyId: result.credentials.apiKey.id, until: Date.now() + KEY_TRUST_MS });
    }
    return result.credentials;
  }

  app.http.add('GET', METRICS_PATH, async (req, res, _url, transport) => {
    if (transport !== 'unix' && !isLoopback(req.socket.remoteAddress)) {
      if (!app.config.metricsRemote) return deny(res, 403, 'Forbidden: /metrics is served to the unix socket and loopback only (MIDSHIP_METRICS_REMOTE=1 opens it to API keys)');
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m) return deny(res, 401, 'Unauthorized: send an API key as "Authorization: Bearer <key>"', { 'www-authenticate': 'Bearer' });
      const c = await keyCredentials(req, m[1]!);
      if (c === null) return deny(res, 401, 'Unauthorized: invalid, expired or revoked API key', { 'www-authenticate': 'Bearer' });
      if (!hasAnyRole(c, [METRICS_ROLE])) return deny(res, 403, `Forbidden: the key's user needs READONLY_ADMIN, ${METRICS_ROLE} or FULL_ADMIN`);
    }
    await metrics.refreshPools();
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });

  return {
    services: [],
    roles: [METRICS_ROLE],
    methods: [],
    stop() {
      removeObserver();
      metrics.registry.clear();
    },
  };
}
