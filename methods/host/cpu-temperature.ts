// CPU temperatures per logical CPU, as TrueNAS attributes them: hwmon chips (Intel coretemp
// "Core N" per physical core, AMD k10temp "Tccd<N>" per die with Tdie/Tctl for the rest of the
// package, anything else one reading per package), else CPU thermal zones, projected onto every
// logical CPU of each physical core. The aggregate "cpu" is the mean over physical cores, so SMT
// siblings do not weigh twice. No sensor at all (most VMs): null.
import { toSource, type FileSource, type HostRoot } from './files.js';
import { readCpuTopology, type CpuTopology } from './topology.js';

const CPU_CHIPS = new Set(['coretemp', 'k10temp', 'k8temp', 'zenpower', 'via_cputemp', 'cpu_thermal']);
const CPU_ZONE = /x86_pkg_temp|cpu|soc/i;

interface Chip { name: string; package: number; inputs: Array<{ label: string; path: string }> }

interface Sensors { topology: CpuTopology; chips: Chip[]; zones: string[] }

/** "cpu0" ... "cpuN" and "cpu" -> °C. */
export type CpuTemperatures = Record<string, number>;

async function discoverChips(files: FileSource, topology: CpuTopology): Promise<Chip[]> {
  const dirs = ((await files.list('/sys/class/hwmon')) ?? []).sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')));
  const packages = [...new Set(topology.physical.map((c) => c.package))].sort((a, b) => a - b);
  const seen = new Map<string, number>();
  const chips: Chip[] = [];
  for (const dir of dirs) {
    const base = `/sys/class/hwmon/${dir}`;
    const name = (await files.read(`${base}/name`))?.trim();
    if (!name || !CPU_CHIPS.has(name)) continue;
    const entries = (await files.list(base)) ?? [];
    const inputs: Chip['inputs'] = [];
    for (const entry of entries.sort()) {
      const m = /^temp(\d+)_input$/.exec(entry);
      if (!m) continue;
      const label = (await files.read(`${base}/temp${m[1]}_label`))?.trim() || `temp${m[1]}`;
      inputs.push({ label, path: `${base}/${entry}` });
    }
    if (inputs.length === 0) continue;
    // coretemp names its package; other chips of one kind are taken in order, one per package.
    const nth = seen.get(name) ?? 0;
    seen.set(name, nth + 1);
    const named = inputs.map((i) => /^Package id (\d+)$/.exec(i.label)).find((m) => m);
    chips.push({ name, package: named ? Number(named[1]) : packages[nth] ?? 0, inputs });
  }
  return chips;
}

async function discoverZones(files: FileSource): Promise<string[]> {
  const zones: string[] = [];
  for (const dir of ((await files.list('/sys/class/thermal')) ?? []).filter((d) => d.startsWith('thermal_zone')).sort()) {
    const type = (await files.read(`/sys/class/thermal/${dir}/type`))?.trim();
    if (type && CPU_ZONE.test(type)) zones.push(`/sys/class/thermal/${dir}/temp`);
  }
  return zones;
}

/** Physical-core index -> °C for one chip's readings. */
function attribute(chip: Chip, readings: Map<string, number>, topology: CpuTopology): Map<number, number> {
  const out = new Map<number, number>();
  const inPackage = topology.physical.map((c, i) => ({ c, i })).filter(({ c }) => c.package === chip.package);
  if (chip.name === 'coretemp') {
    for (const [label, t] of readings) {
      const m = /^Core (\d+)$/.exec(label);
      const core = m ? inPackage.find(({ c }) => c.coreId === Number(m[1])) : undefined;
      if (core) out.set(core.i, t);
    }
  } else if (chip.name === 'k10temp' || chip.name === 'k8temp' || chip.name === 'zenpower') {
    // Tdie only exists where Tctl carries a fan-control offset; then it is the true reading.
    if (!readings.has('Tdie')) {
      for (const [label, t] of readings) {
        const m = /^Tccd(\d+)$/.exec(label);
        if (m) for (const { c, i } of inPackage) if (c.die === Number(m[1]) - 1) out.set(i, t);
      }
    }
  }
  const packageWide = readings.get('Tdie') ?? readings.get('Tctl') ?? readings.get('Package id ' + chip.package) ?? readings.get('temp1');
  if (packageWide !== undefined) for (const { i } of inPackage) if (!out.has(i)) out.set(i, packageWide);
  return out;
}

const millidegrees = (text: string | null) => {
  const t = text?.trim();
  const n = t ? Number(t) : NaN;
  return Number.isFinite(n) ? n / 1000 : null;
};

export class CpuTemperatureReader {
  private readonly files: FileSource;
  private sensors: Sensors | null = null;

  constructor(root: HostRoot = '/') {
    this.files = toSource(root);
  }

  private async discover(): Promise<Sensors | null> {
    const topology = await readCpuTopology(this.files);
    if (!topology) return null;
    const chips = await discoverChips(this.files, topology);
    const zones = chips.length > 0 ? [] : await discoverZones(this.files);
    return { topology, chips, zones };
  }

  /** Temperatures now, or null when the host has no CPU sensor. */
  async read(): Promise<CpuTemperatures | null> {
    // Sensors are found once: hwmon chips and topology do not change while the system runs.
    this.sensors ??= await this.discover();
    const s = this.sensors;
    if (!s || (s.chips.length === 0 && s.zones.length === 0)) return null;
    const perCore = new Map<number, number>();
    for (const chip of s.chips) {
      const texts = await Promise.all(chip.inputs.map((i) => this.files.read(i.path)));
      const readings = new Map<string, number>();
      chip.inputs.forEach((input, k) => {
        const t = millidegrees(texts[k]!);
        if (t !== null) readings.set(input.label, t);
      });
      for (const [core, t] of attribute(chip, readings, s.topology)) if (!perCore.has(core)) perCore.set(core, t);
    }
    if (s.chips.length === 0) {
      const temps = (await Promise.all(s.zones.map((z) => this.files.read(z)))).map(millidegrees).filter((t): t is number => t !== null);
      if (temps.length > 0) {
        const t = temps.reduce((a, b) => a + b, 0) / temps.length;
        s.topology.physical.forEach((_, i) => perCore.set(i, t));
      }
    }
    if (perCore.size === 0) {
      // Every sensor failed to read: a driver reloaded; look again next time.
      this.sensors = null;
      return null;
    }
    const out: CpuTemperatures = {};
    for (const cpu of s.topology.logical) {
      const t = perCore.get(s.topology.coreOf.get(cpu)!);
      if (t !== undefined) out[`cpu${cpu}`] = t;
    }
    const values = [...perCore.values()];
    out.cpu = Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000;
    return out;
  }
}
