// A signed HTTP POST per try (job webhooks, and the Webhook alert service): the queued payload
// is an object whose fields join the signed envelope, e.g. {job} for a job webhook.
import type { HttpSender } from './http.js';
import { httpVerdict } from './retry-policy.js';
import type { DeliveryTransport } from './queue.js';
import { buildSignedRequest } from './signing.js';

export interface WebhookTarget {
  url: string;
  secret: string;
  headers?: Record<string, string>;
  /** Attribute named when the URL is refused. Default `url`. */
  urlField?: string;
}

export function webhookTransport(target: WebhookTarget, http: HttpSender): DeliveryTransport {
  return {
    async send(item, { signal, now }) {
      const data = item.payload !== null && typeof item.payload === 'object' && !Array.isArray(item.payload)
        ? (item.payload as Record<string, unknown>)
        : { data: item.payload };
      const signed = buildSignedRequest({ secret: target.secret, event: item.event, deliveryId: item.id, timestamp: now / 1000, data });
      const outcome = await http.send({
        url: target.url,
        urlField: target.urlField ?? 'url',
        headers: { ...target.headers, ...signed.headers },
        body: signed.body,
        signal,
      });
      return httpVerdict(outcome, now);
    },
  };
}
