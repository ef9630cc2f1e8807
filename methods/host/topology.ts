// Which logical CPUs share a physical core, and where each core sits (package, die, core id):
// from /sys/devices/system/cpu/cpuN/topology, else from the "physical id"/"core id" lines of
// /proc/cpuinfo. system.info's physical_cores and the temperature attribution both need it.
import { parseCpuList } from './cpulist.js';
import { toSource, type FileSource, type HostRoot } from './files.js';

export interface PhysicalCore {
  package: number;
  /** The die within the package (the CCD on AMD Zen; 0 elsewhere). */
  die: number;
  /** The kernel's package-relative core id (what coretemp's "Core N" labels name). */
  coreId: number;
  /** Logical CPUs on this core, ascending. */
  cpus: number[];
}

export interface CpuTopology {
  /** Online logical CPU ids, ascending. */
  logical: number[];
  /** Physical cores ordered by their lowest logical CPU. */
  physical: PhysicalCore[];
  /** Logical CPU id -> index into `physical`. */
  coreOf: Map<number, number>;
}

const CPU_DIR = '/sys/devices/system/cpu';

function int(text: string | null): number | null {
  if (text === null) return null;
  const n = Number.parseInt(text.trim(), 10);
  return Number.isFinite(n) ? n : null;
}

/** The online logical CPUs: sysfs first, else the cpuN lines of /proc/stat, else cpuinfo. */
export async function readOnlineCpus(root: HostRoot = '/'): Promise<number[] | null> {
  const files = toSource(root);
  const online = await files.read(`${CPU_DIR}/online`);
  const fromSysfs = online === null ? null : parseCpuList(online);
  if (fromSysfs && fromSysfs.length > 0) return fromSysfs;
  const stat = await files.read('/proc/stat');
  if (stat !== null) {
    const ids = [...stat.matchAll(/^cpu(\d+)\s/gm)].map((m) => Number(m[1]));
    if (ids.length > 0) return ids.sort((a, b) => a - b);
  }
  const info = await files.read('/proc/cpuinfo');
  if (info !== null) {
    const ids = [...info.matchAll(/^processor\s*:\s*(\d+)/gm)].map((m) => Number(m[1]));
    if (ids.length > 0) return ids.sort((a, b) => a - b);
  }
  return null;
}

interface CoreKey { siblings: number[]; package: number; die: number; coreId: number }

async function fromSysfs(files: FileSource, cpu: number): Promise<CoreKey | null> {
  const dir = `${CPU_DIR}/cpu${cpu}/topology`;
  // core_cpus_list replaced thread_siblings_list in Linux 5.7; both name the same set.
  const [list, oldList, pkg, die, core] = await Promise.all([
    files.read(`${dir}/core_cpus_list`), files.read(`${dir}/thread_siblings_list`),
    files.read(`${dir}/physical_package_id`), files.read(`${dir}/die_id`), files.read(`${dir}/core_id`),
  ]);
  const siblings = parseCpuList(list ?? oldList ?? '');
  if (!siblings || siblings.length === 0) return null;
  const nonNegative = (n: number | null) => (n !== null && n >= 0 ? n : 0);
  return { siblings, package: nonNegative(int(pkg)), die: nonNegative(int(die)), coreId: nonNegative(int(core)) };
}

/** processor -> (physical id, core id) from /proc/cpuinfo, for kernels without sysfs topology. */
function fromCpuinfo(info: string | null): Map<number, { package: number; coreId: number }> {
  const out = new Map<number, { package: number; coreId: number }>();
  if (info === null) return out;
  for (const block of info.split(/\n\s*\n/)) {
    const processor = /^processor\s*:\s*(\d+)/m.exec(block);
    const pkg = /^physical id\s*:\s*(\d+)/m.exec(block);
    const core = /^core id\s*:\s*(\d+)/m.exec(block);
    if (processor && pkg && core) out.set(Number(processor[1]), { package: Number(pkg[1]), coreId: Number(core[1]) });
  }
  return out;
}

export async function readCpuTopology(root: HostRoot = '/'): Promise<CpuTopology | null> {
  const files = toSource(root);
  const logical = await readOnlineCpus(files);
  if (logical === null) return null;
  const keys = await Promise.all(logical.map((cpu) => fromSysfs(files, cpu)));
  const byLowest = new Map<number, CoreKey>();
  const missing = logical.filter((_, i) => keys[i] === null);
  for (const key of keys) {
    if (key === null) continue;
    const lowest = Math.min(...key.siblings);
    if (!byLowest.has(lowest)) byLowest.set(lowest, key);
  }
  if (missing.length > 0) {
    // No sysfs topology for these: group them by (physical id, core id), else one core each.
    const info = fromCpuinfo(await files.read('/proc/cpuinfo'));
    const groups = new Map<string, number[]>();
    for (const cpu of missing) {
      const where = info.get(cpu);
      const k = where ? `${where.package}:${where.coreId}` : `cpu${cpu}`;
      groups.set(k, [...(groups.get(k) ?? []), cpu]);
    }
    for (const cpus of groups.values()) {
      const where = info.get(cpus[0]!);
      byLowest.set(Math.min(...cpus), { siblings: cpus, package: where?.package ?? 0, die: 0, coreId: where?.coreId ?? cpus[0]! });
    }
  }
  const online = new Set(logical);
  const physical: PhysicalCore[] = [...byLowest.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, k]) => ({ package: k.package, die: k.die, coreId: k.coreId, cpus: k.siblings.filter((c) => online.has(c)).sort((a, b) => a - b) }));
  const coreOf = new Map<number, number>();
  physical.forEach((core, index) => core.cpus.forEach((cpu) => coreOf.set(cpu, index)));
  return { logical, physical, coreOf };
}
