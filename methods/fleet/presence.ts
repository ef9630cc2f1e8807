// Presence: each host keeps one key in the KV bucket `midship_hosts` (key = host id) fresh with a
// heartbeat. Whether a host is online is computed by the reader from the time the server stored
// the last heartbeat (the server's clock, so hosts' clocks do not matter) and the interval the host
// announced: after `MISSED_BEATS` intervals without one it is offline. A clean stop writes
// `state: "stopped"`, so a host that was shut down is told apart from one that vanished.
import { FleetInputError } from './errors.js';
import { HOST_ID_RE } from './subjects.js';

export const DEFAULT_HEARTBEAT_MS = 10_000;
export const MISSED_BEATS = 3;
/** Bounds of an announced interval a reader accepts (a host cannot claim to beat once a year). */
export const MIN_HEARTBEAT_MS = 50;
export const MAX_HEARTBEAT_MS = 3600_000;

export interface PresenceValue {
  v: 1;
  host: string;
  state: 'running' | 'stopped';
  version: string;
  /** When this daemon started (ms, the host's clock). */
  started_at: number;
  uptime_s: number;
  interval_ms: number;
  /** Heartbeats written since start, this one included (1 = the first). */
  beats: number;
  /** Job counts by state, as the daemon reports them. */
  jobs: Record<string, number>;
  /** The history outbox: entries waiting for NATS, and entries refused because it was full. */
  outbox: { pending: number; dropped: number };
}

export type HostStatus = 'online' | 'offline' | 'stopped';

export interface HostPresence extends PresenceValue {
  status: HostStatus;
  /** When the server stored the last heartbeat (ms). */
  last_seen: number;
}

function isCounts(v: unknown): v is Record<string, number> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    && Object.entries(v).every(([k, n]) => k.length <= 64 && Number.isSafeInteger(n) && (n as number) >= 0);
}

/**
 * Checks a stored value (hosts write their own key: treat it as untrusted input) and returns it
 * typed, or null when it is not a presence value of `host`.
 */
export function parsePresence(host: string, raw: unknown): PresenceValue | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const p = raw as Record<string, unknown>;
  const outbox = p.outbox as Record<string, unknown> | undefined;
  const ok = p.v === 1 && p.host === host && HOST_ID_RE.test(host)
    && (p.state === 'running' || p.state === 'stopped')
    && typeof p.version === 'string' && p.version.length <= 64
    && Number.isSafeInteger(p.started_at) && Number.isSafeInteger(p.uptime_s) && (p.uptime_s as number) >= 0
    && Number.isSafeInteger(p.interval_ms) && (p.interval_ms as number) >= MIN_HEARTBEAT_MS && (p.interval_ms as number) <= MAX_HEARTBEAT_MS
    && Number.isSafeInteger(p.beats) && (p.beats as number) >= 1
    && isCounts(p.jobs) && Object.keys(p.jobs as object).length <= 32
    && outbox !== undefined && isCounts(outbox) && typeof outbox.pending === 'number' && typeof outbox.dropped === 'number';
  if (!ok) return null;
  return {
    v: 1, host, state: p.state as PresenceValue['state'], version: p.version as string, started_at: p.started_at as number,
    uptime_s: p.uptime_s as number, interval_ms: p.interval_ms as number, beats: p.beats as number,
    jobs: { ...(p.jobs as Record<string, number>) }, outbox: { pending: outbox.pending as number, dropped: outbox.dropped as number },
  };
}

/**
 * online, offline (MISSED_BEATS intervals passed since the last heartbeat) or stopped, as of `now`
 * (ms, the reader's clock; keep it in step with the server's).
 */
export function hostStatus(value: PresenceValue, lastSeen: number, now: number): HostStatus {
  if (value.state === 'stopped') return 'stopped';
  return now - lastSeen > MISSED_BEATS * value.interval_ms ? 'offline' : 'online';
}

export function hostPresence(value: PresenceValue, lastSeen: number, now: number): HostPresence {
  return { ...value, status: hostStatus(value, lastSeen, now), last_seen: lastSeen };
}

export function checkHeartbeatMs(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < MIN_HEARTBEAT_MS || ms > MAX_HEARTBEAT_MS) {
    throw new FleetInputError('heartbeat_ms', `must be an integer from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}`);
  }
  return ms;
}
