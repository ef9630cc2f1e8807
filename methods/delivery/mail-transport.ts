// The Mail alert service: one SMTP message per delivery through nodemailer. The Message-ID is
// derived from the delivery id, so a message sent twice (at-least-once) threads as one in a mail
// client. SMTP replies decide retries the way RFC 5321 means them: 4xx (and 503) is transient, any
// other 5xx (a refused login included) is final, as are errors in what we send (bad envelope or
// settings). Connection and TLS failures, an untrusted or expired certificate included, are
// retried: like a 5xx from a web server, they can be fixed on the server's side.
import { performance } from 'node:perf_hooks';
import nodemailer, { type NodemailerError, type SMTPTransportOptions } from 'nodemailer';
import { formatAlertMessage, type AlertMessage } from './alert-format.js';
import type { MailAttributes } from './alert-attributes.js';
import type { DeliveryTransport } from './queue.js';
import type { TryOutcome } from './retry-policy.js';

export interface MailTransportOptions {
  /** Connect, greeting and each socket wait. Default 10 s. */
  timeoutMs?: number;
  /** Host part of the Message-ID. */
  hostname: string;
}

const FINAL_CODES = new Set(['EAUTH', 'ENOAUTH', 'ECONFIG', 'EENVELOPE', 'EMESSAGE']);

export function smtpOptions(attrs: MailAttributes, timeoutMs: number): SMTPTransportOptions {
  return {
    host: attrs.host,
    port: attrs.port,
    secure: attrs.security === 'SSL',
    requireTLS: attrs.security === 'TLS',
    ignoreTLS: attrs.security === 'PLAIN',
    tls: { rejectUnauthorized: attrs.verify_certificate },
    ...(attrs.username !== undefined ? { auth: { user: attrs.username, pass: attrs.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
  };
}

export function mailTransport(attrs: MailAttributes, options: MailTransportOptions): DeliveryTransport {
  const transporter = nodemailer.createTransport(smtpOptions(attrs, options.timeoutMs ?? 10_000));
  return {
    async send(item, { signal }) {
      const { subject, text } = formatAlertMessage(item.payload as AlertMessage);
      const started = performance.now();
      const durationMs = () => Math.round((performance.now() - started) * 1000) / 1000;
      try {
        const info = await transporter.sendMail({
          from: attrs.from,
          to: attrs.to,
          subject,
          text,
          messageId: `<${item.id}@${options.hostname}>`,
          headers: { 'X-Midship-Delivery': item.id },
          signal,
        });
        return { verdict: 'delivered', statusCode: replyCode(info.response), durationMs: durationMs(), error: null, retryAfterMs: null };
      } catch (err) {
        return mailFailure(err as NodemailerError, signal, durationMs());
      }
    },
    close() {
      transporter.close();
    },
  };
}

function mailFailure(err: NodemailerError, signal: AbortSignal, durationMs: number): TryOutcome {
  if (signal.aborted || err.code === 'EABORT') return { verdict: 'aborted', statusCode: null, durationMs, error: 'aborted', retryAfterMs: null };
  const code = err.responseCode ?? null;
  const final = code !== null ? err.permanent ?? (code >= 500 && code !== 503) : FINAL_CODES.has(err.code ?? '');
  const message = (err.message || String(err)).replace(/\s+/g, ' ').trim().slice(0, 300);
  const prefix = err.code && !message.startsWith(err.code) ? `${err.code}: ` : '';
  return { verdict: final ? 'reject' : 'retry', statusCode: code, durationMs, error: prefix + message, retryAfterMs: null };
}

/** "250 2.0.0 Ok: queued" -> 250. */
function replyCode(response: unknown): number | null {
  const m = typeof response === 'string' ? /^(\d{3})\b/.exec(response) : null;
  return m ? Number(m[1]) : null;
}
