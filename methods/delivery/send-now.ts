// One try outside the queue, for webhook.test and alertservice.test: the same transport and
// signing as a queued delivery, but nothing stored and nothing retried.
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';
import type { DeliveryTransport } from './queue.js';
import type { TryOutcome } from './retry-policy.js';

export interface SendNowInput {
  event: string;
  payload: unknown;
  /** Shown to the transport as the destination (e.g. in a mail header); default `test`. */
  destination?: string;
  clock?: Clock;
  signal?: AbortSignal;
}

export async function sendNow(transport: DeliveryTransport, input: SendNowInput): Promise<TryOutcome & { deliveryId: string }> {
  const clock = input.clock ?? systemClock;
  const id = randomUUID();
  const now = clock.now();
  const outcome = await transport.send(
    { destination: input.destination ?? 'test', id, event: input.event, payload: input.payload, queuedAt: now, tries: 0 },
    { signal: input.signal ?? new AbortController().signal, now },
  );
  return { ...outcome, deliveryId: id };
}
