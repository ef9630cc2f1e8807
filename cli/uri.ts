// Where to connect. midclt's URI forms: ws://host[:port]/api/current, wss://..., ws://host/websocket
// (the legacy protocol), ws+unix://PATH (a unix socket; never legacy). Relative socket paths are
// taken from the current directory.
import { resolve } from 'node:path';

export interface Endpoint {
  /** What the user gave (for messages). */
  uri: string;
  /** The address handed to the `ws` package. */
  wsAddress: string;
  legacy: boolean;
  /** Set for unix sockets. */
  socketPath: string | null;
  /** Base for HTTP side endpoints (`/_download/...`) over TCP, e.g. http://127.0.0.1:6000. */
  httpBase: string | null;
}

/** The default: the unix socket of the default data dir (./data), or env MIDCLT_URI. */
export function defaultUri(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MIDCLT_URI;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return `ws+unix://${resolve('data', 'middlewared.sock')}`;
}

export class UriError extends Error {}

export function parseUri(uri: string): Endpoint {
  if (uri.startsWith('ws+unix:')) {
    let path = uri.slice('ws+unix:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new UriError(`${uri}: no socket path`);
    const socketPath = resolve(path);
    return { uri, wsAddress: `ws+unix:${socketPath}:/api/current`, legacy: false, socketPath, httpBase: null };
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UriError(`${uri}: not a URI (expected ws://host/api/current, wss://..., ws://host/websocket or ws+unix:///path)`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UriError(`${uri}: unsupported scheme ${url.protocol} (use ws://, wss:// or ws+unix://)`);
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/api/current';
  const legacy = url.pathname.replace(/\/+$/, '').endsWith('/websocket');
  const httpBase = `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`;
  return { uri, wsAddress: url.href, legacy, socketPath: null, httpBase };
}
