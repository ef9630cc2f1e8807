// CPU time and resident memory of cron runs' process groups, sampled from /proc every
// USAGE_SAMPLE_MS and reported to their jobs (job.recordMetrics, core.job_metrics). One pass over
// /proc serves every watched group, so ten concurrent runs cost what one does; the timer runs
// only while a group is watched.
//
// CPU: utime + stime + cutime + cstime of the group's processes (a process's own time and that of
// the children it reaped), in USER_HZ ticks. A process reaped by something outside the group takes
// its time with it, so the total is a lower bound; it never decreases (the largest sum seen), and
// the groups of one job (its attempts) add up. RSS: the sum of VmRSS of the group's processes.
import type { JobHandle } from '#midship/module-api';
import { allUsage, residentBytes } from './procfs.js';

export const USAGE_SAMPLE_MS = 2000;
/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every Linux ABI. */
const USER_HZ = 100;

interface Watched {
  job: JobHandle;
  pgid: number;
  /** CPU seconds of the job's earlier groups. */
  base: number;
  /** The largest CPU tick sum seen for this group. */
  ticks: number;
}

export class UsageSampler {
  /** By job id: one group per job at a time (attempts run one after another). */
  readonly #watched = new Map<number, Watched>();
  /** CPU seconds of a job's finished groups, until the job ends. */
  readonly #carried = new Map<number, number>();
  #timer: NodeJS.Timeout | null = null;
  #sampling = false;

  constructor(private readonly intervalMs = USAGE_SAMPLE_MS) {}

  /** Sample process group `pgid` for `job` until the returned function is called. */
  watch(job: JobHandle, pgid: number): () => void {
    if (!this.#carried.has(job.id)) {
      this.#carried.set(job.id, 0);
      job.onEnd(() => this.#carried.delete(job.id));
    }
    const w: Watched = { job, pgid, base: this.#carried.get(job.id) ?? 0, ticks: 0 };
    this.#watched.set(job.id, w);
    // At once, then every interval: a short run still gets a sample.
    void this.#sample();
    this.#timer ??= setInterval(() => void this.#sample(), this.intervalMs).unref();
    return () => {
      if (this.#watched.get(job.id) !== w) return;
      this.#watched.delete(job.id);
      if (this.#carried.has(job.id)) this.#carried.set(job.id, w.base + w.ticks / USER_HZ);
      if (this.#watched.size === 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  async #sample(): Promise<void> {
    if (this.#sampling || this.#watched.size === 0) return;
    this.#sampling = true;
    try {
      const all = await allUsage();
      if (all === null) return;
      const byGroup = new Map<number, Watched>([...this.#watched.values()].map((w) => [w.pgid, w]));
      const members = new Map<Watched, number[]>();
      const ticks = new Map<Watched, number>();
      for (const p of all) {
        const w = byGroup.get(p.pgrp);
        if (w === undefined) continue;
        ticks.set(w, (ticks.get(w) ?? 0) + p.cpuTicks);
        if (p.state !== 'Z' && p.state !== 'X') members.set(w, [...(members.get(w) ?? []), p.pid]);
      }
      await Promise.all([...members].map(async ([w, pids]) => {
        const rss = (await Promise.all(pids.map(residentBytes))).reduce<number>((sum, b) => sum + (b ?? 0), 0);
        if (this.#watched.get(w.job.id) !== w) return; // stopped meanwhile
        w.ticks = Math.max(w.ticks, ticks.get(w) ?? 0);
        w.job.recordMetrics({ cpu_seconds: w.base + w.ticks / USER_HZ, rss_bytes: rss });
      }));
    } finally {
      this.#sampling = false;
    }
  }
}
