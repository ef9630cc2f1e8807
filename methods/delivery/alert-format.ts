// Turning alerts into the words an alert service sends: one alert as it happens, or a digest of
// everything raised and cleared over an hour or a day, grouped by level (most severe first) so
// the reader sees what matters before the noise.

export const ALERT_LEVELS = ['INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** The part of an alert (MODULES.md 3) a message needs; datetimes in ms. */
export interface AlertSummary {
  uuid: string;
  klass: string;
  level: AlertLevel;
  /** The text with its arguments filled in; null falls back to `text`. */
  formatted: string | null;
  text: string;
  /** First seen (ms). */
  datetime: number;
}

export type MessageKind = 'IMMEDIATE' | 'HOURLY' | 'DAILY' | 'TEST';

/** What is queued for an alert service; formatted per service type at send time. */
export interface AlertMessage {
  kind: MessageKind;
  /** The daemon's host name, so a reader with several machines knows which one. */
  hostname: string;
  raised: AlertSummary[];
  cleared: AlertSummary[];
  /** Digests: the window the alerts fell in (ms). */
  period: { from: number; to: number } | null;
  /** Digests: alerts left out because the window held more than the digest keeps. */
  omitted: number;
}

export interface FormattedMessage {
  subject: string;
  text: string;
}

export const levelRank = (level: AlertLevel): number => ALERT_LEVELS.indexOf(level);

const alertText = (a: AlertSummary) => (a.formatted ?? a.text).trim() || a.klass;

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function sorted(alerts: AlertSummary[]): AlertSummary[] {
  return [...alerts].sort((a, b) => levelRank(b.level) - levelRank(a.level) || a.datetime - b.datetime || a.uuid.localeCompare(b.uuid));
}

/** Lines of a list of alerts, under one heading per level. */
function grouped(alerts: AlertSummary[]): string[] {
  const lines: string[] = [];
  let level: AlertLevel | null = null;
  const list = sorted(alerts);
  for (const a of list) {
    if (a.level !== level) {
      level = a.level;
      lines.push(`${level} (${list.filter((x) => x.level === level).length}):`);
    }
    lines.push(`* ${alertText(a)} (since ${utc(a.datetime)})`);
  }
  return lines;
}

export function formatAlertMessage(msg: AlertMessage): FormattedMessage {
  const host = msg.hostname;
  if (msg.kind === 'TEST') {
    return { subject: `[${host}] Test alert`, text: `This is a test alert from Midship on ${host}. If you can read it, this alert service works.` };
  }
  const counts = [`${msg.raised.length} new`, ...(msg.cleared.length > 0 ? [`${msg.cleared.length} cleared`] : [])].join(', ');
  let subject: string;
  if (msg.kind === 'IMMEDIATE' && msg.raised.length === 1 && msg.cleared.length === 0) {
    const a = msg.raised[0]!;
    subject = `[${host}] ${a.level}: ${oneLine(alertText(a), 120)}`;
  } else if (msg.kind === 'IMMEDIATE' && msg.raised.length === 0 && msg.cleared.length === 1) {
    subject = `[${host}] Cleared: ${oneLine(alertText(msg.cleared[0]!), 120)}`;
  } else if (msg.kind === 'IMMEDIATE') {
    subject = `[${host}] Alerts: ${counts}`;
  } else {
    subject = `[${host}] ${msg.kind === 'HOURLY' ? 'Hourly' : 'Daily'} alert digest: ${counts}`;
  }
  const lines: string[] = [];
  lines.push(msg.period ? `Alerts on ${host} from ${utc(msg.period.from)} to ${utc(msg.period.to)}` : `Alerts on ${host}`);
  if (msg.raised.length > 0) lines.push('', `New alerts (${msg.raised.length}):`, ...grouped(msg.raised));
  if (msg.cleared.length > 0) lines.push('', `Cleared alerts (${msg.cleared.length}):`, ...grouped(msg.cleared));
  if (msg.omitted > 0) lines.push('', `${msg.omitted} more alert change(s) in this period are not listed.`);
  return { subject, text: lines.join('\n') };
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Slack's mrkdwn treats these three as control characters. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
