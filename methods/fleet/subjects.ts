// Every NATS name the fleet uses, in one place: the subjects, the history stream, the presence
// bucket, the inbox prefixes and the message ids. The permissions in nats-conf.ts are derived from
// these functions, so a subject and the right to use it cannot drift apart.
import { FleetInputError } from './errors.js';

/** A host id is one NATS subject token and one KV key: nothing that could widen a permission. */
export const HOST_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Dotted method names as the daemon knows them (`core.get_jobs`); each part is a subject token. */
export const METHOD_RE = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;
export const MAX_METHOD_LENGTH = 200;

export const SUBJECT_ROOT = 'midship';
export const HISTORY_STREAM = 'MIDSHIP_HISTORY';
export const PRESENCE_BUCKET = 'midship_hosts';
/** The stream behind the presence bucket (the KV library's naming). */
export const PRESENCE_STREAM = `KV_${PRESENCE_BUCKET}`;
/** JetStream's API prefix in the account the fleet lives in. */
export const JS_API = '$JS.API';

export function checkHostId(host: string, field = 'host'): string {
  if (typeof host !== 'string' || !HOST_ID_RE.test(host)) {
    throw new FleetInputError(field, `must be 1-64 characters of A-Z, a-z, 0-9, _ and - (got ${JSON.stringify(host)})`);
  }
  return host;
}

export function checkMethod(method: string, field = 'method'): string {
  if (typeof method !== 'string' || method.length > MAX_METHOD_LENGTH || !METHOD_RE.test(method)) {
    throw new FleetInputError(field, `must be a dotted method name such as core.get_jobs (got ${JSON.stringify(method)})`);
  }
  return method;
}

/** `midship.<host>.rpc.<method>`: the method's dots become subject tokens. */
export function rpcSubject(host: string, method: string): string {
  return `${SUBJECT_ROOT}.${checkHostId(host)}.rpc.${checkMethod(method)}`;
}

/** What a host's responder subscribes to. */
export function rpcWildcard(host: string): string {
  return `${SUBJECT_ROOT}.${checkHostId(host)}.rpc.>`;
}

/** The queue group of a host's responders: several processes of one host share its calls. */
export function rpcQueue(host: string): string {
  return `${SUBJECT_ROOT}.${checkHostId(host)}`;
}

/** The method a request subject names, or null when the subject is not `midship.<host>.rpc.<method>`. */
export function methodOfSubject(subject: string, host: string): string | null {
  const prefix = `${SUBJECT_ROOT}.${host}.rpc.`;
  if (!subject.startsWith(prefix)) return null;
  const method = subject.slice(prefix.length);
  return METHOD_RE.test(method) && method.length <= MAX_METHOD_LENGTH ? method : null;
}

export function historySubject(host: string): string {
  return `${SUBJECT_ROOT}.${checkHostId(host)}.hist.job`;
}

export const HISTORY_SUBJECTS = `${SUBJECT_ROOT}.*.hist.job`;

/** The host a history subject belongs to, or null. */
export function hostOfHistorySubject(subject: string): string | null {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== SUBJECT_ROOT || parts[2] !== 'hist' || parts[3] !== 'job') return null;
  return HOST_ID_RE.test(parts[1]!) ? parts[1]! : null;
}

/** The subject a KV put of `host`'s presence key is published to. */
export function presenceKeySubject(host: string): string {
  return `$KV.${PRESENCE_BUCKET}.${checkHostId(host)}`;
}

/**
 * Inbox prefixes: each identity gets its own, so the permission to read replies can be narrowed to
 * it (the default `_INBOX.>` would let a host read every other client's replies). The `host.` and
 * `signer` tokens keep a host named "signer" from sharing the signer's inbox.
 */
export function hostInboxPrefix(host: string): string {
  return `_INBOX.host.${checkHostId(host)}`;
}
export const SIGNER_INBOX_PREFIX = '_INBOX.signer';

/**
 * `<host>:<instance>:<id>:<state>`: JetStream drops a second message with the same id inside the
 * stream's duplicate window, so a publish retried after a lost acknowledgement is stored once.
 */
export function historyMsgId(host: string, instance: string, jobId: number, state: string): string {
  return `${host}:${instance}:${jobId}:${state}`;
}

/** The parts of a history message id, or null when it is not one. */
export function parseHistoryMsgId(id: string): { host: string; instance: string; jobId: number; state: string } | null {
  const parts = id.split(':');
  if (parts.length !== 4) return null;
  const [host, instance, jobId, state] = parts as [string, string, string, string];
  if (!HOST_ID_RE.test(host) || !/^[A-Za-z0-9_-]{1,64}$/.test(instance) || !/^\d{1,15}$/.test(jobId) || !/^[A-Z_]{1,32}$/.test(state)) return null;
  return { host, instance, jobId: Number(jobId), state };
}
