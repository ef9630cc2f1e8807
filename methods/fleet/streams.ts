// The two JetStream streams of a fleet and how they come to exist. A host checks at each connect
// that they exist with the fleet's subjects and creates a missing one; the signer can provision
// and update them (FleetClient.provision). Limits an administrator changed later are kept: only
// the subjects must match, since they decide what the stream captures.
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { FleetInputError } from './errors.js';
import { HISTORY_STREAM, HISTORY_SUBJECTS, PRESENCE_BUCKET, PRESENCE_STREAM } from './subjects.js';

export interface HistoryLimits {
  /** History older than this is dropped by the server. */
  maxAgeMs: number;
  maxBytes: number;
  /** Per host (= per subject): one host's flood only evicts its own history. */
  maxMsgsPerHost: number;
  /** Message ids are remembered this long: a retried publish inside it is stored once. */
  duplicateWindowMs: number;
  /** Largest history message; a job record larger than this is trimmed by the outbox. */
  maxMsgBytes: number;
  replicas: number;
}

export const DEFAULT_HISTORY_LIMITS: Readonly<HistoryLimits> = {
  maxAgeMs: 30 * 24 * 3600_000,
  maxBytes: 1024 ** 3,
  maxMsgsPerHost: 200_000,
  duplicateWindowMs: 3600_000,
  maxMsgBytes: 256 * 1024,
  replicas: 1,
};

/** A presence value is a small JSON object; the cap stops a host from filling the bucket. */
export const PRESENCE_MAX_VALUE_BYTES = 16 * 1024;
export const PRESENCE_MAX_BYTES = 64 * 1024 * 1024;

export function checkHistoryLimits(l: HistoryLimits): HistoryLimits {
  const positive = (v: number, field: keyof HistoryLimits) => {
    if (!Number.isSafeInteger(v) || v <= 0) throw new FleetInputError(`history_limits.${field}`, 'must be a positive integer');
  };
  positive(l.maxAgeMs, 'maxAgeMs');
  positive(l.maxBytes, 'maxBytes');
  positive(l.maxMsgsPerHost, 'maxMsgsPerHost');
  positive(l.duplicateWindowMs, 'duplicateWindowMs');
  positive(l.maxMsgBytes, 'maxMsgBytes');
  if (l.duplicateWindowMs > l.maxAgeMs) throw new FleetInputError('history_limits.duplicateWindowMs', 'may not exceed maxAgeMs');
  if (![1, 3, 5].includes(l.replicas)) throw new FleetInputError('history_limits.replicas', 'must be 1, 3 or 5');
  return l;
}

export function historyStreamConfig(l: HistoryLimits = DEFAULT_HISTORY_LIMITS): Partial<StreamConfig> & { name: string } {
  checkHistoryLimits(l);
  return {
    name: HISTORY_STREAM,
    subjects: [HISTORY_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(l.maxAgeMs),
    max_bytes: l.maxBytes,
    max_msgs_per_subject: l.maxMsgsPerHost,
    max_msg_size: l.maxMsgBytes,
    duplicate_window: nanos(l.duplicateWindowMs),
    num_replicas: l.replicas,
  };
}

/** The stream behind the presence bucket, as the KV library itself would create it. */
export function presenceStreamConfig(replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: PRESENCE_STREAM,
    subjects: [`$KV.${PRESENCE_BUCKET}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_msgs_per_subject: 1,
    max_bytes: PRESENCE_MAX_BYTES,
    max_msg_size: PRESENCE_MAX_VALUE_BYTES,
    allow_rollup_hdrs: true,
    deny_delete: true,
    allow_direct: true,
    num_replicas: replicas,
  };
}

/** A fleet stream exists under our name but captures other subjects: something is wrong or hostile. */
export class StreamMismatchError extends Error {
  constructor(readonly stream: string, readonly subjects: string[], readonly expected: string[]) {
    super(`stream ${stream} captures ${JSON.stringify(subjects)}, not ${JSON.stringify(expected)}: refusing to use it`);
    this.name = 'StreamMismatchError';
  }
}

function notFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === 10059;
}

function sameSubjects(info: StreamInfo, expected: string[]): void {
  const have = [...(info.config.subjects ?? [])].sort();
  const want = [...expected].sort();
  if (have.length !== want.length || have.some((s, i) => s !== want[i])) throw new StreamMismatchError(info.config.name, have, want);
}

/**
 * Makes sure `config`'s stream exists with its subjects: looks it up, creates it when missing
 * (another host creating it at the same moment is fine), refuses one that captures other subjects.
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  const expected = config.subjects ?? [];
  try {
    const info = await jsm.streams.info(config.name);
    sameSubjects(info, expected);
    return info;
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  try {
    return await jsm.streams.add(config);
  } catch (e) {
    // Lost a race with another host: what exists now must still have our subjects.
    const info = await jsm.streams.info(config.name);
    sameSubjects(info, expected);
    return info;
  }
}

/** Creates or updates a stream to `config` (the signer's provisioning; hosts cannot update). */
export async function provisionStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  try {
    await jsm.streams.info(config.name);
  } catch (e) {
    if (notFound(e)) return jsm.streams.add(config);
    throw e;
  }
  return jsm.streams.update(config.name, config);
}
