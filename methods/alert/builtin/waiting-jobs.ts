// Jobs WAITING longer than a threshold: a queue that does not move (a lock held by a hung job, a
// per-user cap reached). The waiting jobs are followed as they come and go (App.jobs.observe),
// so a check costs nothing but a walk over the jobs waiting now. One alert for all of them; it
// names the oldest, and changes only when the count or the oldest does.
import { alertSource, Type, type AlertClassDef, type AlertSourceDef, type App } from '#midship/module-api';

export const JOBS_WAITING: AlertClassDef = {
  name: 'JobsWaiting',
  category: 'TASKS',
  level: 'WARNING',
  title: 'Jobs Waiting Too Long',
  text: '%(count)d job(s) have been waiting for more than %(seconds)d seconds; the oldest is job %(oldest_id)d (%(method)s)',
  key: () => 'waiting',
};

export class WaitingJobs {
  /** id -> when it was queued (ms) and its method; insertion order is queue order. */
  readonly #waiting = new Map<number, { since: number; method: string }>();

  follow(app: App): () => void {
    return app.jobs.observe((r) => {
      if (r.state === 'WAITING') this.#waiting.set(r.id, { since: r.time_started, method: r.method });
      else this.#waiting.delete(r.id);
    });
  }

  source(): AlertSourceDef {
    return alertSource({
      name: 'JobsWaiting',
      settings: Type.Object({ seconds: Type.Integer({ minimum: 1, default: 3600, description: 'Alert when a job has been WAITING longer than this' }) }),
      check: ({ settings, now }) => {
        let count = 0;
        let oldest: { id: number; method: string; since: number } | null = null;
        for (const [id, w] of this.#waiting) {
          if (now - w.since <= settings.seconds * 1000) continue;
          count++;
          if (oldest === null || w.since < oldest.since) oldest = { id, ...w };
        }
        if (oldest === null) return [];
        return [{ klass: JOBS_WAITING.name, args: { count, seconds: settings.seconds, oldest_id: oldest.id, method: oldest.method } }];
      },
    });
  }
}
