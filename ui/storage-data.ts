// The Storage page's data, kept live through the public API: a list read with a query and read
// again (debounced) when one of its events says it changed, or after a reconnect; scans and
// replication states are merged from their events as they come, without a read.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CollectionUpdate, RpcClient } from './rpc.js';

export interface Prop { parsed: unknown; value: string | null; rawvalue: string | null }
export interface Scan { function: string; state: string; percentage: number; errors: number; end_time: { $date: number } | null }
export interface Vdev { name: string; type: string; status: string; disk: string | null; stats: { read_errors: number; write_errors: number; checksum_errors: number }; children: Vdev[] }
export interface Pool {
  id: number; name: string; status: string; healthy: boolean; warning: boolean; status_detail: string | null;
  size: number | null; allocated: number | null; free: number | null; scan: Scan | null;
  topology: Record<'data' | 'log' | 'cache' | 'spare' | 'special' | 'dedup', Vdev[]> | null;
}
export interface Dataset { id: string; type: string; mountpoint: string | null; used?: Prop; available?: Prop; compression?: Prop; children: Dataset[] }
export interface Snapshot { id: string; dataset: string; snapshot_name: string; createtxg: string; holds?: { truenas?: number }; properties: Record<string, Prop> }
export interface ReplicationProgress { snapshots_sent: number; snapshots_total: number; bytes_sent: number; bytes_total: number; dataset: string; snapshot: string }
export interface ReplicationState { state: string; datetime?: { $date: number }; error?: string | null; last_snapshot?: string | null; progress?: ReplicationProgress }
export interface Replication { id: number; name: string; source_datasets: string[]; target_dataset: string; transport: string; enabled: boolean; state: ReplicationState; job: { id: number } | null }

/**
 * `load()` now, and again (at most every `debounceMs`) after any event of `collections` or a
 * reconnect. `onEvent` may apply an event itself and return true to skip the read.
 */
export function useLive<T>(rpc: RpcClient, collections: string[], load: () => Promise<T>, onEvent?: (u: CollectionUpdate, set: (f: (prev: T | null) => T | null) => void) => boolean, debounceMs = 300): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reloadRef = useRef<() => void>(() => {});
  useEffect(() => {
    let gone = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let running = false;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const v = await loadRef.current();
        if (!gone) {
          setData(v);
          setError(null);
        }
      } catch (err) {
        if (!gone) setError((err as Error).message);
      } finally {
        running = false;
        if (again && !gone) {
          again = false;
          void run();
        }
      }
    };
    const soon = () => {
      if (timer === null) timer = setTimeout(() => { timer = null; void run(); }, debounceMs);
    };
    reloadRef.current = () => void run();
    const offs: Array<() => void> = [];
    for (const name of collections) {
      void rpc.subscribe(name, (u) => {
        if (onEvent?.(u, setData)) return;
        soon();
      }).then((off) => (gone ? off() : offs.push(off)));
    }
    const offReconnect = rpc.onReconnected(() => void run());
    void run();
    return () => {
      gone = true;
      if (timer !== null) clearTimeout(timer);
      for (const off of offs) off();
      offReconnect();
    };
  }, [rpc, collections.join(',')]);
  return { data, error, reload: () => reloadRef.current() };
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes as "512 B", "1.5 KiB", "12.3 GiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '\u2013';
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}
