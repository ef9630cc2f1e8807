// Token sessions (issue 14): every call of a session that logged in with a token refreshes that
// token. That used to scan every stored token, so a user minting thousands of tokens slowed every
// token session's calls down. Measured here: sequential core.ping calls of a token session in a
// daemon holding no other tokens, then 10,000 of them; the ratio should stay near 1.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { DEFAULT_AUTH, DEFAULT_LIMITS, defaultConfig } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import { modules as builtIn } from '../methods/index.js';
import { latencySummary } from './stats.js';

const PASSWORD = 'bench-token-password';
const OTHER_TOKENS = 10_000;
const WARMUP = 500;
const CALLS = 3000;

export interface TokenBenchResult {
  otherTokens: number;
  /** p50 of a token session's core.ping with no other tokens stored, and with OTHER_TOKENS. */
  emptyP50Ms: number;
  fullP50Ms: number;
  ratio: number;
}

/** One socket, one call at a time. */
async function open(url: string): Promise<(method: string, params?: unknown[]) => Promise<unknown>> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  return (method, params = []) =>
    new Promise((resolve, reject) => {
      const mine = ++id;
      const onMessage = (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
        if (m.id !== mine) return;
        ws.off('message', onMessage);
        if (m.error) reject(new Error(JSON.stringify(m.error)));
        else resolve(m.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: mine, method, params }));
    });
}

async function tokenSessionP50(others: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-bench-tokens-'));
  const d = await Daemon.start(defaultConfig({
    port: 0,
    dataDir: dir,
    logLevel: 'silent',
    adminPassword: PASSWORD,
    limits: { ...DEFAULT_LIMITS, anonCallsPerMinute: 1_000_000 },
    auth: { ...DEFAULT_AUTH, tokensPerUser: others + 10, scramIterations: 4096 },
  }), builtIn);
  try {
    const url = `ws://127.0.0.1:${d.port}/api/current`;
    const admin = await open(url);
    await admin('auth.login_ex', [{ mechanism: 'PASSWORD_PLAIN', username: 'admin', password: PASSWORD }]);
    // Sequential, so the daemon never holds more than one write at a time.
    for (let i = 0; i < others; i++) await admin('auth.generate_token', [600]);
    const token = (await admin('auth.generate_token', [600])) as string;
    const session = await open(url);
    await session('auth.login_ex', [{ mechanism: 'TOKEN_PLAIN', token }]);
    for (let i = 0; i < WARMUP; i++) await session('core.ping');
    const samples = new Float64Array(CALLS);
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await session('core.ping');
      samples[i] = performance.now() - t;
    }
    return latencySummary(samples, CALLS).p50Ms;
  } finally {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchTokens(): Promise<TokenBenchResult> {
  const emptyP50Ms = await tokenSessionP50(0);
  const fullP50Ms = await tokenSessionP50(OTHER_TOKENS);
  return { otherTokens: OTHER_TOKENS, emptyP50Ms, fullP50Ms, ratio: fullP50Ms / emptyP50Ms };
}

export function tokenLines(r: TokenBenchResult): string {
  return [
    `  token session core.ping p50, no other tokens stored      ${r.emptyP50Ms.toFixed(3)} ms`,
    `  token session core.ping p50, ${r.otherTokens.toLocaleString('en-US')} other tokens stored  ${r.fullP50Ms.toFixed(3)} ms`,
    `  ratio (target: under 1.2, the refresh is indexed)       ${r.ratio.toFixed(2)}`,
  ].join('\n');
}
