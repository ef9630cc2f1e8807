// One reading of the host's moving figures per call, with rates computed against the previous
// call: CPU usage, temperatures, memory, ARC, disk and interface traffic, load and uptime. The
// realtime payload (realtime.ts) and the history rows (history/points.ts) are both made from it.
// Files stay open between calls (files.ts), so a sample costs well under a millisecond of CPU.
import { ArcReader, arcRates, type ArcCounters } from './arc.js';
import { CpuTemperatureReader, type CpuTemperatures } from './cpu-temperature.js';
import { cpuUsage, parseProcStat, type CpuTimes, type CpuUsage } from './cpu-usage.js';
import { diskRates, listDisks, parseDiskstats, type DiskCounters, type DiskRate } from './disk-stats.js';
import { HostFiles } from './files.js';
import { parseMeminfo, type MemoryInfo } from './memory.js';
import { netRates, parseNetDev, type NetCounters } from './net-counters.js';
import { linkState } from './net-link.js';
import { readLoadAvg, readUptime } from './system-facts.js';
import type { LinkStateT } from '../../schemas/host/interface.js';
import type { RealtimeZfsT } from '../../schemas/host/realtime.js';

export interface InterfaceSample {
  link_state: LinkStateT;
  /** Mbit/s, null when unknown. */
  speed: number | null;
  /** Bytes per second. */
  received: number;
  sent: number;
}

export interface HostSample {
  /** Epoch ms when taken. */
  time: number;
  /** Seconds the rates cover (0 on the first sample). */
  seconds: number;
  /** "cpu" first, then "cpu0", "cpu1", ... */
  cpu: Map<string, CpuUsage>;
  temperatures: CpuTemperatures | null;
  memory: MemoryInfo | null;
  arc: ArcCounters | null;
  zfs: RealtimeZfsT;
  disks: Map<string, DiskRate>;
  interfaces: Map<string, InterfaceSample>;
  loadavg: [number, number, number] | null;
  uptime: number | null;
}

export interface HostSamplerOptions {
  root?: string;
  /** Which interfaces to report (default: all). */
  includeInterface?: (name: string) => boolean;
  /** Epoch ms; tests pass their own. */
  now?: () => number;
  /** Monotonic ms the rates are measured with (default performance.now); tests pass their own. */
  monotonic?: () => number;
  /**
   * An ARC reader shared with other samplers (one zfs-fuse reading shell for all of them); the
   * sampler does not close it. Default: one of its own, closed with the sampler.
   */
  arc?: ArcReader;
}

interface Counters {
  at: number;
  cpu: CpuTimes;
  disks: Map<string, DiskCounters>;
  net: Map<string, NetCounters>;
  arc: ArcCounters | null;
}

export class HostSampler {
  private readonly files: HostFiles;
  private readonly temperatures: CpuTemperatureReader;
  private readonly arc: ArcReader;
  private readonly ownsArc: boolean;
  private readonly include: (name: string) => boolean;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private previous: Counters | null = null;
  private diskNames: string[] = [];
  /** The device names of /proc/diskstats when diskNames was computed. */
  private diskKey = '';

  constructor(options: HostSamplerOptions = {}) {
    this.files = new HostFiles(options.root ?? '/');
    this.temperatures = new CpuTemperatureReader(this.files);
    this.now = options.now ?? Date.now;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.ownsArc = options.arc === undefined;
    this.arc = options.arc ?? new ArcReader(this.files, this.now);
    this.include = options.includeInterface ?? (() => true);
  }

  /** The disks to count, looked up again only when /proc/diskstats lists other devices. */
  private async disksFor(stats: Map<string, DiskCounters>): Promise<string[]> {
    const key = [...stats.keys()].join(' ');
    if (key !== this.diskKey) {
      this.diskNames = (await listDisks(this.files)).filter((d) => stats.has(d));
      this.diskKey = key;
    }
    return this.diskNames;
  }

  private async interfaceStates(names: string[]): Promise<Map<string, { link_state: LinkStateT; speed: number | null }>> {
    const out = new Map<string, { link_state: LinkStateT; speed: number | null }>();
    await Promise.all(names.map(async (name) => {
      const operstate = await this.files.read(`/sys/class/net/${name}/operstate`);
      if (operstate === null) return;
      const state = linkState(operstate.trim());
      // speed fails with EINVAL while the link is down: only read it when it can answer.
      const speedText = state === 'LINK_STATE_UP' ? await this.files.read(`/sys/class/net/${name}/speed`) : null;
      const speed = speedText === null ? NaN : Number.parseInt(speedText, 10);
      out.set(name, { link_state: state, speed: Number.isFinite(speed) && speed > 0 ? speed : null });
    }));
    return out;
  }

  /** Takes a sample. The first one has no rates (all 0); the next ones cover the time since the previous. */
  async sample(): Promise<HostSample> {
    // The ARC may answer late (zfs-fuse through its shell, up to the reader's budget): it is read
    // alongside, and the time the rates are measured over is taken when the kernel's counters
    // came, not after it.
    const arcRead = this.arc.read();
    const [stat, meminfo, diskstats, netdev, temperatures, loadavg, uptime] = await Promise.all([
      this.files.read('/proc/stat'),
      this.files.read('/proc/meminfo'),
      this.files.read('/proc/diskstats'),
      this.files.read('/proc/net/dev'),
      this.temperatures.read(),
      readLoadAvg(this.files),
      readUptime(this.files),
    ]);
    const at = this.monotonic();
    const arc = await arcRead;
    const cur: Counters = {
      at,
      cpu: stat === null ? new Map() : parseProcStat(stat),
      disks: diskstats === null ? new Map() : parseDiskstats(diskstats),
      net: netdev === null ? new Map() : parseNetDev(netdev),
      arc,
    };
    const names = [...cur.net.keys()].filter(this.include);
    const [disks, links] = await Promise.all([this.disksFor(cur.disks), this.interfaceStates(names)]);
    const prev = this.previous ?? cur;
    const seconds = this.previous ? (at - prev.at) / 1000 : 0;
    const net = netRates(prev.net, cur.net, seconds);
    const interfaces = new Map<string, InterfaceSample>();
    for (const name of names) {
      const link = links.get(name);
      if (!link) continue;
      const rate = net.get(name);
      interfaces.set(name, { ...link, received: rate?.received ?? 0, sent: rate?.sent ?? 0 });
    }
    this.previous = cur;
    // Files of interfaces and sensors that went away are closed here.
    this.files.sweep();
    return {
      time: this.now(),
      seconds,
      cpu: cpuUsage(prev.cpu, cur.cpu),
      temperatures,
      memory: meminfo === null ? null : parseMeminfo(meminfo),
      arc,
      zfs: arcRates(prev.arc, cur.arc, seconds),
      disks: diskRates(prev.disks, cur.disks, disks, seconds),
      interfaces,
      loadavg,
      uptime,
    };
  }

  async close(): Promise<void> {
    if (this.ownsArc) this.arc.close();
    await this.files.close();
  }
}
