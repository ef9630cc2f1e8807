// Event registry, subscriptions and fan-out. A plain event (`core.get_jobs`) goes once to every
// connection subscribed to its name or to `*`; an event source (`core.job_logs:{"id":5}`) runs
// a producer per subscription and ends with notify_unsubscribed. Frames are encoded once per
// protocol and shared by every recipient; each connection applies its own backpressure.
import { randomUUID } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { hasAnyRole, isFullAdmin, type Credentials } from './auth/credentials.js';
import { CallError, ERRNO, ValidationErrors, errorData, type ErrorData } from './errors.js';
import type { Logger } from './log.js';
import type { Events } from './module-api.js';
import type { EventDef, Registry, SourceContext } from './registry.js';
import { toValidationErrors, type SchemaCompiler } from './schema.js';

export type EventMsg = 'added' | 'changed' | 'removed';

/** One event, encoded lazily and at most once per protocol. */
export class EventFrame {
  private jsonrpcText: string | null = null;
  private legacyText: string | null = null;

  constructor(
    readonly collection: string,
    readonly msg: EventMsg,
    readonly id: unknown,
    readonly fields: unknown,
    readonly extra: Record<string, unknown> | undefined,
    /** Frames with the same key replace each other while unsent (a job's latest state wins). */
    readonly coalesceKey: string | null,
  ) {}

  private params(): Record<string, unknown> {
    const p: Record<string, unknown> = { msg: this.msg, collection: this.collection };
    if (this.id !== undefined) p.id = this.id;
    if (this.msg === 'removed') {
      if (this.fields !== undefined) p.extra = { ...this.extra, fields: this.fields };
      else if (this.extra) p.extra = this.extra;
    } else {
      if (this.fields !== undefined) p.fields = this.fields;
      if (this.extra) p.extra = this.extra;
    }
    return p;
  }

  jsonrpc(): string {
    return (this.jsonrpcText ??= `{"jsonrpc":"2.0","method":"collection_update","params":${JSON.stringify(this.params())}}`);
  }

  legacy(): string {
    return (this.legacyText ??= JSON.stringify(this.params()));
  }
}

/** What the event bus needs of a connection. */
export interface Subscriber {
  readonly id: string;
  readonly credentials: Credentials | null;
  sendEvent(frame: EventFrame): void;
  /** An event-source subscription ended (notify_unsubscribed / nosub). */
  sendUnsubscribed(collection: string, subId: string, error: ErrorData | null): void;
}

interface Subscription {
  id: string;
  name: string;
  /** Set for event-source subscriptions: aborting it stops the producer. */
  source: AbortController | null;
}

interface SubscriberState {
  subscriber: Subscriber;
  subs: Map<string, Subscription>;
  /** Plain event name -> number of subscriptions (one copy per event whatever the count). */
  plain: Map<string, number>;
  wildcard: number;
}

export type Visibility = (credentials: Credentials | null) => boolean;

export class EventBus implements Events {
  private readonly subscribers = new Map<string, SubscriberState>();
  /** Plain event name -> subscribers that asked for it. */
  private readonly byName = new Map<string, Set<SubscriberState>>();
  private readonly wildcard = new Set<SubscriberState>();
  private readonly argValidators = new Map<string, ValidateFunction>();

  constructor(private readonly registry: Registry, private readonly compiler: SchemaCompiler, private readonly log: Logger) {}

  register(def: EventDef): void {
    this.registry.addEvent(def);
    if (def.source) this.argValidators.set(def.name, this.compiler.compile(def.source.args));
  }

  attach(subscriber: Subscriber): void {
    this.subscribers.set(subscriber.id, { subscriber, subs: new Map(), plain: new Map(), wildcard: 0 });
  }

  /** The connection closed: stop its producers, forget its subscriptions. */
  detach(subscriberId: string): void {
    const st = this.subscribers.get(subscriberId);
    if (!st) return;
    this.subscribers.delete(subscriberId);
    for (const sub of st.subs.values()) sub.source?.abort();
    for (const name of st.plain.keys()) this.byName.get(name)?.delete(st);
    this.wildcard.delete(st);
  }

  /** Whether `credentials` may subscribe to the event `def`. */
  private mayReceive(def: EventDef, credentials: Credentials | null): boolean {
    if (credentials === null) return false;
    if (def.authOnly) return true;
    return hasAnyRole(credentials, def.roles ?? []);
  }

  /**
   * Subscribe a connection; returns the subscription id. `subId` is the client's own id on the
   * legacy protocol. Throws CallError/ValidationErrors when refused.
   */
  subscribe(subscriberId: string, name: string, subId: string = randomUUID()): string {
    const st = this.subscribers.get(subscriberId);
    if (!st) throw new CallError('Connection is closed', ERRNO.ECONNABORTED);
    const credentials = st.subscriber.credentials;
    if (credentials === null) throw new CallError('Not authenticated', ERRNO.ENOTAUTHENTICATED);
    // A client-chosen id (legacy `sub`) used again replaces the old subscription: left in place
    // it could never be ended, and an event source (a log follower) would run until disconnect.
    const previous = st.subs.get(subId);
    if (previous) this.remove(st, previous, false);
    if (name === '*') {
      if (!isFullAdmin(credentials)) throw new CallError('Not authorized', ERRNO.EACCES);
      st.subs.set(subId, { id: subId, name, source: null });
      if (st.wildcard++ === 0) this.wildcard.add(st);
      return subId;
    }
    const colon = name.indexOf(':');
    const base = colon === -1 ? name : name.slice(0, colon);
    const def = this.registry.events.get(base);
    if (!def || def.private) throw new ValidationErrors([['event', `Event '${base}' does not exist`, ERRNO.ENOENT]]);
    if (!this.mayReceive(def, credentials)) throw new CallError('Not authorized', ERRNO.EACCES);
    if (def.source) {
      this.startSource(st, def, name, colon === -1 ? '' : name.slice(colon + 1), subId);
      return subId;
    }
    if (colon !== -1) throw new ValidationErrors([['event', `Event '${base}' takes no arguments`, ERRNO.EINVAL]]);
    st.subs.set(subId, { id: subId, name, source: null });
    const n = st.plain.get(name) ?? 0;
    st.plain.set(name, n + 1);
    if (n === 0) {
      let set = this.byName.get(name);
      if (!set) this.byName.set(name, (set = new Set()));
      set.add(st);
    }
    return subId;
  }

