// The dashboard's static files (issue 8). Only the files named below are served, from memory:
// ui/index.html and ui/app.css (sources), the compiled modules in dist/ui/, and the three
// third-party modules from node_modules. Asset URLs carry a hash of every served file
// (/ui/<version>/...), so they can be cached for a year; the HTML is never cached. The HTML
// carries an import map (bare 'preact' in preact/hooks must resolve); the Content-Security-Policy
// allows exactly that inline block by its hash and no other inline script. Styles come from files,
// plus <style> elements carrying the page's nonce, new on every response: the terminal (xterm.js)
// makes its own style elements, and ui/style-nonce.ts stamps them with it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendText, type HttpRouter } from './http.js';

/** Compiled dashboard modules (dist/ui/<name>.js). A module missing here is a 404 in the browser. */
export const UI_MODULES = ['main', 'app', 'rpc', 'session', 'jobs-store', 'jobs-page', 'job-parts', 'job-detail', 'job-metrics', 'job-bulk', 'schedules-page', 'sessions-page', 'cron-form', 'format', 'html', 'router',
  'live-list', 'form-errors', 'alerts-page', 'alertservices-page', 'webhooks-page',
  'storage-page', 'storage-data',
  'system-page', 'system-charts', 'shell-page', 'style-nonce'] as const;

/**
 * Third-party modules: URL name -> path under node_modules, and the import-map specifier. `lazy`
 * ones are imported by the page that needs them (charts, the terminal), so they are not preloaded
 * with the first screen.
 */
const VENDOR: Array<{ name: string; file: string; specifier: string; lazy?: boolean }> = [
  { name: 'preact.mjs', file: 'preact/dist/preact.mjs', specifier: 'preact' },
  { name: 'hooks.mjs', file: 'preact/hooks/dist/hooks.mjs', specifier: 'preact/hooks' },
  { name: 'htm.mjs', file: 'htm/dist/htm.mjs', specifier: 'htm' },
  { name: 'uplot.mjs', file: 'uplot/dist/uPlot.esm.js', specifier: 'uplot', lazy: true },
  { name: 'xterm.mjs', file: '@xterm/xterm/lib/xterm.mjs', specifier: '@xterm/xterm', lazy: true },
  { name: 'xterm-fit.mjs', file: '@xterm/addon-fit/lib/addon-fit.mjs', specifier: '@xterm/addon-fit', lazy: true },
];

/** Their style sheets, linked from the page. */
const VENDOR_CSS: Array<{ name: string; file: string }> = [
  { name: 'uplot.css', file: 'uplot/dist/uPlot.min.css' },
  { name: 'xterm.css', file: '@xterm/xterm/css/xterm.css' },
];

interface Asset {
  body: Buffer;
  type: string;
}

export interface UiBundle {
  version: string;
  /** The page, with {{NONCE}} still in it (page() fills it in). */
  html: string;
  scriptHashes: string[];
  assets: Map<string, Asset>;
}

/** The page and its policy for one response, with a nonce of its own. */
export function page(b: UiBundle): { html: Buffer; csp: string } {
  const nonce = randomBytes(16).toString('base64');
  return { html: Buffer.from(b.html.replaceAll('{{NONCE}}', nonce)), csp: contentSecurityPolicy(b.scriptHashes, nonce) };
}

const JS = 'text/javascript; charset=utf-8';

/** The directory holding package.json and ui/index.html, searched upwards from this file. */
export function findProjectRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'ui', 'index.html'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

function importMap(version: string): string {
  const imports = Object.fromEntries(VENDOR.map((v) => [v.specifier, `./${version}/vendor/${v.name}`]));
  return JSON.stringify({ imports });
}

