// Group commit: writes issued while a batch is being written go out together in the next one, in
// issue order. Thousands of deliveries a second then cost a few hundred level batches, and two
// batches never race each other (classic-level runs them on a thread pool, so back-to-back
// batches are not guaranteed to land in order).

export interface BatchTarget<Op> {
  batch(ops: Op[]): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Group<Op> {
  ops: Op[];
  waiters: Waiter[];
}

export class GroupWriter<Op> {
  /** The batch still taking writes; null once it started or was sealed by exclusive(). */
  private open: Group<Op> | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly target: BatchTarget<Op>) {}

  /** Resolves when `ops` have landed, atomically with each other. */
  write(ops: Op[]): Promise<void> {
    let group = this.open;
    if (group === null) {
      const g: Group<Op> = { ops: [], waiters: [] };
      group = this.open = g;
      this.chain = this.chain.then(() => this.flush(g));
    }
    for (const op of ops) group.ops.push(op);
    return new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
  }

  private async flush(group: Group<Op>): Promise<void> {
    if (this.open === group) this.open = null;
    try {
      if (group.ops.length > 0) await this.target.batch(group.ops);
      for (const w of group.waiters) w.resolve();
    } catch (err) {
      for (const w of group.waiters) w.reject(err);
    }
  }

  /** Runs `fn` after every write issued before this call has landed, and before any issued after. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.open = null;
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves when everything issued so far has landed (or failed). */
  idle(): Promise<void> {
    return this.exclusive(async () => undefined);
  }
}
