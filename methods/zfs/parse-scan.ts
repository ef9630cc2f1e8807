// The scrub / resilver paragraph of `zpool status`: " scrub: ..." on zfs-fuse (one line, minute
// precision, percent only) and "  scan: ..." on OpenZFS (byte counts, dates, time to go).
import type { ScanFunction, ScanStatus } from './types.js';
import { parseCtime, parseDuration, parseNiceSize } from './units.js';

function blank(fn: ScanFunction, text: string): ScanStatus {
  return {
    function: fn, state: 'FINISHED', paused: false, pausedAt: null, startTime: null, endTime: null, percentage: null,
    bytesScanned: null, bytesToScan: null, bytesIssued: null, bytesToIssue: null, bytesProcessed: null,
    errors: null, secondsLeft: null, text,
  };
}

const DATE = '([A-Z][a-z]{2} [A-Z][a-z]{2} +\\d{1,2} \\d{2}:\\d{2}:\\d{2} \\d{4})';

function fuse(text: string, now: number): ScanStatus | null {
  let m = new RegExp(`^(scrub|resilver) (completed|stopped) after (\\d+h\\d+m) with (\\d+) errors on ${DATE}$`).exec(text);
  if (m) {
    const s = blank(m[1] === 'scrub' ? 'SCRUB' : 'RESILVER', text);
    s.state = m[2] === 'completed' ? 'FINISHED' : 'CANCELED';
    s.endTime = parseCtime(m[5]!);
    const took = parseDuration(m[3]!);
    s.startTime = s.endTime !== null && took !== null ? s.endTime - took * 1000 : null;
    s.errors = Number(m[4]);
    if (s.state === 'FINISHED') s.percentage = 100;
    return s;
  }
  m = /^(scrub|resilver) in progress for (\d+h\d+m), ([\d.]+)% done, (\d+h\d+m) to go$/.exec(text);
  if (m) {
    const s = blank(m[1] === 'scrub' ? 'SCRUB' : 'RESILVER', text);
    s.state = 'SCANNING';
    const took = parseDuration(m[2]!);
    s.startTime = took === null ? null : now - took * 1000;
    s.percentage = Number(m[3]);
    s.secondsLeft = parseDuration(m[4]!);
    return s;
  }
  return null;
}

/** "1.50G / 10.0G scanned at 100M/s, 1.00G / 9.50G issued at 50.0M/s" */
function openzfsCounts(s: ScanStatus, line: string): void {
  let m = /([\d.]+[BKMGTPEZ]?) \/ ([\d.]+[BKMGTPEZ]?) scanned/.exec(line);
  if (m) {
    s.bytesScanned = parseNiceSize(m[1]!);
    s.bytesToScan = parseNiceSize(m[2]!);
  }
  m = /([\d.]+[BKMGTPEZ]?) \/ ([\d.]+[BKMGTPEZ]?) issued/.exec(line);
  if (m) {
    s.bytesIssued = parseNiceSize(m[1]!);
    s.bytesToIssue = parseNiceSize(m[2]!);
  }
  // OpenZFS 0.7 and earlier: "1.2G scanned out of 10G at 100M/s, 0h1m to go"
  m = /([\d.]+[BKMGTPEZ]?) scanned out of ([\d.]+[BKMGTPEZ]?)/.exec(line);
  if (m) {
    s.bytesScanned = parseNiceSize(m[1]!);
    s.bytesToScan = parseNiceSize(m[2]!);
  }
  m = /([\d.]+[BKMGTPEZ]?) (?:repaired|resilvered), ([\d.]+)% done/.exec(line);
  if (m) {
    s.bytesProcessed = parseNiceSize(m[1]!);
    s.percentage = Number(m[2]);
  }
  m = /, ((?:\d+ days? )?\d+:\d{2}:\d{2}|\d+h\d+m) to go/.exec(line);
  if (m) s.secondsLeft = parseDuration(m[1]!);
}

function openzfs(lines: string[]): ScanStatus | null {
  const first = lines[0]!.trim();
  const text = lines.map((l) => l.trim()).join('\n');
  let m = new RegExp(`^(?:thorough )?(scrub repaired|resilvered) ?([\\d.]+[BKMGTPEZ]?)? in ((?:\\d+ days? )?\\d+:\\d{2}:\\d{2}|\\d+h\\d+m) with (\\d+) errors on ${DATE}$`).exec(first);
  if (m) {
    const s = blank(m[1] === 'resilvered' ? 'RESILVER' : 'SCRUB', text);
    s.bytesProcessed = m[2] === undefined ? null : parseNiceSize(m[2]);
    s.endTime = parseCtime(m[5]!);
    const took = parseDuration(m[3]!);
    s.startTime = s.endTime !== null && took !== null ? s.endTime - took * 1000 : null;
    s.errors = Number(m[4]);
    s.percentage = 100;
    return s;
  }
  m = new RegExp(`^(?:thorough )?(scrub|resilver) canceled on ${DATE}$`).exec(first);
  if (m) {
    const s = blank(m[1] === 'scrub' ? 'SCRUB' : 'RESILVER', text);
    s.state = 'CANCELED';
    s.endTime = parseCtime(m[2]!);
    return s;
  }
  m = new RegExp(`^(?:thorough )?(scrub|resilver)(?: \\([^)]*\\))? (in progress|paused) since ${DATE}$`).exec(first);
  if (m) {
    const s = blank(m[1] === 'scrub' ? 'SCRUB' : 'RESILVER', text);
    s.state = 'SCANNING';
    const at = parseCtime(m[3]!);
    if (m[2] === 'paused') {
      s.paused = true;
      s.pausedAt = at;
      const started = lines.map((l) => new RegExp(`(?:scrub|resilver) started on ${DATE}`).exec(l)).find((x) => x !== null);
      s.startTime = started ? parseCtime(started[1]!) : null;
    } else {
      s.startTime = at;
    }
    for (const l of lines.slice(1)) openzfsCounts(s, l);
    return s;
  }
  return null;
}

/**
 * One scan paragraph (the value after "scan:"/"scrub:" plus its continuation lines) as a
 * ScanStatus; null for "none requested" and for text this parser does not know. `now` is the
 * time the command ran (zfs-fuse only prints how long a scan has been running).
 */
export function parseScan(lines: readonly string[], now: number): ScanStatus | null {
  const clean = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')).filter((l) => l.trim() !== '');
  if (clean.length === 0) return null;
  const first = clean[0]!.trim();
  if (first === 'none requested') return null;
  return fuse(first, now) ?? openzfs(clean);
}
