// Signed deliveries (job webhooks and the Webhook alert service).
//
// Body: JSON {"event", "delivery_id", "timestamp", ...data}; for job webhooks data is {job}.
// `timestamp` is the Unix time in seconds of this try, so it is part of the signed bytes.
// Headers:
//   X-Midship-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>
//   X-Midship-Timestamp: the same timestamp (lets a receiver refuse stale requests cheaply)
//   X-Midship-Delivery:  the delivery id (the same on every retry of one delivery)
//   X-Midship-Event:     the event name
// Every retry is signed anew with its own timestamp, so a receiver can keep a short replay window
// and still accept a retry that comes hours later. docs/webhooks.md shows a receiver.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-midship-signature';
export const TIMESTAMP_HEADER = 'x-midship-timestamp';
export const DELIVERY_HEADER = 'x-midship-delivery';
export const EVENT_HEADER = 'x-midship-event';

/** How far a receiver should let a timestamp be from its own clock (either way). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const ENVELOPE_KEYS = new Set(['event', 'delivery_id', 'timestamp']);

export interface SignInput {
  secret: string;
  event: string;
  deliveryId: string;
  /** Unix seconds of this try. */
  timestamp: number;
  /** Further top-level fields of the body, e.g. {job}. */
  data: Record<string, unknown>;
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** `sha256=<hex>` for `body` under `secret`. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function buildSignedRequest(input: SignInput): SignedRequest {
  for (const key of Object.keys(input.data)) {
    if (ENVELOPE_KEYS.has(key)) throw new Error(`signed payload data may not use the envelope key "${key}"`);
  }
  const timestamp = Math.floor(input.timestamp);
  const body = JSON.stringify({ event: input.event, delivery_id: input.deliveryId, timestamp, ...input.data });
  return {
    body,
    headers: {
      [SIGNATURE_HEADER]: signature(input.secret, body),
      [TIMESTAMP_HEADER]: String(timestamp),
      [DELIVERY_HEADER]: input.deliveryId,
      [EVENT_HEADER]: input.event,
    },
  };
}

export interface VerifyInput {
  secret: string;
  /** The raw body exactly as received (before any JSON parsing). */
  body: string | Buffer;
  /** Value of X-Midship-Signature. */
  signature: string | undefined;
  /** Value of X-Midship-Timestamp, when the receiver has it. */
  timestamp?: string | undefined;
  /** The receiver's clock, Unix seconds. */
  nowSeconds: number;
  toleranceSeconds?: number;
}

export interface VerifiedPayload {
  event: string;
  delivery_id: string;
  timestamp: number;
  [key: string]: unknown;
}

export type VerifyResult = { ok: true; payload: VerifiedPayload } | { ok: false; reason: string };

/**
 * What a receiver does with a request: signature first (constant-time), then the timestamp
 * window. Refusing a replay inside the window is the receiver's part: remember the delivery ids
 * accepted in the last `toleranceSeconds` (a retry of a delivery already processed is a duplicate
 * anyway, since delivery is at-least-once).
 */
export function verifySignedRequest(input: VerifyInput): VerifyResult {
  const header = input.signature ?? '';
  const match = /^sha256=([0-9a-f]{64})$/.exec(header.trim());
  if (!match) return { ok: false, reason: 'missing or malformed signature header' };
  const raw = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const expected = createHmac('sha256', input.secret).update(raw).digest();
  const given = Buffer.from(match[1]!, 'hex');
  if (!timingSafeEqual(expected, given)) return { ok: false, reason: 'signature does not match' };

  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return { ok: false, reason: 'body is not a JSON object' };
  const p = payload as Record<string, unknown>;
  if (typeof p.timestamp !== 'number' || !Number.isInteger(p.timestamp)) return { ok: false, reason: 'body has no integer timestamp' };
  if (typeof p.delivery_id !== 'string' || typeof p.event !== 'string') return { ok: false, reason: 'body has no delivery_id or event' };
  // The header is unsigned: it is only trusted when it agrees with the signed body.
  if (input.timestamp !== undefined && input.timestamp !== String(p.timestamp)) {
    return { ok: false, reason: 'timestamp header does not match the signed body' };
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(input.nowSeconds - p.timestamp) > tolerance) {
    return { ok: false, reason: `timestamp is more than ${tolerance} s away from now (stale or replayed)` };
  }
  return { ok: true, payload: p as VerifiedPayload };
}
