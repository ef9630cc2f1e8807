// The comparison servers' common plumbing: an HTTP server on a unix socket (the transport the
// Midship row uses too) upgraded by ws with the same options Midship uses, a "ready" line on
// stdout once listening, and a clean exit on SIGTERM.
import { unlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

export async function serveOnUnixSocket(socketPath: string, onConnection: (ws: WebSocket) => void): Promise<void> {
  await unlink(socketPath).catch(() => undefined);
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', onConnection);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(socketPath, () => resolve());
  });
  process.on('SIGTERM', () => {
    for (const ws of wss.clients) ws.terminate();
    http.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
  process.stdout.write('ready\n');
}

/** The socket path is the only argument of both comparison servers. */
export function socketPathArg(): string {
  const p = process.argv[2];
  if (!p) {
    process.stderr.write('usage: <server>.js <unix socket path>\n');
    process.exit(2);
  }
  return p;
}
