// Level layout of the delivery queue, inside the sublevel its owner hands it (JSON values):
//   item  <destination>\x00<16-digit seq> -> StoredItem        (waiting deliveries, in order)
//   try   <destination>\x00<16-digit seq> -> DeliveryAttempt   (recent tries, the newest kept)
//   dest  <destination>                   -> DestinationState  (failing since when, reported?)
// Sequence numbers only grow within a destination, so key order is delivery order, and the
// numbers are recovered at open from the highest key: nothing else needs to be stored for them.
import type { AbstractBatchOperation, AbstractLevel, AbstractSublevel } from 'abstract-level';

type Format = string | Buffer | Uint8Array;

/** What the queue is constructed with: a JSON-valued sublevel, e.g. the daemon's app.sublevel('delivery'). */
export type DeliveryDb = AbstractSublevel<AbstractLevel<Format, string, unknown>, Format, string, unknown>;
type Sub<V> = AbstractSublevel<DeliveryDb, Format, string, V>;
export type QueueOp = AbstractBatchOperation<DeliveryDb, string, unknown>;

export interface StoredItem {
  /** The delivery id: the same on every try. */
  id: string;
  event: string;
  payload: unknown;
  queued_at: number;
  /** Tries made so far. */
  tries: number;
  /** Not to be tried before this time (ms). */
  next_at: number;
  /** Size of the payload as JSON, counted against the destination's byte cap. */
  size: number;
}

export type AttemptStatus = 'SUCCESS' | 'RETRYING' | 'FAILED' | 'DROPPED';

/** One entry of webhook.deliveries(id): a try, or a delivery refused at the door. */
export interface DeliveryAttempt {
  delivery_id: string;
  event: string;
  /** 1 for the first try; 0 for a delivery that was dropped before any try. */
  try: number;
  /** When the try ended (ms). */
  at: number;
  status: AttemptStatus;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  /** For RETRYING: when the next try is due (ms). */
  next_try_at: number | null;
}

export interface DestinationState {
  failing_since: number | null;
  failing_reported: boolean;
}

export interface LoadedLane {
  count: number;
  bytes: number;
  lastSeq: number;
  /** The first items in order, at most `bufferSize` of them. */
  head: Array<{ seq: number; item: StoredItem }>;
  lastTrySeq: number;
  state: DestinationState;
}

const SEQ_WIDTH = 16;
const SEP = '\x00';
export const DESTINATION_ID = /^[\x21-\x7e]{1,200}$/;

export const seqKey = (destination: string, seq: number): string => destination + SEP + String(seq).padStart(SEQ_WIDTH, '0');

function parseKey(key: string): { destination: string; seq: number } | null {
  const at = key.lastIndexOf(SEP);
  if (at <= 0) return null;
  const seq = Number(key.slice(at + 1));
  return Number.isSafeInteger(seq) ? { destination: key.slice(0, at), seq } : null;
}

/** Key bounds of one destination's entries. */
export const laneRange = (destination: string) => ({ gt: destination + SEP, lt: destination + '\x01' });

export class QueueStore {
  readonly items: Sub<StoredItem>;
  readonly tries: Sub<DeliveryAttempt>;
  readonly dests: Sub<DestinationState>;

  constructor(readonly db: DeliveryDb) {
    const sub = <V>(name: string): Sub<V> => db.sublevel<string, V>(name, { valueEncoding: 'json' }) as Sub<V>;
    this.items = sub<StoredItem>('item');
    this.tries = sub<DeliveryAttempt>('try');
    this.dests = sub<DestinationState>('dest');
  }

  /**
   * Everything the queue needs in memory after a restart, in one pass over each sublevel: per
   * destination the count and bytes waiting, the first items, and the highest sequence numbers.
   * Tries beyond `keepTries` (the limit may have been lowered since) are deleted.
   */
  async load(bufferSize: number, keepTries: number): Promise<Map<string, LoadedLane>> {
    const lanes = new Map<string, LoadedLane>();
    const lane = (d: string): LoadedLane => {
      let l = lanes.get(d);
      if (!l) lanes.set(d, (l = { count: 0, bytes: 0, lastSeq: 0, head: [], lastTrySeq: 0, state: { failing_since: null, failing_reported: false } }));
      return l;
    };
    for await (const [key, item] of this.items.iterator()) {
      const k = parseKey(key);
      if (!k) continue;
      const l = lane(k.destination);
      l.count++;
      l.bytes += item.size;
      l.lastSeq = k.seq;
      if (l.head.length < bufferSize) l.head.push({ seq: k.seq, item });
    }
    const trySeqs = new Map<string, number[]>();
    for await (const key of this.tries.keys()) {
      const k = parseKey(key);
      if (!k) continue;
      lane(k.destination).lastTrySeq = k.seq;
      const list = trySeqs.get(k.destination) ?? [];
      list.push(k.seq);
      trySeqs.set(k.destination, list);
    }
    for await (const [destination, state] of this.dests.iterator()) lane(destination).state = state;
    const stale: QueueOp[] = [];
    for (const [destination, seqs] of trySeqs) {
      for (const seq of seqs.slice(0, Math.max(0, seqs.length - keepTries))) {
        stale.push({ type: 'del', sublevel: this.tries, key: seqKey(destination, seq) });
      }
    }
    if (stale.length > 0) await this.db.batch(stale);
    return lanes;
  }

  /** Items of a destination after `afterSeq`, in order. */
  async readItems(destination: string, afterSeq: number, limit: number): Promise<Array<{ seq: number; item: StoredItem }>> {
    const out: Array<{ seq: number; item: StoredItem }> = [];
    const range = laneRange(destination);
    for await (const [key, item] of this.items.iterator({ gt: seqKey(destination, afterSeq), lt: range.lt, limit })) {
      const k = parseKey(key);
      if (k) out.push({ seq: k.seq, item });
    }
    return out;
  }

  /** The newest tries of a destination, newest first. */
  async readTries(destination: string, limit: number): Promise<DeliveryAttempt[]> {
    return this.tries.values({ ...laneRange(destination), reverse: true, limit }).all();
  }

  /** Removes every trace of a destination. */
  async clearDestination(destination: string): Promise<void> {
    await this.items.clear(laneRange(destination));
    await this.tries.clear(laneRange(destination));
    await this.dests.del(destination);
  }
}
