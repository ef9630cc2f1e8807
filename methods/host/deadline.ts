// Waiting for something that may never answer (a stalled zfs-fuse, a `zpool` stuck behind it)
// without being held by it: the caller goes on with a fallback, the work itself runs on.

/** `promise`'s value, or `fallback()` once `ms` passed without one. The timer never keeps the process up. */
export function withDeadline<T>(promise: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
