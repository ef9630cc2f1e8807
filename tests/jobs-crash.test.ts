// kill -9 under load, over several rounds (issue 13): a real midshipd child process, several
// connections with calls in flight, jobs acknowledged either by their end event (core.get_jobs
// subscription) or by the new-style response. After every restart each acknowledged job is there
// with the state and result it was announced with, and no id is ever handed out twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { spawnDaemon, type ChildDaemon } from './helpers/child.js';
import { until } from './helpers/until.js';

const ROUNDS = 4;
const CONNECTIONS = 4;
const IN_FLIGHT = 3; // per connection: 12 calls in flight
/** Jobs acknowledged in a round, by responses and events alike, before the kill: it comes mid-load. */
const ACKS_BEFORE_KILL = 300;
/** How long a round's load may go on at most (a bound, not an assertion on speed). */
const LOAD_BOUND_MS = 60_000;

type WireJob = { id: number; state: string; result: unknown; method: string; arguments: unknown[] };

/** A bare JSON-RPC client: the test helper's Client keeps every frame, too much for this load. */
class Rpc {
  private next = 1;
  private readonly pending = new Map<number, (m: { result?: unknown; error?: unknown }) => void>();
  onEvent: ((params: { msg: string; id: number; fields?: WireJob }) => void) | null = null;
  closed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown; method?: string; params?: { msg: string; id: number; fields?: WireJob } };
      if (m.method === 'collection_update' && m.params) this.onEvent?.(m.params);
      else if (typeof m.id === 'number') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    });
    ws.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p({ error: 'closed' });
      this.pending.clear();
    });
    ws.on('error', () => undefined);
  }

  static async open(socketPath: string): Promise<Rpc> {
    const ws = new WebSocket(`ws+unix:${socketPath}:/api/current`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Rpc(ws);
  }

  call(method: string, params: unknown[] = []): Promise<{ result?: unknown; error?: unknown }> {
    if (this.closed) return Promise.resolve({ error: 'closed' });
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

type Ack = { result: unknown; by: 'event' | 'response'; round: number };

const tokenOf = (j: WireJob): string => String((j.arguments[0] as { result?: unknown } | undefined)?.result);

/** Every job of the history by its token; fails on an id whose job changed since it was seen. */
async function history(socketPath: string, seen: Map<number, string>): Promise<Map<string, WireJob>> {
  const c = await Rpc.open(socketPath);
  const all = (await c.call('core.get_jobs', [[['method', '=', 'test.job']], { select: ['id', 'state', 'result', 'arguments'] }])).result as WireJob[];
  c.close();
  const byToken = new Map<string, WireJob>();
  for (const j of all) {
    const token = tokenOf(j);
    assert.ok(!byToken.has(token), `token ${token} stored twice`);
    byToken.set(token, j);
    const before = seen.get(j.id);
    assert.ok(before === undefined || before === token, `id ${j.id} was ${before}, now ${token}: reused`);
    seen.set(j.id, token);
  }
  return byToken;
}

function lostOf(acked: Map<string, Ack>, byToken: Map<string, WireJob>): unknown[] {
  const lost: unknown[] = [];
  for (const [token, a] of acked) {
    const j = byToken.get(token);
    if (j?.state !== 'SUCCESS' || JSON.stringify(j.result) !== JSON.stringify(a.result)) lost.push({ token, ...a, now: j ?? null });
  }
  return lost;
}

test('kill -9 over several rounds: nothing acknowledged is lost, no id is reused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-crash-'));
  /** Every acknowledged job, by its token (the result it returns): what it was announced with. */
  const acked = new Map<string, Ack>();
  /** Every id ever seen (events, the history after each restart): id -> token of its job. */
  const seen = new Map<number, string>();
  let daemon: ChildDaemon | null = null;
  try {
    for (let round = 1; round <= ROUNDS + 1; round++) {
      daemon = await spawnDaemon(dir);
      // The restart has every job acknowledged so far, as it was announced, and no id changed jobs.
      assert.equal(lostOf(acked, await history(daemon.socketPath, seen)), [], `before round ${round}`);
      if (round > ROUNDS) break;
      const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => Rpc.open(daemon!.socketPath)));
      // Half the connections learn of ends from events (legacy jobs: the call answers the id at
      // once), half from new-style responses.
      for (let i = 0; i < conns.length; i++) {
        const c = conns[i]!;
        const byEvent = i % 2 === 0;
        await c.call('core.set_options', [{ legacy_jobs: byEvent }]);
        if (!byEvent) continue;
        c.onEvent = (p) => {
          const f = p.fields;
          if (!f || f.method !== 'test.job') return;
          const token = tokenOf(f);
          const before = seen.get(f.id);
          if (before !== undefined && before !== token) throw new Error(`id ${f.id} used by ${before} and ${token}`);
          seen.set(f.id, token);
          if (f.state === 'SUCCESS') acked.set(token, { result: f.result, by: 'event', round });
        };
        await c.call('core.subscribe', ['core.get_jobs']);
      }
      let n = 0;
      const stopAt = Date.now() + LOAD_BOUND_MS;
      const loops = conns.flatMap((c, i) =>
        Array.from({ length: IN_FLIGHT }, async () => {
          const byEvent = i % 2 === 0;
          while (!c.closed && Date.now() < stopAt) {
            const token = `r${round}-c${i}-${n++}`;
            const r = await c.call('test.job', [{ steps: 0, delay: 0, result: token }]);
            if (r.error !== undefined) return; // the daemon is gone
            if (!byEvent) acked.set(token, { result: r.result, by: 'response', round });
          }
        }),
      );
      // Kill in the middle of the load: once enough of this round's jobs were acknowledged.
      const ackedNow = () => { let k = 0; for (const a of acked.values()) if (a.round === round) k++; return k; };
      await until(() => ackedNow() >= ACKS_BEFORE_KILL, `${ACKS_BEFORE_KILL} jobs acknowledged in round ${round}`, LOAD_BOUND_MS, 5);
      daemon.child.kill('SIGKILL');
      await daemon.exited;
      await Promise.all(loops);
      for (const c of conns) c.close();
    }
    const byEvent = [...acked.values()].filter((a) => a.by === 'event').length;
    assert.ok(byEvent > 50 && acked.size - byEvent > 50, `enough of both kinds acknowledged (${byEvent} by event, ${acked.size - byEvent} by response)`);
    daemon!.child.kill('SIGTERM');
    assert.is(await daemon!.exited, 0);
    daemon = null;
  } finally {
    daemon?.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
