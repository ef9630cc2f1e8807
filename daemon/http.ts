// Plain HTTP on the WebSocket listeners: side endpoints (/api/versions, /api/boot_id,
// /_download, the dashboard). Routes match an exact path or a prefix ending in '/'.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** `transport`: the listener the request came over ('unix': a local administrator). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, transport: 'tcp' | 'unix') => void | Promise<void>;

interface Route {
  method: string;
  path: string;
  prefix: boolean;
  handler: RouteHandler;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class HttpRouter {
  private readonly routes: Route[] = [];

  /** `path` ending in '/' matches every path below it ('/' itself matches only '/'). */
  add(method: string, path: string, handler: RouteHandler): void {
    this.routes.push({ method, path, prefix: path.length > 1 && path.endsWith('/'), handler });
  }

  handle(req: IncomingMessage, res: ServerResponse, onError: (err: unknown) => void, transport: 'tcp' | 'unix' = 'tcp'): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let allowed = false;
    for (const r of this.routes) {
      if (!(r.prefix ? url.pathname.startsWith(r.path) : url.pathname === r.path)) continue;
      if (r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) {
        allowed = true;
        continue;
      }
      Promise.resolve()
        .then(() => r.handler(req, res, url, transport))
        .catch((err: unknown) => {
          onError(err);
          if (!res.headersSent) sendText(res, 500, 'Internal Server Error\n');
          else res.destroy();
        });
      return;
    }
    if (allowed) sendText(res, 405, 'Method Not Allowed\n');
    else sendText(res, 404, 'Not Found\n');
  }
}
