// The kernel's cpulist format ("0-3,8,10-11"), used by /sys/devices/system/cpu/online and the
// topology files (https://docs.kernel.org/admin-guide/cputopology.html).

/** The CPU ids of a cpulist, or null when the text is not one. */
export function parseCpuList(text: string): number[] | null {
  const out: number[] = [];
  for (const raw of text.trim().split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    // A range wider than any machine has is a corrupt file, not a list to expand.
    if (hi < lo || hi - lo > 65536) return null;
    for (let id = lo; id <= hi; id++) out.push(id);
  }
  return out;
}
