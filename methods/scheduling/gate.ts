// Concurrency caps: a global limit on running jobs and limits per method. Given what runs and what
// waits (in submission order), says which waiting jobs may start now and, for the others, why they
// wait, in words a person reads in the job's description.

export interface CapLimits {
  /** Most jobs running at once; null: no limit. */
  global: number | null;
  /** Most running jobs of a method, e.g. { 'cronjob.run': 4 }. */
  perMethod: Readonly<Record<string, number>>;
}

export interface GateJob {
  id: number;
  method: string;
}

export interface GatePlan {
  /** Waiting jobs to start now, in order. */
  start: number[];
  /** The rest, each with the reason it waits. */
  waiting: Array<{ id: number; reason: string }>;
}

const ordinal = (n: number) => (n === 1 ? 'next' : `${n}${n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : n % 10 === 1 && n % 100 !== 11 ? 'st' : 'th'} in line`);

/**
 * First come, first served under both caps. A job held back by its method's cap does not hold
 * back jobs of other methods; once the global cap is reached nothing more starts.
 */
export function planStarts(limits: CapLimits, running: readonly GateJob[], waiting: readonly GateJob[]): GatePlan {
  let total = running.length;
  const perMethod = new Map<string, number>();
  for (const j of running) perMethod.set(j.method, (perMethod.get(j.method) ?? 0) + 1);
  const plan: GatePlan = { start: [], waiting: [] };
  let behindGlobal = 0;
  const behindMethod = new Map<string, number>();
  for (const j of waiting) {
    const methodCap = limits.perMethod[j.method];
    const methodRunning = perMethod.get(j.method) ?? 0;
    if (limits.global !== null && total >= limits.global) {
      behindGlobal++;
      plan.waiting.push({ id: j.id, reason: `Waiting: the limit of ${limits.global} running jobs is reached (${total} running); ${ordinal(behindGlobal)}` });
    } else if (methodCap !== undefined && methodRunning >= methodCap) {
      const n = (behindMethod.get(j.method) ?? 0) + 1;
      behindMethod.set(j.method, n);
      plan.waiting.push({ id: j.id, reason: `Waiting: the limit of ${methodCap} running ${j.method} jobs is reached (${methodRunning} running); ${ordinal(n)}` });
    } else {
      plan.start.push(j.id);
      total++;
      perMethod.set(j.method, methodRunning + 1);
    }
  }
  return plan;
}
