// Reading the fleet's streams as a signer: an ephemeral consumer (no acks, removed by the server
// when idle), created with the filter and start point asked for. Its creation says how many
// messages are waiting, so "read everything up to now" knows when it is done without waiting for
// a timeout, and an empty result costs one round trip. Only NATS 2.9 features are used.
import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager, type ConsumerConfig, type ConsumerInfo, type JsMsg } from '@nats-io/jetstream';
import { errors, nanos, type NatsConnection } from '@nats-io/transport-node';

export type StartAt = { all: true } | { lastPerSubject: true } | { time: Date };

export interface ReadOptions {
  stream: string;
  filter: string;
  start: StartAt;
  /** Stop after this many messages (the rest is reported as truncated). */
  max: number;
  /** How long one fetch waits for messages the consumer said were there. */
  fetchTimeoutMs?: number;
}

/** A consumer the server deletes on its own when a reader vanishes without cleaning up. */
const INACTIVE_MS = 30_000;
const STREAM_NOT_FOUND = 10059;
const CREATE_ATTEMPTS = 10;
const CREATE_TIMEOUT_MS = 2000;

const consumerName = (): string => `midship_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;

function consumerConfig(o: Pick<ReadOptions, 'filter' | 'start'>): Partial<ConsumerConfig> & { name: string } {
  const c: Partial<ConsumerConfig> & { name: string } = {
    name: consumerName(),
    ack_policy: AckPolicy.None,
    filter_subject: o.filter,
    inactive_threshold: nanos(INACTIVE_MS),
    mem_storage: true,
    num_replicas: 1,
    deliver_policy: DeliverPolicy.All,
  };
  if ('lastPerSubject' in o.start) c.deliver_policy = DeliverPolicy.LastPerSubject;
  else if ('time' in o.start) {
    c.deliver_policy = DeliverPolicy.StartTime;
    c.opt_start_time = o.start.time.toISOString();
  }
  return c;
}

/**
 * Creates the consumer, trying again (under a new name) after a timeout. In a cluster, creation
 * goes through the metadata leader, which may be being elected right after a node died; and
 * nats-server 2.9 goes on placing new consumers on a dead peer for a while (such a creation is
 * never answered), so short timeouts and several tries beat one long wait.
 */
async function addConsumer(nc: NatsConnection, stream: string, cfg: Partial<ConsumerConfig> & { name: string }): Promise<ConsumerInfo> {
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: CREATE_TIMEOUT_MS });
  for (let attempt = 1; ; attempt++) {
    try {
      return await jsm.consumers.add(stream, cfg);
    } catch (e) {
      if (!(e instanceof errors.TimeoutError) || attempt >= CREATE_ATTEMPTS) throw e;
      cfg.name = consumerName();
    }
  }
}

/** Reads what the stream holds now for `filter`, in stream order, calling `each` per message. */
export async function readStream(nc: NatsConnection, o: ReadOptions, each: (m: JsMsg) => void): Promise<{ read: number; truncated: boolean }> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const cfg = consumerConfig(o);
  let info;
  try {
    info = await addConsumer(nc, o.stream, cfg);
  } catch (e) {
    // No host has joined yet (hosts create the streams): nothing to read.
    if (e instanceof JetStreamApiError && e.code === STREAM_NOT_FOUND) return { read: 0, truncated: false };
    throw e;
  }
  const want = Math.min(info.num_pending, o.max);
  let read = 0;
  try {
    const consumer = jetstream(nc).consumers.getConsumerFromInfo(info);
    while (read < want) {
      const batch = await consumer.fetch({ max_messages: Math.min(256, want - read), expires: o.fetchTimeoutMs ?? 5000 });
      let got = 0;
      for await (const m of batch) {
        each(m);
        got++;
        read++;
      }
      // Pending messages that do not come (removed by limits meanwhile): do not wait forever.
      if (got === 0) break;
    }
  } finally {
    await jsm.consumers.delete(o.stream, cfg.name).catch(() => undefined);
  }
  return { read, truncated: info.num_pending > read };
}

/**
 * Delivers the stream's messages for `filter` from `start` on, as they come, until `each` returns
 * true (done) or `signal` aborts.
 */
export async function followStream(
  nc: NatsConnection,
  o: Pick<ReadOptions, 'stream' | 'filter' | 'start'>,
  each: (m: JsMsg) => boolean,
  signal?: AbortSignal,
): Promise<void> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const cfg = consumerConfig(o);
  const info = await addConsumer(nc, o.stream, cfg);
  try {
    const consumer = jetstream(nc).consumers.getConsumerFromInfo(info);
    while (!signal?.aborted) {
      const batch = await consumer.fetch({ max_messages: 64, expires: 1000 });
      for await (const m of batch) {
        if (each(m)) return;
      }
    }
  } finally {
    await jsm.consumers.delete(o.stream, cfg.name).catch(() => undefined);
  }
}
