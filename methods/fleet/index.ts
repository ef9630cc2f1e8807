// The fleet layer's public face, for the daemon integration and midclt. Nothing in this folder
// imports the daemon; docs/fleet.md has the security model and the NATS release it needs.
// Daemon wiring, in outline (after issue 15's module API):
//
//   const link = await HostLink.open({
//     servers: config.fleetUrl, host: config.fleetHostId,
//     credentials: await loadCredentials(config.fleetCreds),
//     trusted: parseTrustedKeys(await readFile(config.fleetTrust, 'utf8'), config.fleetTrust),
//     version, jobCounts: () => jobs.countsByState(), outboxDb: app.sublevel('fleet_outbox'),
//     dispatch: ({ method, params, user, roles }) => dispatcher.call(fleetCredentials(user, roles ∩ MAX_ROLES), method, params),
//     toError: (e) => errorObjectFor(e), onError: (e) => log.warn(e.message), onRefused: (e, s) => audit(e, s),
//   });
//   // in the job store's batch, when a job is added and when it ends:
//   const op = link.outboxOp(redactedJob); if (op) ops.push(op);
//   // on stop: await link.stop();
export { FleetInputError, RequestRefusedError, MalformedRequestError, UnknownSignerError, StaleRequestError, TamperedRequestError, ReplayedRequestError, ReplayCacheFullError, type RefusalReason } from './errors.js';
export { HOST_ID_RE, HISTORY_STREAM, PRESENCE_BUCKET, checkHostId, rpcSubject, historySubject, historyMsgId } from './subjects.js';
export { generateSigningKey, parseTrustedKeys, publicKeyLine, loadSignerFile, parseSignerFile, type SigningKey, type SignerFile } from './keys.js';
export { loadCredentials, parseCredentials, type NatsCredentials } from './creds.js';
export { AUTH_HEADER, signRequest, parseEnvelope, type Envelope } from './envelope.js';
export { RequestVerifier, DEFAULT_WINDOW_MS, type VerifiedRequest, type VerifierOptions } from './verifier.js';
export { ReplayCache, DEFAULT_REPLAY_CAPACITY } from './replay-cache.js';
export { natsConf, DEFAULT_NATS_PORT, FLEET_ACCOUNT, type NatsConfInput } from './nats-conf.js';
export { hostPermissions, signerPermissions, type Permissions } from './permissions.js';
export { fleetInit, type FleetInitOptions, type FleetInitResult } from './init.js';
export { FleetConnection, type FleetConnectionOptions } from './connection.js';
export { RpcResponder, callErrorObject, type FleetCall, type FleetDispatcher, type FleetErrorObject, type FleetReply } from './rpc-responder.js';
export { hostStatus, hostPresence, parsePresence, DEFAULT_HEARTBEAT_MS, MISSED_BEATS, type HostPresence, type HostStatus, type PresenceValue } from './presence.js';
export { HistoryOutbox, DEFAULT_OUTBOX_LIMITS, type OutboxDb, type OutboxOp, type OutboxLimits, type OutboxStats, type HistoryPublisher } from './outbox.js';
export { encodeRecord, decodeRecord, type FleetJob, type HistoryRecord } from './history-record.js';
export { DEFAULT_HISTORY_LIMITS, historyStreamConfig, presenceStreamConfig, StreamMismatchError, type HistoryLimits } from './streams.js';
export { HostLink, type HostLinkOptions, type HostLinkStatus } from './host-link.js';
export { FleetClient, FleetCallError, HostUnreachableError, FleetTimeoutError, TERMINAL_STATES, type FleetJobEntry, type JobsQuery, type FleetClientOptions } from './client.js';
