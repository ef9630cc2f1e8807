// Real local receivers for the delivery tests: an HTTP server whose answer to each request the
// test scripts, an SMTP server (smtp-server) that keeps what it is sent, a classic-level db in a
// temp dir that can be closed and reopened (a restart).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { DeliveryDb } from '../../methods/delivery/index.js';

// Bounded polling, shared with the cronjob suites.

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export class HttpReceiver {
  readonly received: ReceivedRequest[] = [];
  /** Requests being answered right now, and the most seen at once. */
  open = 0;
  maxOpen = 0;
  reply: (req: ReceivedRequest, index: number) => Reply = () => ({ status: 200, body: 'ok' });
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private readonly server: Server) {}

  static async start(port = 0): Promise<HttpReceiver> {
    let self: HttpReceiver | null = null;
    const server = createServer((req, res) => self!.handle(req, res));
    self = new HttpReceiver(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const r: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
      const index = this.received.length;
      this.received.push(r);
      const reply = this.reply(r, index);
      if (reply === 'hang') {
        this.hanging.add(res);
        res.on('close', () => { this.hanging.delete(res); this.open--; });
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? '', () => { this.open--; });
    });
  }

  /** Answers every hanging request with `status`. */
  release(status = 200): void {
    for (const res of this.hanging) res.writeHead(status).end();
    this.hanging.clear();
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  subject: string;
  text: string;
  secure: boolean;
  user: string | null;
}

export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  /** Set to reject the next messages with this SMTP reply (e.g. 451 or 550). */
  rejectWith: { code: number; message: string } | null = null;
  private constructor(private readonly server: SMTPServer, readonly port: number) {}

  static async start(options: Partial<SMTPServerOptions> & { users?: Record<string, string> } = {}): Promise<SmtpReceiver> {
    const { users, ...rest } = options;
    let self: SmtpReceiver | null = null;
    const server = new SMTPServer({
      authOptional: users === undefined,
      allowInsecureAuth: true,
      logger: false,
      ...rest,
      onAuth(auth, _session, cb) {
        if (users && auth.username !== undefined && users[auth.username] === auth.password) cb(null, { user: auth.username });
        else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onData(stream, session: SMTPServerSession, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const reject = self!.rejectWith;
          if (reject) {
            cb(Object.assign(new Error(reject.message), { responseCode: reject.code }));
            return;
          }
          self!.mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), session));
          cb(null);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    self = new SmtpReceiver(server, (server.server.address() as AddressInfo).port);
    return self;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function parseMail(raw: string, session: SMTPServerSession): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
  }
  let text = raw.slice(split + 4);
  const cte = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (cte === 'quoted-printable') {
    text = Buffer.from(text.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  } else if (cte === 'base64') {
    text = Buffer.from(text, 'base64').toString('utf8');
  }
  return {
    from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    to: session.envelope.rcptTo.map((r) => r.address),
    raw,
    headers,
    subject: decodeSubject(headers.subject ?? ''),
    text: text.replace(/\r\n/g, '\n').trimEnd(),
    secure: session.secure,
    user: typeof session.user === 'string' ? session.user : null,
  };
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= / ?B?), as nodemailer writes non-ASCII subjects. */
function decodeSubject(value: string): string {
  return value.replace(/=\?UTF-8\?([QB])\?([^?]*)\?=\s*/gi, (_, enc: string, data: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (__, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
}

/** A classic-level db in a temp dir; reopen() closes and opens it again like a restart. */
export class TempDb {
  db!: ClassicLevel<string, unknown>;
  private constructor(readonly dir: string) {}

  static async create(): Promise<TempDb> {
    const t = new TempDb(await mkdtemp(join(tmpdir(), 'midship-delivery-')));
    await t.open();
    return t;
  }

  private async open(): Promise<void> {
    this.db = new ClassicLevel<string, unknown>(join(this.dir, 'db'), { valueEncoding: 'json' });
    await this.db.open();
  }

  /** The sublevel a queue is given, as the daemon's app.sublevel(name) would. */
  sublevel(name: string): DeliveryDb {
    // One cast, as the daemon's sublevel() makes: the queue is written against abstract-level's
    // types, which TypeScript does not always relate to ClassicLevel's (their hooks are invariant).
    return this.db.sublevel<string, unknown>(name, { valueEncoding: 'json' }) as unknown as DeliveryDb;
  }

  async reopen(): Promise<void> {
    await this.db.close();
    await this.open();
  }

  async destroy(): Promise<void> {
    if (this.db.status === 'open') await this.db.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
