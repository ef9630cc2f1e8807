// What each fleet identity may do on the NATS server, as allow-lists (NATS denies everything not
// listed). Derived from subjects.ts; tests/fleet-permissions.test.ts checks them against a real
// server. The reasoning per line:
//
// A host
//   publishes  midship.<host>.>                 its history (midship.<host>.hist.job); nothing of
//                                               another host's
//              $KV.midship_hosts.<host>         a KV put of its own presence key, and no other key
//              $JS.API.STREAM.INFO.<s>          does the stream exist, with the fleet's subjects?
//              $JS.API.STREAM.CREATE.<s>        create it when not (a no-op or an error once it does:
//                                               the server refuses to create an existing stream
//                                               with another configuration)
//              replies to requests it received  (allow_responses), so it can answer calls without
//                                               being able to publish into anyone's inbox at will
//   subscribes midship.<host>.rpc.>             its calls (any queue group)
//              _INBOX.host.<host>.>             replies to its own requests: JetStream PubAcks for
//                                               its history and presence puts, API answers
// It has no consumer and no read access to any stream: it cannot read other hosts' history or
// presence (and so cannot learn the random instance ids that history message ids carry).
//
// A signer (midclt)
//   publishes  midship.*.rpc.>                  calls to any host
//              $JS.API.INFO                     account info (harmless; clients ask for it)
//              $JS.API.STREAM.{INFO,CREATE,UPDATE}.<s>     provisioning of the two streams
//              $JS.API.CONSUMER.{CREATE,INFO,DELETE,MSG.NEXT}.<s>[.>]  ephemeral ordered
//                                               consumers to read them; no durable ones
//              $JS.API.DIRECT.GET.<s>[.>], $JS.API.STREAM.MSG.GET.<s>   single-message reads
//   subscribes _INBOX.signer.>                  replies, and the messages its consumers deliver
// It cannot delete or purge a stream, publish history or presence, or answer calls.
import {
  HISTORY_STREAM, hostInboxPrefix, JS_API, PRESENCE_STREAM, presenceKeySubject, rpcWildcard, SIGNER_INBOX_PREFIX, SUBJECT_ROOT,
} from './subjects.js';

export interface Permissions {
  publish: string[];
  subscribe: string[];
  /** allow_responses: reply once to each request received, within this many seconds. */
  responses?: { max: number; expiresSeconds: number };
}

const FLEET_STREAMS = [HISTORY_STREAM, PRESENCE_STREAM];

/** How long a host may take to answer a call and still be allowed to reply. */
export const RESPONSE_WINDOW_SECONDS = 600;

export function hostPermissions(host: string): Permissions {
  return {
    publish: [
      `${SUBJECT_ROOT}.${host}.>`,
      presenceKeySubject(host),
      ...FLEET_STREAMS.flatMap((s) => [`${JS_API}.STREAM.INFO.${s}`, `${JS_API}.STREAM.CREATE.${s}`]),
    ],
    subscribe: [rpcWildcard(host), `${hostInboxPrefix(host)}.>`],
    responses: { max: 1, expiresSeconds: RESPONSE_WINDOW_SECONDS },
  };
}

export function signerPermissions(): Permissions {
  const perStream = (s: string) => [
    `${JS_API}.STREAM.INFO.${s}`,
    `${JS_API}.STREAM.CREATE.${s}`,
    `${JS_API}.STREAM.UPDATE.${s}`,
    `${JS_API}.CONSUMER.CREATE.${s}`,
    `${JS_API}.CONSUMER.CREATE.${s}.>`,
    `${JS_API}.CONSUMER.INFO.${s}.>`,
    `${JS_API}.CONSUMER.DELETE.${s}.>`,
    `${JS_API}.CONSUMER.MSG.NEXT.${s}.>`,
    `${JS_API}.DIRECT.GET.${s}`,
    `${JS_API}.DIRECT.GET.${s}.>`,
    `${JS_API}.STREAM.MSG.GET.${s}`,
  ];
  return {
    publish: [`${SUBJECT_ROOT}.*.rpc.>`, `${JS_API}.INFO`, ...FLEET_STREAMS.flatMap(perStream)],
    subscribe: [`${SIGNER_INBOX_PREFIX}.>`],
  };
}
