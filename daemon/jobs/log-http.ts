// GET /api/jobs/<id>/logs: a job's log over plain HTTP (issue 19 item 9), for curl and scripts.
//
//   Authorization: Bearer <API key or auth token>    required over TCP; on the unix socket a
//                   request without it is the local administrator's, as on its WebSocket
//   (no query)      the log as it is now, text/plain
//   ?follow=1       Server-Sent Events until the job ends (log-events.ts), resuming after the
//                   byte offset in Last-Event-ID
//
// Access is core.job_logs': the job's owner, a full admin, or a holder of its method's read roles.
// A job that does not exist and one the caller may not read get the same answer (404), so the
// endpoint tells nobody which job ids exist. A bad or missing credential is 401; the login goes
// through the auth service as a WebSocket login does (throttled per address, failures answered
// after the same delay). A single-use token works once: reconnects need a reusable token or a key.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { AuthService } from '../auth/service.js';
import type { Credentials } from '../auth/credentials.js';
import { sendText, type RouteHandler } from '../http.js';
import type { Logger } from '../log.js';
import type { ConnectionInfo } from '../registry.js';
import { streamLogEvents } from './log-events.js';
import type { JobManager } from './manager.js';

export const JOB_LOGS_PREFIX = '/api/jobs/';
const PATH = /^\/api\/jobs\/([1-9][0-9]{0,14})\/logs$/;
/** An API key is `<id>-<64 letters and digits>`; anything else is taken for a token. */
const API_KEY = /^[0-9]{1,10}-[A-Za-z0-9]{64}$/;
const NOT_FOUND = 'Not Found: no such job, or it is not yours to read\n';

export interface JobLogsDeps {
  jobs: JobManager;
  auth: Pick<AuthService, 'initialCredentials' | 'loginApiKey' | 'loginToken' | 'disconnected'>;
  log: Logger;
}

/** The credentials of the request's bearer secret, or null. */
async function bearerCredentials(req: IncomingMessage, auth: JobLogsDeps['auth']): Promise<Credentials | null> {
  const unix = req.socket.remoteAddress === undefined;
  const remote = req.socket.remoteAddress ?? 'unix';
  // A stand-in for a connection, forgotten as soon as the login is done: the request is the session.
  const conn: ConnectionInfo = {
    id: `http-${randomUUID()}`, options: { legacy_jobs: true, private_methods: false, py_exceptions: false }, protocol: 'jsonrpc',
    credentials: null, close: () => undefined, transport: unix ? 'unix' : 'tcp', remoteAddress: remote, origin: unix ? 'unix' : remote,
  };
  const header = req.headers.authorization;
  // The unix socket's peers are the local administrator, as on its WebSocket (the socket is 0600).
  if (header === undefined && unix) return auth.initialCredentials(conn);
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  if (!m) return null;
  try {
    const result = API_KEY.test(m[1]!) ? await auth.loginApiKey(conn, null, m[1]!) : await auth.loginToken(conn, m[1]!);
    return result.type === 'SUCCESS' ? result.credentials : null;
  } finally {
    auth.disconnected(conn.id);
  }
}

function refuse(res: ServerResponse, status: number, text: string): void {
  if (status === 401) res.setHeader('www-authenticate', 'Bearer');
  res.setHeader('cache-control', 'no-store');
  sendText(res, status, text);
}

export function jobLogsRoute(deps: JobLogsDeps): RouteHandler {
  return async (req, res, url) => {
    const path = PATH.exec(url.pathname);
    if (!path) return refuse(res, 404, 'Not Found\n');
    const id = Number(path[1]);
    const lastId = req.headers['last-event-id'];
    const from = lastId === undefined ? 0 : /^[0-9]{1,15}$/.test(String(lastId).trim()) ? Number(String(lastId).trim()) : null;
    if (from === null) return refuse(res, 400, 'Bad Request: Last-Event-ID must be a byte offset (a whole number)\n');
    const credentials = await bearerCredentials(req, deps.auth);
    if (credentials === null) return refuse(res, 401, 'Unauthorized: send "Authorization: Bearer <API key or token>"\n');
    const record = await deps.jobs.read(id, credentials).catch(() => null);
    if (record === null) return refuse(res, 404, NOT_FOUND);
    if (record.logs_path === null) return refuse(res, 404, `Not Found: job ${id} has no log\n`);
    const follow = ['1', 'true', 'yes'].includes(url.searchParams.get('follow') ?? '');
    const stop = new AbortController();
    res.on('close', () => stop.abort());
    if (!follow) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      if (req.method === 'HEAD') return void res.end();
      // What the file holds now (a running job's log so far).
      const file = createReadStream(record.logs_path);
      file.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? res.end() : res.destroy(err)));
      await pipeline(file, res, { signal: stop.signal }).catch(() => undefined);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    res.flushHeaders();
    deps.log.info({ job: id, user: credentials.username, from }, 'job log followed over HTTP');
    await streamLogEvents(res, deps.jobs, id, record.logs_path, from, stop.signal);
  };
}
