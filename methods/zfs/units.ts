// Sizes and counts as ZFS prints them (zfs_nicenum: 1024-based, "123M", "1.50G", "0B") and as
// TrueNAS shows them (format_size: "1.5 KiB").

const POWERS: Record<string, number> = { '': 0, B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6, Z: 7 };

/**
 * "123M" -> 128974848. Human sizes are rounded by ZFS to three significant digits, so the
 * result is approximate unless the text is a plain integer. Returns null for "-", "none", "".
 */
export function parseNiceSize(text: string): number | null {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)\s*([BKMGTPEZ]?)(?:i?B)?$/i.exec(t);
  if (!m) return null;
  const n = Number(m[1]);
  const p = POWERS[m[2]!.toUpperCase()]!;
  return Math.round(n * 1024 ** p);
}

/** True when the text is an exact integer (a `-p` value), not a rounded human size. */
export function isExactInteger(text: string): boolean {
  return /^\d+$/.test(text.trim());
}

/** An exact decimal integer as a number, or null when it is not one (or does not fit a double exactly). */
export function parseExactInteger(text: string): number | null {
  if (!isExactInteger(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** TrueNAS's format_size: "512 bytes", "1 KiB", "1.5 KiB", "1.46 KiB". */
export function formatSize(size: number): string {
  if (size < 1024) return size === 1 ? '1 byte' : `${size} bytes`;
  let value = size / 1024;
  let i = 0;
  while (value >= 1024 && i < UNITS.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(2).replace(/0+$/, '').replace(/\.$/, '')} ${UNITS[i]}`;
}

/** "0h12m" (zfs-fuse) or "1 days 02:03:04" / "00:01:02" (OpenZFS secs_to_dhms) -> seconds. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  let m = /^(\d+)h(\d+)m$/.exec(t);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60;
  m = /^(?:(\d+) days? )?(\d+):(\d{2}):(\d{2})$/.exec(t);
  if (m) return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A ctime(3) date, "Sat Nov 28 16:34:49 2026", as epoch ms. Commands run with TZ=UTC (exec.ts),
 * so the text is UTC.
 */
export function parseCtime(text: string): number | null {
  const m = /^(?:[A-Z][a-z]{2}) ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return null;
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}
