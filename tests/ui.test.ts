// The dashboard's static files over real HTTP: redirects, the allow-list, caching and CSP headers;
// and the schedule-in-words formatter the page uses (loaded from the compiled dashboard).
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findProjectRoot, UI_MODULES } from '../daemon/ui.js';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';

let d: TestDaemon;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: d.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject).end();
  });
}

test.before(async () => {
  d = await startDaemon({ adminPassword: 'pw' });
});

test.after(async () => {
  await d.cleanup();
});

test('/ and /ui redirect to /ui/; other unknown paths stay 404', async () => {
  const root = await get('/');
  assert.is(root.status, 302);
  assert.is(root.headers.location, '/ui/');
  assert.is((await get('/ui')).headers.location, '/ui/');
  assert.is((await get('/nope')).status, 404);
  assert.is((await get('/api/versions')).status, 200, 'routes registered before the UI still answer');
});

test('the page: no caching, strict CSP whose only inline allowance is the import map', async () => {
  const page = await get('/ui/');
  assert.is(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.is(page.headers['cache-control'], 'no-cache');
  assert.is(page.headers['x-content-type-options'], 'nosniff');
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  const scriptSrc = /script-src ([^;]+)/.exec(csp)![1]!;
  assert.not.match(scriptSrc, /unsafe-inline|unsafe-eval/);
  const hashes = [...scriptSrc.matchAll(/'sha256-([^']+)'/g)].map((m) => m[1]);
  assert.is(hashes.length, 1);
  // Exactly one inline script (the import map), and the CSP hash is the hash of its text.
  const inline = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].filter((m) => !/\bsrc=/.test(m[1]!));
  assert.is(inline.length, 1);
  assert.match(inline[0]![1]!, /type="importmap"/);
  const { createHash } = await import('node:crypto');
  assert.is(createHash('sha256').update(inline[0]![2]!).digest('base64'), hashes[0]);
  assert.not.match(page.body, /\{\{/, 'no template placeholder left');
  // Style elements only with this response's nonce (the terminal makes some), never inline styles at large.
  const styleSrc = /style-src ([^;]+)/.exec(csp)![1]!;
  assert.not.match(styleSrc, /unsafe-inline/);
  const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(styleSrc)![1]!;
  assert.ok(page.body.includes(`<meta name="csp-nonce" content="${nonce}">`), 'the page carries its nonce');
  const again = String((await get('/ui/')).headers['content-security-policy']);
  assert.not.ok(again.includes(nonce), 'a new nonce on every response');
  assert.is((await get('/ui/', 'HEAD')).body, '');
});

test('versioned assets are cached for a year; anything off the allow-list is 404', async () => {
  const page = (await get('/ui/')).body;
  const version = /\.\/([0-9a-f]{16})\/main\.js/.exec(page)![1]!;
  const map = JSON.parse(/<script type="importmap">([^<]+)<\/script>/.exec(page)![1]!) as { imports: Record<string, string> };
  const css = [...page.matchAll(/<link rel="stylesheet" href="\.\/([^"]+)">/g)].map((m) => `/ui/${m[1]}`);
  assert.equal(css, [`/ui/${version}/app.css`, `/ui/${version}/vendor/uplot.css`, `/ui/${version}/vendor/xterm.css`]);
  const urls = [`/ui/${version}/main.js`, ...css, ...Object.values(map.imports).map((u) => `/ui/${u.replace(/^\.\//, '')}`)];
  assert.is(Object.keys(map.imports).sort().join(), '@xterm/addon-fit,@xterm/xterm,htm,preact,preact/hooks,uplot');
  // The charts and the terminal are loaded by their pages, not with the first screen.
  for (const lazy of ['uplot.mjs', 'xterm.mjs', 'xterm-fit.mjs']) assert.not.match(page, new RegExp(`modulepreload[^>]+vendor/${lazy}`), lazy);
  for (const url of urls) {
    const r = await get(url);
    assert.is(r.status, 200, url);
    assert.is(r.headers['cache-control'], 'public, max-age=31536000, immutable', url);
    assert.match(String(r.headers['content-type']), url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/, url);
  }
  for (const bad of [`/ui/0000000000000000/main.js`, `/ui/${version}/../../package.json`, `/ui/${version}/vendor/../../package.json`, `/ui/${version}/tsconfig.json`, `/ui/${version}/main.ts`, '/ui/main.js', `/ui/${version}/%2e%2e/package.json`]) {
    assert.is((await get(bad)).status, 404, bad);
  }
});

test('every compiled dashboard module is on the allow-list and the other way round', () => {
  const root = findProjectRoot();
  assert.ok(root, 'project root found');
  const built = readdirSync(join(root, 'dist', 'ui')).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
  assert.equal(built, [...UI_MODULES].sort());
});

test('schedules in words', async () => {
  const root = findProjectRoot()!;
  const fmt = (await import(pathToFileURL(join(root, 'dist', 'ui', 'format.js')).href)) as {
    scheduleInWords(s: Record<string, string>): string;
    formatDuration(ms: number): string;
  };
  const s = (minute: string, hour: string, dom = '*', month = '*', dow = '*', second?: string) => fmt.scheduleInWords({ minute, hour, dom, month, dow, ...(second === undefined ? {} : { second }) });
  assert.is(s('0', '3'), 'every day at 03:00');
  assert.is(s('00', '*'), 'every hour at minute 00');
  assert.is(s('30', '8', '*', '*', '1'), 'every Monday at 08:30');
  assert.is(s('30', '8', '*', '*', 'mon,wed'), 'every Monday and Wednesday at 08:30');
  assert.is(s('0', '9', '*', '*', '1-5'), 'at 09:00 on weekdays');
  assert.is(s('*/5', '*'), 'every 5 minutes');
  assert.is(s('*', '*'), 'every minute');
  assert.is(s('15', '*/2'), 'every 2 hours at minute 15');
  assert.is(s('0', '3', '1'), 'on the 1st of every month at 03:00');
  assert.is(s('0', '0', '1', '1'), 'at 00:00 on the 1st, in January');
  assert.is(s('0', '6,18'), 'every day at 06:00 and 18:00');
  assert.is(s('*', '*', '*', '*', '*', '*/10'), 'every 10 seconds');
  assert.is(s('1-10/3', '*'), 'cron: 1-10/3 * * * *');
  assert.is(s('61', '3'), 'cron: 61 3 * * *', 'out of range: not put into words');
  assert.is(fmt.formatDuration(3_723_000), '1 h 02 min');
});

test.run();
