// The web shell (MODULES.md §6): WebSocket /websocket/shell (and /_shell, TrueNAS's own path).
// The first text frame is {"token": <auth.generate_token token>, "options": {...}}; the server
// answers {"msg":"connected","id":<session>} or {"msg":"failed","error":{error, reason}} and
// the client may try again. Then raw pty bytes both ways (pty-session.ts); core.resize_shell on
// the API connection resizes it. Only full admins (or holders of WEB_SHELL_WRITE) get a shell: it
// runs as the daemon's own OS user. Each attempt and each end is written to the audit trail, and
// a user may hold only so many shells at once.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { arg, CallError, ERRNO, hasAnyRole, isFullAdmin, method, Type, type App, type ConnectionInfo, type Credentials, type ModuleDef, type Transport } from '#midship/module-api';
import { PtySession } from './pty-session.js';

export const SHELL_PATHS = ['/websocket/shell', '/websocket/shell/', '/_shell', '/_shell/'];
export const SHELL_ROLE = 'WEB_SHELL_WRITE';
/** Shells one user may have open at once. */
export const SHELLS_PER_USER = 8;
/** Handshake messages (token tries) one socket may send before it is closed. */
const MAX_ATTEMPTS = 10;
/** A socket that has not authenticated within this is closed. */
const HANDSHAKE_MS = 60_000;
/** Options that ask for a VM, app or container console: Midship has none of those. */
const OTHER_SHELLS = ['vm_id', 'app_name', 'container_id', 'virt_instance_id'];

interface Open {
  session: PtySession;
  owner: string;
  credentials: Credentials;
  remote: string;
}

const ownerOf = (c: Credentials) => (c.userId !== null ? `user:${c.userId}` : `${c.type}:${c.username}`);

