// Runs the alert sources: each on its own interval once the daemon listens, and on demand
// (alert.process_alerts). One run of a source at a time; a run asked for while one is going waits
// for it and then runs afresh, so its caller sees the state after the change it just made.
import { Slots, type AlertDraft, type AlertSourceDef } from '#midship/module-api';
import type { Clock, TimerHandle } from '../delivery/clock.js';

export interface RunOutcome {
  source: string;
  alerts: number;
  error: string | null;
}

export interface RunnerDeps {
  clock: Clock;
  settings(source: string): Record<string, unknown>;
  /** A run's result (the alerts holding now), or its failure. */
  report(source: AlertSourceDef, result: { drafts: AlertDraft[] } | { error: unknown }): Promise<void>;
}

const DEFAULT_INTERVAL_S = 60;

interface SourceState {
  def: AlertSourceDef;
  slots: Slots;
  timer: TimerHandle | null;
}

export class SourceRunner {
  readonly #sources = new Map<string, SourceState>();
  readonly #stopping = new AbortController();

  constructor(sources: Iterable<AlertSourceDef>, private readonly deps: RunnerDeps) {
    for (const def of sources) this.#sources.set(def.name, { def, slots: new Slots(1), timer: null });
  }

  has(name: string): boolean {
    return this.#sources.has(name);
  }

  /** Every source runs now, then on its interval. */
  start(): void {
    for (const s of this.#sources.values()) {
      if ((s.def.interval ?? DEFAULT_INTERVAL_S) > 0) void this.#scheduled(s);
    }
  }

  /** Runs the named sources (all when empty) now and reports how each went. */
  async runNow(names: readonly string[]): Promise<RunOutcome[]> {
    const chosen = names.length === 0 ? [...this.#sources.values()] : names.map((n) => this.#sources.get(n)!);
    return Promise.all(chosen.map((s) => this.#run(s)));
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const s of this.#sources.values()) {
      s.timer?.cancel();
      s.timer = null;
    }
    await Promise.all([...this.#sources.values()].map((s) => s.slots.drained()));
  }

  async #scheduled(s: SourceState): Promise<void> {
    s.timer = null;
    await this.#run(s);
    if (this.#stopping.signal.aborted) return;
    s.timer = this.deps.clock.setTimer(() => void this.#scheduled(s), (s.def.interval ?? DEFAULT_INTERVAL_S) * 1000);
  }

  #run(s: SourceState): Promise<RunOutcome> {
    return s.slots.run(async () => {
      const outcome: RunOutcome = { source: s.def.name, alerts: 0, error: null };
      if (this.#stopping.signal.aborted) return { ...outcome, error: 'the daemon is stopping' };
      let result: { drafts: AlertDraft[] } | { error: unknown };
      try {
        const drafts = await s.def.check({ settings: this.deps.settings(s.def.name), now: this.deps.clock.now(), signal: this.#stopping.signal });
        result = { drafts };
        outcome.alerts = drafts.length;
      } catch (error) {
        result = { error };
        outcome.error = error instanceof Error ? error.message : String(error);
      }
      // A run cut short by the stop says nothing about the alerts: they stay as they are.
      if (!this.#stopping.signal.aborted) await this.deps.report(s.def, result);
      return outcome;
    });
  }
}
