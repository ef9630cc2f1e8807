// Notices interfaces appearing, changing (link state, MTU, MAC, flags, addresses) and vanishing,
// by polling sysfs and the address sources. The method layer turns the changes into
// interface.query ADDED / CHANGED / REMOVED events.
import { HostFiles } from './files.js';
import { hostIpv4Source, type Ipv4Source } from './net-addresses.js';
import { readInterfaces, type InterfaceSnapshot } from './net-state.js';

export type InterfaceChange =
  | { type: 'ADDED'; name: string; snapshot: InterfaceSnapshot }
  | { type: 'CHANGED'; name: string; snapshot: InterfaceSnapshot; fields: string[] }
  | { type: 'REMOVED'; name: string };

export interface InterfaceWatcherOptions {
  root?: string;
  /** Between polls; default 5 s. */
  intervalMs?: number;
  ipv4?: Ipv4Source;
  /** Which interfaces to report; default all. */
  include?: (snapshot: InterfaceSnapshot) => boolean;
  onChanges: (changes: InterfaceChange[]) => void;
  /** A poll that failed (it is retried at the next interval). */
  onError?: (err: unknown) => void;
  /**
   * Whether a timed poll is worth its cost now (e.g. someone listens for the changes); default
   * always. A skipped poll changes nothing: the next poll reports what changed since the last one.
   */
  wanted?: () => boolean;
}

/** The parts of the state whose change is reported, each compared as text. */
function watched(s: InterfaceSnapshot): Record<string, string> {
  const aliases = s.state.aliases.map((a) => `${a.type} ${a.address}/${a.netmask}`).sort();
  return {
    link_state: s.state.link_state,
    mtu: String(s.state.mtu),
    link_address: s.state.link_address,
    flags: s.state.flags.join(','),
    aliases: aliases.join(','),
    type: s.type,
  };
}

/** The changes from one set of snapshots to the next. */
export function diffInterfaces(before: Map<string, InterfaceSnapshot>, after: Map<string, InterfaceSnapshot>): InterfaceChange[] {
  const changes: InterfaceChange[] = [];
  for (const [name, snapshot] of after) {
    const old = before.get(name);
    if (old && old.ifindex !== snapshot.ifindex) {
      // Deleted and created again between two polls: a different interface under the same name.
      changes.push({ type: 'REMOVED', name });
    }
    if (!old || old.ifindex !== snapshot.ifindex) {
      changes.push({ type: 'ADDED', name, snapshot });
      continue;
    }
    const a = watched(old);
    const b = watched(snapshot);
    const fields = Object.keys(b).filter((k) => a[k] !== b[k]);
    if (fields.length > 0) changes.push({ type: 'CHANGED', name, snapshot, fields });
  }
  for (const name of before.keys()) if (!after.has(name)) changes.push({ type: 'REMOVED', name });
  return changes;
}

export class InterfaceWatcher {
  private readonly files: HostFiles;
  private readonly intervalMs: number;
  private readonly ipv4: Ipv4Source | undefined;
  private readonly include: (s: InterfaceSnapshot) => boolean;
  private known = new Map<string, InterfaceSnapshot>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<InterfaceChange[]> | null = null;
  private stopped = true;

  constructor(private readonly options: InterfaceWatcherOptions) {
    this.files = new HostFiles(options.root ?? '/');
    this.intervalMs = options.intervalMs ?? 5000;
    // One source for the watcher's life, so a missing `ip` is looked for once.
    this.ipv4 = options.ipv4 ?? ((options.root ?? '/') === '/' ? hostIpv4Source() : undefined);
    this.include = options.include ?? (() => true);
  }

  /** The interfaces as of the last poll. */
  current(): InterfaceSnapshot[] {
    return [...this.known.values()];
  }

  /** Takes the first snapshot (reported as nothing: those are the interfaces that exist) and starts polling. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.known = await this.snapshot();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      if (this.options.wanted && !this.options.wanted()) {
        this.schedule();
        return;
      }
      this.poll().catch((err: unknown) => this.options.onError?.(err)).finally(() => this.schedule());
    }, this.intervalMs);
    // A watcher alone must not keep the process alive.
    this.timer.unref();
  }

  private async snapshot(): Promise<Map<string, InterfaceSnapshot>> {
    const list = await readInterfaces(this.files, this.ipv4 ? { ipv4: this.ipv4 } : {});
    this.files.sweep();
    return new Map(list.filter(this.include).map((s) => [s.name, s]));
  }

  /** Polls now and reports what changed since the previous poll (also returned). */
  poll(): Promise<InterfaceChange[]> {
    // Concurrent callers share one poll: two overlapping polls would report a change twice.
    this.running ??= (async () => {
      try {
        const next = await this.snapshot();
        const changes = diffInterfaces(this.known, next);
        this.known = next;
        if (changes.length > 0 && !this.stopped) this.options.onChanges(changes);
        return changes;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => []);
    await this.files.close();
  }
}