export function shellModule(app: App): ModuleDef {
  const shells = new Map<string, Open>();
  /** Every shell socket, authenticated or not: a stop closes them all. */
  const sockets = new Set<WebSocket>();
  let stopping = false;

  function audit(event: 'WEBSHELL_AUTHENTICATION' | 'WEBSHELL_LOGOUT', who: Credentials | null, remote: string, ok: boolean, details: Record<string, unknown>): void {
    app.log.info({ audit: true, user: who?.username ?? null, cred: who?.type ?? null, remote, method: event, args: [details], ok }, 'audit');
  }

  function accept(ws: WebSocket, req: IncomingMessage, transport: Transport): void {
    if (stopping) return ws.close(1001, 'Server shutting down');
    sockets.add(ws);
    const remote = transport === 'unix' ? 'unix' : `${req.socket.remoteAddress ?? '?'}`;
    let attempts = 0;
    let busy = false;
    let open: Open | null = null;
    const deadline = setTimeout(() => ws.close(1008, 'No shell token received'), HANDSHAKE_MS);
    deadline.unref();
    const reply = (body: unknown): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(body));
    };
    const fail = (errno: number, reason: string) => reply({ msg: 'failed', error: { error: errno, reason } });

    const conn: ConnectionInfo = {
      id: `shell-${randomUUID()}`, options: { legacy_jobs: true, private_methods: false, py_exceptions: false }, protocol: 'jsonrpc',
      credentials: null, close: (code, reason) => ws.close(code, reason), transport, remoteAddress: req.socket.remoteAddress ?? 'unknown',
      origin: transport === 'unix' ? 'unix' : (req.socket.remoteAddress ?? 'unknown'),
    };

    async function handshake(text: string): Promise<void> {
      let msg: { token?: unknown; options?: unknown };
      try {
        msg = JSON.parse(text) as typeof msg;
      } catch {
        return; // before authentication, anything that is not a token message is ignored
      }
      if (msg === null || typeof msg !== 'object' || typeof msg.token !== 'string') return;
      if (++attempts > MAX_ATTEMPTS) return void ws.close(1008, 'Too many attempts');
      const result = await app.auth.loginToken(conn, msg.token, { plainOnly: true });
      if (result.type !== 'SUCCESS') {
        audit('WEBSHELL_AUTHENTICATION', null, remote, false, { reason: 'invalid token' });
        return fail(ERRNO.ENOTAUTHENTICATED, 'Invalid token');
      }
      const c = result.credentials;
      const options = (msg.options !== null && typeof msg.options === 'object' ? msg.options : {}) as Record<string, unknown>;
      if (!hasAnyRole(c, [SHELL_ROLE])) {
        audit('WEBSHELL_AUTHENTICATION', c, remote, false, { reason: 'no web shell privilege' });
        return fail(ERRNO.EACCES, 'Web shell privilege not granted for this account');
      }
      const other = OTHER_SHELLS.find((k) => options[k] !== undefined && options[k] !== null);
      if (other !== undefined) {
        audit('WEBSHELL_AUTHENTICATION', c, remote, false, { reason: `unsupported option ${other}` });
        return fail(ERRNO.EINVAL, `Midship has only the host shell (no VM, app or container consoles): '${other}' is not supported`);
      }
      const owner = ownerOf(c);
      const held = [...shells.values()].filter((s) => s.owner === owner).length;
      if (held >= SHELLS_PER_USER) {
        audit('WEBSHELL_AUTHENTICATION', c, remote, false, { reason: 'too many shells' });
        return fail(ERRNO.EBUSY, `${c.username} already has ${SHELLS_PER_USER} shells open, the most one user may have`);
      }
      if (stopping || ws.readyState !== ws.OPEN) return;
      const id = randomUUID();
      let session: PtySession;
      try {
        session = new PtySession({ id, ws, onEnd: () => ended(id) });
      } catch (err) {
        app.log.error({ err }, 'web shell: the shell could not be started');
        audit('WEBSHELL_AUTHENTICATION', c, remote, false, { reason: 'spawn failed' });
        return fail(ERRNO.EFAULT, `The shell could not be started: ${(err as Error).message}`);
      }
      clearTimeout(deadline);
      open = { session, owner, credentials: c, remote };
      shells.set(id, open);
      audit('WEBSHELL_AUTHENTICATION', c, remote, true, { session: id, pid: session.pty.pid });
      reply({ msg: 'connected', id });
    }

    function ended(id: string): void {
      const s = shells.get(id);
      if (!s) return;
      shells.delete(id);
      audit('WEBSHELL_LOGOUT', s.credentials, s.remote, true, { session: id });
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (open !== null) return open.session.fromClient(data);
      if (isBinary || busy) return; // the handshake is one text frame at a time
      busy = true;
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
      handshake(text)
        .catch((err: unknown) => {
          app.log.error({ err }, 'web shell: handshake failed');
          fail(ERRNO.EFAULT, 'Internal error');
        })
        .finally(() => (busy = false));
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      sockets.delete(ws);
      clearTimeout(deadline);
      open?.session.socketClosed();
    });
  }

  for (const path of SHELL_PATHS) app.http.upgrade(path, accept);

  return {
    services: [],
    roles: [SHELL_ROLE],
    methods: [
      method('core.resize_shell', {
        description: 'Resize web shell `id` (the id its socket answered "connected" with) to cols x rows.',
        args: [arg('id', Type.String({ minLength: 1, maxLength: 64 })), arg('cols', Type.Integer({ minimum: 1, maximum: 1000 })), arg('rows', Type.Integer({ minimum: 1, maximum: 1000 }))],
        result: Type.Null(),
        authOnly: true,
        handler: (ctx, id, cols, rows) => {
          const s = shells.get(id);
          // Another user's shell does not exist for this caller.
          if (!s || !(isFullAdmin(ctx.credentials) || (ctx.credentials !== null && ownerOf(ctx.credentials) === s.owner))) {
            throw new CallError('Shell does not exist', ERRNO.ENOENT);
          }
          s.session.resize(cols, rows);
          return null;
        },
      }),
    ],
    async stopping() {
      // Before the listeners close: an open shell socket would keep the server from closing.
      stopping = true;
      const all = [...shells.values()];
      for (const s of all) s.session.socketClosed();
      await Promise.all(all.map((s) => s.session.whenExited()));
      // A peer that does not answer the close handshake would hold the listener open.
      await Promise.all([...sockets].map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) return resolve();
        const cut = setTimeout(() => (ws.terminate(), resolve()), 1000);
        ws.once('close', () => (clearTimeout(cut), resolve()));
        ws.close(1001, 'Server shutting down');
      })));
    },
  };
}
