// system.info's `uptime` is Python's str(timedelta(seconds=...)): "3 days, 4:05:06.789000",
// "1 day, 0:00:01", "0:05:06". Clients that show it verbatim expect exactly that text.

export function timedeltaText(seconds: number): string {
  const totalMicros = Math.round(Math.max(0, seconds) * 1e6);
  const micros = totalMicros % 1e6;
  const whole = (totalMicros - micros) / 1e6;
  const days = Math.floor(whole / 86400);
  const rest = whole - days * 86400;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const s = rest % 60;
  const clock = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${micros ? `.${String(micros).padStart(6, '0')}` : ''}`;
  return days === 0 ? clock : `${days} day${days === 1 ? '' : 's'}, ${clock}`;
}
