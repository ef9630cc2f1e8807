// midclt ping and midclt subscribe EVENT [-n N] [-t SECONDS].
import { Exit, failure, openSession, out, type GlobalOptions } from '../context.js';
import { pyJson, formatResult } from '../format.js';
import type { CollectionUpdate } from '../client.js';

export async function runPing(g: GlobalOptions, o: { json?: boolean }): Promise<number> {
  const json = o.json || g.json;
  const session = await openSession(g);
  try {
    let r: unknown;
    try {
      r = await session.client.ping();
    } catch (e) {
      throw failure(e, { json });
    }
    out(json ? JSON.stringify(r) : formatResult(r));
    return r ? 0 : 1;
  } finally {
    await session.close().catch(() => undefined);
  }
}

export async function runSubscribe(g: GlobalOptions, event: string, o: { number?: string; timeout?: string; json?: boolean }): Promise<number> {
  const json = o.json || g.json;
  const max = o.number === undefined ? null : Number(o.number);
  if (max !== null && (!Number.isInteger(max) || max < 1)) throw new Exit(2, [`-n: expected a positive integer, got '${o.number}'`]);
  const waitMs = o.timeout === undefined ? null : Number(o.timeout) * 1000;
  if (waitMs !== null && !(waitMs > 0)) throw new Exit(2, [`-t: expected a positive number of seconds, got '${o.timeout}'`]);
  const session = await openSession(g);
  const c = session.client;
  let count = 0;
  let done: (code: number) => void = () => undefined;
  const finished = new Promise<number>((r) => (done = r));
  const onEvent = (ev: CollectionUpdate) => {
    if (max !== null && count >= max) return;
    count++;
    out(json ? JSON.stringify(ev) : pyJson(ev));
    if (max !== null && count >= max) done(0);
  };
  const timer = waitMs === null ? null : setTimeout(() => done(1), waitMs);
  const onSigint = () => done(130);
  process.on('SIGINT', onSigint);
  try {
    let sub;
    try {
      sub = await c.subscribe(event, onEvent);
    } catch (e) {
      throw failure(e, { json });
    }
    const ended = sub.ended.then((e) => {
      if (e) throw failure(e, { json });
      return 0;
    });
    const lost = c.closed.then((e) => {
      throw new Exit(1, [e.message]);
    });
    return await Promise.race([finished, ended, lost]);
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSigint);
    await session.close().catch(() => undefined);
  }
}
