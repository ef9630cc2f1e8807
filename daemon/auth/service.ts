// Who a connection is. Over the unix socket every peer is the local administrator (PROTOCOL.md
// section 0: Node cannot read SO_PEERCRED, the socket is mode 0600 instead); TCP peers start
// unauthenticated. Writes by sessions are recorded in the audit log.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { ConnectionInfo } from '../registry.js';
import type { Credentials } from './credentials.js';

export class AuthService {
  constructor(private readonly log: Logger) {}

  /** Credentials a new connection starts with. */
  initialCredentials(conn: ConnectionInfo): Credentials | null {
    if (conn.transport !== 'unix') return null;
    return { type: 'UNIX_SOCKET', username: 'root', userId: null, roles: ['FULL_ADMIN'], loginId: randomUUID(), loginAt: Date.now() };
  }

  /** One audit line per state-changing call (arguments already redacted). */
  audit(credentials: Credentials, connection: ConnectionInfo, method: string, args: unknown[], ok: boolean): void {
    this.log.info({ audit: true, user: credentials.username, cred: credentials.type, conn: connection.id, remote: connection.remoteAddress, method, args, ok }, 'audit');
  }
}