function contentSecurityPolicy(scriptHashes: string[], nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${scriptHashes.map((h) => `'sha256-${h}'`).join(' ')}`.trim(),
    // Style files, and <style> elements stamped with this response's nonce (the terminal's);
    // no style attributes in markup.
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    // 'self' covers ws:// and wss:// to the same host and port (CSP level 3).
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Reads every allowed file once; throws naming the first one missing (run `npm run build`). */
async function loadUi(root: string): Promise<UiBundle> {
  const files = new Map<string, { path: string; type: string }>();
  files.set('app.css', { path: join(root, 'ui', 'app.css'), type: 'text/css; charset=utf-8' });
  for (const m of UI_MODULES) files.set(`${m}.js`, { path: join(root, 'dist', 'ui', `${m}.js`), type: JS });
  for (const v of VENDOR) files.set(`vendor/${v.name}`, { path: join(root, 'node_modules', v.file), type: JS });
  for (const c of VENDOR_CSS) files.set(`vendor/${c.name}`, { path: join(root, 'node_modules', c.file), type: 'text/css; charset=utf-8' });
  const assets = new Map<string, Asset>();
  const hash = createHash('sha256');
  for (const [name, f] of files) {
    const body = await readFile(f.path);
    hash.update(name).update('\0').update(body);
    assets.set(name, { body, type: f.type });
  }
  const template = await readFile(join(root, 'ui', 'index.html'), 'utf8');
  hash.update(template);
  const version = hash.digest('hex').slice(0, 16);
  const map = importMap(version);
  // Every module is announced up front, so the browser fetches them in parallel instead of
  // discovering the import graph one level at a time.
  const preload = [...UI_MODULES.filter((m) => m !== 'main').map((m) => `${m}.js`), ...VENDOR.filter((v) => !v.lazy).map((v) => `vendor/${v.name}`)]
    .map((f) => `<link rel="modulepreload" href="./${version}/${f}">`)
    .join('\n');
  const html = template.replaceAll('{{IMPORT_MAP}}', map).replaceAll('{{PRELOAD}}', preload).replaceAll('{{V}}', version);
  const mapHash = createHash('sha256').update(map).digest('base64');
  return { version, html, scriptHashes: [mapHash], assets };
}

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body: Buffer): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-length': body.length, ...headers });
  res.end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { ...COMMON_HEADERS, location, 'content-length': 0, 'cache-control': 'no-cache' });
  res.end();
}

export interface UiOptions {
  /** Project root (package.json, ui/, dist/ui/, node_modules/); default: found from this file. */
  root?: string | null;
}

/**
 * Routes: GET /ui/ (the page), /ui/<version>/<asset>, /ui -> /ui/, and / -> /ui/ ('/' is an
 * exact route in HttpRouter).
 */
export function registerUi(router: HttpRouter, options: UiOptions = {}): void {
  const root = options.root === undefined ? findProjectRoot() : options.root;
  let loading: Promise<UiBundle> | null = null;
  // Loaded at the first request, not at start: a daemon without a built dashboard still runs.
  const bundle = (): Promise<UiBundle> => {
    if (root === null) return Promise.reject(new Error('the ui/ directory was not found'));
    loading ??= loadUi(root).catch((err: unknown) => {
      loading = null;
      throw err;
    });
    return loading;
  };

  const serve = async (_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    let b: UiBundle;
    try {
      b = await bundle();
    } catch (err) {
      sendText(res, 503, `The dashboard is not built (${(err as Error).message}). Run: npm run build\n`);
      return;
    }
    const rest = url.pathname.slice('/ui/'.length);
    if (rest === '' || rest === 'index.html') {
      const p = page(b);
      send(res, 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': p.csp, 'x-frame-options': 'DENY' }, p.html);
      return;
    }
    const slash = rest.indexOf('/');
    const asset = slash < 0 ? undefined : b.assets.get(rest.slice(slash + 1));
    if (asset === undefined || rest.slice(0, slash) !== b.version) {
      // An unknown version is an old page asking for files this daemon no longer has.
      sendText(res, 404, 'Not Found\n');
      return;
    }
    send(res, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' }, asset.body);
  };

  router.add('GET', '/ui/', serve);
  router.add('GET', '/ui', (_req, res) => redirect(res, '/ui/'));
  router.add('GET', '/', (_req, res) => redirect(res, '/ui/'));
}
