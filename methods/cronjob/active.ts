// The runs of each cron job that have not ended, as the module knows them: the ones it is
// submitting (counted before they have a job id, so two scheduled times firing in one tick do not
// both see "nothing active"), the ones it submitted (WAITING until their handler starts) and the
// ones running. The overlap policy decides from this list.
import type { ActiveRun } from '../scheduling/index.js';

export class ActiveRuns {
  /** cron job id -> job id -> state; a run being submitted has a negative placeholder id. */
  readonly #runs = new Map<number, Map<number, ActiveRun['state']>>();
  #placeholders = 0;

  #of(cronId: number): Map<number, ActiveRun['state']> {
    let m = this.#runs.get(cronId);
    if (m === undefined) this.#runs.set(cronId, (m = new Map()));
    return m;
  }

  /** A run is being submitted; the handle gives it its job id once known, and ends it. */
  submitting(cronId: number): { submitted(jobId: number): void; ended(): void } {
    const placeholder = -++this.#placeholders;
    this.#of(cronId).set(placeholder, 'WAITING');
    let jobId: number | null = null;
    return {
      submitted: (id) => {
        jobId = id;
        const m = this.#of(cronId);
        m.delete(placeholder);
        // Its handler may already have started it.
        if (!m.has(id)) m.set(id, 'WAITING');
      },
      ended: () => {
        this.#drop(cronId, placeholder);
        if (jobId !== null) this.#drop(cronId, jobId);
      },
    };
  }

  running(cronId: number, jobId: number): void {
    this.#of(cronId).set(jobId, 'RUNNING');
  }

  ended(cronId: number, jobId: number): void {
    this.#drop(cronId, jobId);
  }

  /** The active runs of a cron job, oldest first (runs still being submitted read as WAITING job ids < 0). */
  list(cronId: number): ActiveRun[] {
    const m = this.#runs.get(cronId);
    if (m === undefined) return [];
    return [...m].map(([id, state]) => ({ id, state })).sort((a, b) => (a.id < 0 ? Infinity : a.id) - (b.id < 0 ? Infinity : b.id));
  }

  #drop(cronId: number, id: number): void {
    const m = this.#runs.get(cronId);
    if (m === undefined) return;
    m.delete(id);
    if (m.size === 0) this.#runs.delete(cronId);
  }
}
