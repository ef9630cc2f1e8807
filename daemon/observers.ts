// What the engine tells observers as it works: calls answered, jobs ended, connections opened
// and closed, event frames dropped. The metrics module counts them (App.observe); the engine
// knows nothing of what an observer does with them. An observer is called synchronously on the
// hot path, so it must be cheap; one that throws is logged once and never breaks the call.
import type { Logger } from './log.js';

/** How a client call ended: answered, refused or failed with an expected error, or failed unexpectedly. */
export type CallOutcome = 'success' | 'error' | 'exception';

export interface EngineObserver {
  /** A client's call was answered (internal calls are not reported); `seconds` from arrival at dispatch. */
  callEnded?(method: string, outcome: CallOutcome, seconds: number): void;
  /** A job's final state was stored; `seconds` it ran (0 when it never started). */
  jobEnded?(method: string, state: 'SUCCESS' | 'FAILED' | 'ABORTED', seconds: number): void;
  connectionOpened?(transport: 'tcp' | 'unix', protocol: 'jsonrpc' | 'legacy'): void;
  connectionClosed?(transport: 'tcp' | 'unix', protocol: 'jsonrpc' | 'legacy'): void;
  /**
   * Event frames a connection never got: replaced by a newer frame of the same key while the
   * socket was backed up ('coalesced'), or queued when the connection was cut for not reading
   * ('slow_consumer').
   */
  eventsDropped?(frames: number, reason: 'coalesced' | 'slow_consumer'): void;
}

type Hook = keyof EngineObserver;

export class Observers {
  readonly #list: EngineObserver[] = [];
  readonly #failed = new Set<EngineObserver>();

  constructor(private readonly log: Logger) {}

  /** Adds an observer; the function returned removes it. */
  add(observer: EngineObserver): () => void {
    this.#list.push(observer);
    return () => {
      const i = this.#list.indexOf(observer);
      if (i >= 0) this.#list.splice(i, 1);
    };
  }

  #tell<H extends Hook>(hook: H, args: Parameters<NonNullable<EngineObserver[H]>>): void {
    for (const o of this.#list) {
      const fn = o[hook] as ((...a: unknown[]) => void) | undefined;
      if (fn === undefined) continue;
      try {
        fn.apply(o, args);
      } catch (err) {
        if (this.#failed.has(o)) continue;
        this.#failed.add(o);
        this.log.error({ err, hook }, 'an engine observer failed (reported once)');
      }
    }
  }

  callEnded(method: string, outcome: CallOutcome, seconds: number): void {
    if (this.#list.length > 0) this.#tell('callEnded', [method, outcome, seconds]);
  }

  jobEnded(method: string, state: 'SUCCESS' | 'FAILED' | 'ABORTED', seconds: number): void {
    if (this.#list.length > 0) this.#tell('jobEnded', [method, state, seconds]);
  }

  connectionOpened(transport: 'tcp' | 'unix', protocol: 'jsonrpc' | 'legacy'): void {
    if (this.#list.length > 0) this.#tell('connectionOpened', [transport, protocol]);
  }

  connectionClosed(transport: 'tcp' | 'unix', protocol: 'jsonrpc' | 'legacy'): void {
    if (this.#list.length > 0) this.#tell('connectionClosed', [transport, protocol]);
  }

  eventsDropped(frames: number, reason: 'coalesced' | 'slow_consumer'): void {
    if (this.#list.length > 0 && frames > 0) this.#tell('eventsDropped', [frames, reason]);
  }
}
