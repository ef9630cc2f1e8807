// A TrueNAS web UI build served at /webui/ (--webui-dir, MIDSHIP_WEBUI_DIR): files from that one
// directory and nothing outside it, whatever the request path says (.., encoded slashes, NUL,
// symbolic links pointing out); unknown page paths get index.html, so the UI's own routes
// (/webui/dashboard, /webui/system/cron) load on a reload. The build's file names carry a hash of
// their content (chunk-2KAMLQLU.js), so those are cached for a year; everything else is
// revalidated. The UI is never part of Midship: the user points the daemon at a build they have.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConfigError } from './errors.js';
import { sendText, type HttpRouter } from './http.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml',
  '.scss': 'text/x-scss; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Angular's build names content-hashed files NAME-HASH.ext, the hash 8 capitals or digits. */
const HASHED = /-[A-Z0-9]{8}\.[a-z0-9]+$/;

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

export const WEBUI_PREFIX = '/webui/';

/** The path below /webui/ as a list of safe names, or null when it tries to leave the directory. */
function safeSegments(pathname: string): string[] | null {
  const out: string[] = [];
  for (const raw of pathname.slice(WEBUI_PREFIX.length).split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (seg === '.' || seg === '..' || /[\\/\0]/.test(seg)) return null;
    out.push(seg);
  }
  return out;
}

/** The build directory, checked once: it must hold index.html. */
export async function checkWebUiDir(dir: string): Promise<string> {
  const root = await realpath(dir).catch(() => null);
  const index = root === null ? null : await stat(join(root, 'index.html')).catch(() => null);
  if (root === null || index === null || !index.isFile()) {
    throw new ConfigError(`--webui-dir / MIDSHIP_WEBUI_DIR: ${dir} is not a web UI build (no index.html in it)`);
  }
  return root;
}

export function registerWebUi(router: HttpRouter, root: string): void {
  /** A regular file inside root (after following links), or null. */
  const inside = async (segments: string[]): Promise<{ path: string; size: number; mtime: Date } | null> => {
    const real = await realpath(join(root, ...segments)).catch(() => null);
    if (real === null || !(real === root || real.startsWith(root + sep))) return null;
    const st = await stat(real).catch(() => null);
    return st?.isFile() ? { path: real, size: st.size, mtime: st.mtime } : null;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const segments = safeSegments(url.pathname);
    if (segments === null) return sendText(res, 400, 'Bad Request\n');
    let file = segments.length === 0 ? null : await inside(segments);
    const last = segments.at(-1) ?? '';
    const page = extname(last) === '' || (req.headers.accept ?? '').includes('text/html');
    if (file === null && !page) return sendText(res, 404, 'Not Found\n');
    let name = last;
    if (file === null) {
      // An address of the UI's own (a route), not a file: the app loads and routes it.
      file = await inside(['index.html']);
      name = 'index.html';
      if (file === null) return sendText(res, 503, 'The web UI build has no index.html any more\n');
    }
    const hashed = HASHED.test(name);
    const modified = file.mtime.toUTCString();
    const headers = {
      ...COMMON_HEADERS,
      'content-type': TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'last-modified': modified,
    };
    const since = req.headers['if-modified-since'];
    if (since !== undefined && Date.parse(since) >= Math.floor(file.mtime.getTime() / 1000) * 1000) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': file.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(createReadStream(file.path), res).catch(() => res.destroy());
  };

  router.add('GET', WEBUI_PREFIX, serve);
  router.add('GET', '/webui', (_req, res) => {
    res.writeHead(302, { ...COMMON_HEADERS, location: WEBUI_PREFIX, 'content-length': 0 });
    res.end();
  });
}