  private startSource(st: SubscriberState, def: EventDef, collection: string, rawArgs: string, subId: string): void {
    const source = def.source!;
    const controller = new AbortController();
    const sub: Subscription = { id: subId, name: collection, source: controller };
    st.subs.set(subId, sub);
    let args: unknown = null;
    const end = (err: unknown) => {
      if (st.subs.get(subId) !== sub) return;
      st.subs.delete(subId);
      controller.abort();
      st.subscriber.sendUnsubscribed(collection, subId, err === null ? null : { ...errorData(err), trace: null });
    };
    try {
      args = rawArgs === '' ? null : JSON.parse(rawArgs);
    } catch (e) {
      end(new ValidationErrors([['event', `Event arguments are not valid JSON: ${(e as Error).message}`, ERRNO.EINVAL]]));
      return;
    }
    const validate = this.argValidators.get(def.name)!;
    if (!validate(args)) {
      end(toValidationErrors(validate.errors ?? [], '', 'event'));
      return;
    }
    const ctx: SourceContext = {
      credentials: st.subscriber.credentials,
      collection,
      signal: controller.signal,
      emit: (msg: EventMsg, id: unknown, fields?: unknown, extra?: Record<string, unknown>) => {
        if (controller.signal.aborted) return;
        st.subscriber.sendEvent(new EventFrame(collection, msg, id, fields, extra, null));
      },
    };
    // Run on the next tick so the subscribe response is not overtaken by a synchronous first event.
    queueMicrotask(() => {
      source.run(ctx, args).then(
        () => end(null),
        (err: unknown) => {
          if (!(err instanceof CallError || err instanceof ValidationErrors)) this.log.error({ err, event: collection }, 'event source failed');
          end(err);
        },
      );
    });
  }

  /** Ends a subscription; event sources then send notify_unsubscribed, plain ones are silent. */
  unsubscribe(subscriberId: string, subId: string): void {
    const st = this.subscribers.get(subscriberId);
    const sub = st?.subs.get(subId);
    if (st && sub) this.remove(st, sub, true);
  }

  private remove(st: SubscriberState, sub: Subscription, notify: boolean): void {
    const subId = sub.id;
    if (sub.source) {
      st.subs.delete(subId);
      sub.source.abort();
      if (notify) st.subscriber.sendUnsubscribed(sub.name, subId, null);
      return;
    }
    st.subs.delete(subId);
    if (sub.name === '*') {
      if (--st.wildcard === 0) this.wildcard.delete(st);
      return;
    }
    const n = (st.plain.get(sub.name) ?? 1) - 1;
    if (n > 0) st.plain.set(sub.name, n);
    else {
      st.plain.delete(sub.name);
      this.byName.get(sub.name)?.delete(st);
    }
  }

  /** Ends every event-source subscription of a connection (auth.logout). */
  endSources(subscriberId: string): void {
    const st = this.subscribers.get(subscriberId);
    if (!st) return;
    for (const sub of [...st.subs.values()]) if (sub.source) this.unsubscribe(subscriberId, sub.id);
  }

  /** Drops subscriptions the connection's (new) credentials no longer allow. */
  recheck(subscriberId: string): void {
    const st = this.subscribers.get(subscriberId);
    if (!st) return;
    for (const sub of [...st.subs.values()]) {
      const base = sub.name.split(':')[0]!;
      const def = this.registry.events.get(base);
      const ok = sub.name === '*' ? isFullAdmin(st.subscriber.credentials) : def !== undefined && this.mayReceive(def, st.subscriber.credentials);
      if (!ok) this.unsubscribe(subscriberId, sub.id);
    }
  }

  subscriptionCount(): number {
    let n = 0;
    for (const st of this.subscribers.values()) n += st.subs.size;
    return n;
  }

  /** Whether anyone would receive an event of this name (lets producers skip work). */
  hasListeners(name: string): boolean {
    return this.wildcard.size > 0 || (this.byName.get(name)?.size ?? 0) > 0;
  }

  /**
   * Send a plain event. `visible` narrows the audience further (job ownership); a
   * `coalesceKey` lets a slow connection keep only the latest unsent frame of that key.
   */
  emit(
    name: string,
    msg: EventMsg,
    id: unknown,
    fields?: unknown,
    options: { extra?: Record<string, unknown>; visible?: Visibility; coalesceKey?: string | null } = {},
  ): void {
    const named = this.byName.get(name);
    if ((named === undefined || named.size === 0) && this.wildcard.size === 0) return;
    const def = this.registry.events.get(name);
    const frame = new EventFrame(name, msg, id, fields, options.extra, options.coalesceKey ?? null);
    const deliver = (st: SubscriberState) => {
      const c = st.subscriber.credentials;
      if (c === null) return;
      if (def && !this.mayReceive(def, c)) return;
      if (options.visible && !options.visible(c)) return;
      st.subscriber.sendEvent(frame);
    };
    if (named) for (const st of named) deliver(st);
    for (const st of this.wildcard) if (!named?.has(st)) deliver(st);
  }
}
