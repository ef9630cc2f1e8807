// One alert service = one destination of the delivery queue, reached by the transport of its
// `type`. Messages are queued as AlertMessage objects and formatted at send time, so a digest
// and a single alert take the same road (durable, retried, in order per service).
import type { AlertMessage, MessageKind } from './alert-format.js';
import type { AlertServiceAttributes } from './alert-attributes.js';
import { chatTransport } from './chat-transport.js';
import { systemClock, type Clock } from './clock.js';
import type { HttpSender } from './http.js';
import { mailTransport } from './mail-transport.js';
import { sendNow } from './send-now.js';
import type { DeliveryTransport } from './queue.js';
import type { TryOutcome } from './retry-policy.js';
import { webhookTransport } from './webhook-transport.js';

export interface AlertSenderDeps {
  http: HttpSender;
  /** Shown in every message, and the host part of mail Message-IDs. */
  hostname: string;
  mailTimeoutMs?: number;
}

/** Event name an alert message is queued (and signed, for Webhook) under. */
export const alertEvent = (kind: MessageKind): string => `alert.${kind.toLowerCase()}`;

/** The transport for a validated attributes object (see validateAlertServiceAttributes). */
export function alertServiceTransport(attrs: AlertServiceAttributes, deps: AlertSenderDeps): DeliveryTransport {
  switch (attrs.type) {
    case 'Webhook':
      return webhookTransport({ url: attrs.url, secret: attrs.secret, headers: attrs.headers, urlField: 'attributes.url' }, deps.http);
    case 'Slack':
    case 'Mattermost':
      return chatTransport(attrs, deps.http);
    case 'Mail':
      return mailTransport(attrs, { hostname: deps.hostname, ...(deps.mailTimeoutMs !== undefined ? { timeoutMs: deps.mailTimeoutMs } : {}) });
  }
}

/**
 * alertservice.test: sends a test message straight away (not queued, not retried) and reports
 * the outcome; `verdict === 'delivered'` is the method's `true`.
 */
export async function testAlertService(attrs: AlertServiceAttributes, deps: AlertSenderDeps, clock: Clock = systemClock, signal?: AbortSignal): Promise<TryOutcome> {
  const transport = alertServiceTransport(attrs, deps);
  const message: AlertMessage = { kind: 'TEST', hostname: deps.hostname, raised: [], cleared: [], period: null, omitted: 0 };
  try {
    return await sendNow(transport, { event: alertEvent('TEST'), payload: message, clock, ...(signal ? { signal } : {}) });
  } finally {
    await transport.close?.();
  }
}
