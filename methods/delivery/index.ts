// The delivery engine's public face, for the alert, alertservice and webhook method modules.
// Nothing in this folder imports the daemon; a module wires it up with the daemon's sublevels,
// logger and alert framework. See docs/webhooks.md for receivers. Wiring, in outline:
//
//   const http = new HttpSender();                          // one per daemon, shared
//   const queue = new DeliveryQueue({ db: app.sublevel('delivery'), onFailing, onRecovered, onError });
//   await queue.open();
//   // every configured webhook / alert service, at start and on create/update:
//   queue.setDestination(`webhook:${id}`, webhookTransport({ url, secret, urlField: 'webhook_update.url' }, http));
//   queue.setDestination(`alertservice:${id}`, alertServiceTransport(validatedAttributes, { http, hostname }));
//   // stored destinations no longer configured, and on delete:
//   await queue.removeDestination(id);
//   // a matching job event (arguments already redacted):
//   await queue.enqueue(`webhook:${id}`, `job.${job.state}`, { job });
//   webhook.deliveries(id) -> queue.attempts(`webhook:${id}`); webhook.test -> sendNow(transport, ...);
//   alertservice.test -> testAlertService(attrs, deps); HOURLY/DAILY -> DigestBuffer.add(...)
//   on stop: await digests.close(); await queue.close(); await http.close();
export { systemClock, ManualClock, type Clock, type TimerHandle } from './clock.js';
export { FieldErrors, type FieldError } from './field-errors.js';
export { checkHttpUrl } from './url.js';
export { HttpSender, HTTP_DEFAULTS, type HttpSenderOptions, type HttpRequest, type HttpOutcome, type FailureKind } from './http.js';
export {
  buildSignedRequest, verifySignedRequest, signature,
  SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER, EVENT_HEADER, DEFAULT_TOLERANCE_SECONDS,
  type SignInput, type SignedRequest, type VerifyInput, type VerifyResult, type VerifiedPayload,
} from './signing.js';
export { DEFAULT_RETRY_POLICY, httpVerdict, nominalDelay, retryDelay, nextTryAt, parseRetryAfter, type RetryPolicy, type TryOutcome, type Verdict } from './retry-policy.js';
export {
  DeliveryQueue, DeliveryRefusedError, DEFAULT_QUEUE_LIMITS,
  type DeliveryQueueOptions, type DeliveryTransport, type DeliveryItem, type TryContext, type QueueLimits,
  type FailingInfo, type DestinationStatus, type RefusalReason,
} from './queue.js';
export type { DeliveryDb, DeliveryAttempt, AttemptStatus } from './queue-store.js';
export { webhookTransport, type WebhookTarget } from './webhook-transport.js';
export { sendNow, type SendNowInput } from './send-now.js';
export {
  ALERT_LEVELS, formatAlertMessage, levelRank,
  type AlertLevel, type AlertSummary, type AlertMessage, type MessageKind, type FormattedMessage,
} from './alert-format.js';
export {
  validateAlertServiceAttributes, redactAttributes, keepRedactedSecrets, REDACTED, SECRET_ATTRIBUTES,
  ALERT_SERVICE_TYPES, ALERT_SERVICE_SCHEMAS, AlertServiceAttributesSchema,
  type AlertServiceType, type AlertServiceAttributes, type WebhookAttributes, type SlackAttributes,
  type MattermostAttributes, type MailAttributes,
} from './alert-attributes.js';
export { alertServiceTransport, testAlertService, alertEvent, type AlertSenderDeps } from './alert-senders.js';
export { slackPayload, mattermostPayload } from './chat-transport.js';
export { DigestBuffer, windowEnd, type DigestBufferOptions, type DigestPolicy, type AlertChange, type DigestStatus } from './digest.js';
