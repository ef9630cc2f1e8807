// Durations as people read them in a job's description: "40 s", "2 min 5 s", "3 h 10 min".

/** `ms` rounded up to whole seconds (a wait never reads "0 s" while it lasts), two units at most. */
export function durationText(ms: number): string {
  let s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: Array<[number, string]> = [[d, 'd'], [h, 'h'], [m, 'min'], [s, 's']];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ');
}
