// The one way a test waits: for a condition, polled, with a deadline. A bound on how long to
// wait, never an assertion on speed (the machine is shared and noisy); a fixed sleep would be a
// guess that fails on a slow day and wastes time on a fast one.

/**
 * Poll `probe` until it returns something truthy, and return that; fail after `ms`, naming `what`
 * (“timed out waiting for <what>”). `everyMs` is the pause between polls.
 */
export async function until<T>(probe: () => Promise<T> | T, what: string, ms = 20_000, everyMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
