// A list the daemon keeps current with events: loaded with one call, loaded again on every event
// of its collection and after a reconnect (events sent while the socket was down are lost). For
// short lists (alerts, alert services, webhooks) reloading is simpler than patching, and the
// order stays the daemon's.
import { useEffect, useState } from 'preact/hooks';
import type { RpcClient } from './rpc.js';

export interface LiveList<T> {
  items: T[] | null;
  error: string | null;
  reload(): void;
}

export function useLiveList<T>(rpc: RpcClient, method: string, event: string, params: unknown[] = []): LiveList<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(params);
  useEffect(() => {
    let gone = false;
    let off: (() => void) | null = null;
    // Reloads never overlap: a change while one runs asks for one more, whose answer is newest.
    let running = false;
    let again = false;
    const load = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const list = await rpc.call<T[]>(method, JSON.parse(key) as unknown[]);
          if (gone) return;
          setItems(list);
          setError(null);
        } while (again && !gone);
      } catch (err) {
        if (!gone) setError((err as Error).message);
      } finally {
        running = false;
      }
    };
    void rpc
      .subscribe(event, () => void load())
      .then((o) => (gone ? o() : (off = o)))
      .then(load, (err: unknown) => setError((err as Error).message));
    const offReconnect = rpc.onReconnected(() => void load());
    return () => {
      gone = true;
      off?.();
      offReconnect();
    };
  }, [rpc, method, event, key, tick]);
  return { items, error, reload: () => setTick((t) => t + 1) };
}
