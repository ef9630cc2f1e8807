// One job in full: state and progress, arguments (already redacted by the daemon), result or error
// with its trace, parent and child jobs, the live log, and the actions (abort, run again,
// download the log).
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatFullTime, isTerminal, toMs } from './format.js';
import { html } from './html.js';
import { CountersLine, jobCounters, jobDuration, ProgressBar, StateBadge, useNow } from './job-parts.js';
import { MetricsChart } from './job-metrics.js';
import type { Job, JobsStore } from './jobs-store.js';
import { navigate } from './router.js';
import { RpcError, type ErrorData, type RpcClient } from './rpc.js';

/** Client-side cap on the log kept in the page; the download has all of it. */
const LOG_LIMIT_CHARS = 2_000_000;

function pretty(v: unknown): string {
  try {
    return JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    return String(v);
  }
}

function JobLink({ id, label }: { id: number; label?: string }) {
  return html`<a href=${`#/jobs/${id}`}>${label ?? `Job ${id}`}</a>`;
}

function LogView({ rpc, job }: { rpc: RpcClient; job: Job }) {
  const pre = useRef<HTMLPreElement>(null);
  const [status, setStatus] = useState<'following' | 'ended' | 'error'>('following');
  const [endError, setEndError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const [unseen, setUnseen] = useState(false);
  const [trimmed, setTrimmed] = useState(false);
  const followRef = useRef(true);
  const chars = useRef(0);

  useEffect(() => {
    let pending: string[] = [];
    let frame: number | null = null;
    // Text nodes only: the log is the job's output, never markup.
    const flush = () => {
      frame = null;
      const el = pre.current;
      if (!el || pending.length === 0) return;
      const text = pending.join('');
      pending = [];
      el.append(document.createTextNode(text));
      chars.current += text.length;
      while (chars.current > LOG_LIMIT_CHARS && el.firstChild && el.firstChild !== el.lastChild) {
        chars.current -= el.firstChild.textContent?.length ?? 0;
        el.firstChild.remove();
        setTrimmed(true);
      }
      if (followRef.current) el.scrollTop = el.scrollHeight;
      else setUnseen(true);
    };
    let off: (() => void) | null = null;
    let gone = false;
    void rpc
      .subscribe(
        `core.job_logs:${JSON.stringify({ id: job.id })}`,
        (u) => {
          const data = u.fields?.data;
          if (typeof data !== 'string') return;
          pending.push(data);
          frame ??= requestAnimationFrame(flush);
        },
        (error: ErrorData | null) => {
          if (gone) return;
          setStatus(error ? 'error' : 'ended');
          setEndError(error ? error.reason.trim() : null);
        },
      )
      .then((o) => (gone ? o() : (off = o)));
    return () => {
      gone = true;
      off?.();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [rpc, job.id]);

  const onScroll = () => {
    const el = pre.current;
    if (!el) return;
    // Scrolling up pauses following; coming back to the bottom resumes it.
    const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
    if (atBottom !== followRef.current) {
      followRef.current = atBottom;
      setFollow(atBottom);
      if (atBottom) setUnseen(false);
    }
  };
  const jump = () => {
    const el = pre.current;
    if (!el) return;
    followRef.current = true;
    setFollow(true);
    setUnseen(false);
    el.scrollTop = el.scrollHeight;
  };

  return html`
    <section class="log" aria-labelledby="log-title">
      <div class="log-head">
        <h3 id="log-title">Log</h3>
        <span class="muted" data-testid="log-status">${status === 'following' ? (follow ? 'live' : 'paused (scrolled up)') : status === 'ended' ? 'complete' : `unavailable: ${endError ?? ''}`}</span>
        ${!follow ? html`<button type="button" class="small" onClick=${jump}>${unseen ? 'New output \u2014 follow' : 'Follow'}</button>` : null}
      </div>
      ${trimmed ? html`<p class="muted small">Earlier output is not shown here; download the log for all of it.</p>` : null}
      <pre ref=${pre} class="log-text" tabindex="0" aria-label=${`Log of job ${job.id}`} data-testid="log-text" onScroll=${onScroll}></pre>
    </section>`;
}

function ErrorBlock({ job }: { job: Job }) {
  const validation = job.exc_info?.type === 'VALIDATION' && Array.isArray(job.exc_info.extra) ? (job.exc_info.extra as unknown[][]) : null;
  return html`
    <section aria-labelledby="err-title">
      <h3 id="err-title">Error</h3>
      <p class="error-text" data-testid="job-error">${job.error ?? ''}</p>
      ${validation ? html`<ul class="validation">${validation.map((v) => html`<li><code>${String(v[0] ?? '')}</code>: ${String(v[1] ?? '')}</li>`)}</ul>` : null}
      ${job.exception ? html`<details><summary>Trace</summary><pre class="trace">${job.exception}</pre></details>` : null}
    </section>`;
}

function Actions({ rpc, job }: { rpc: RpcClient; job: Job }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const active = !isTerminal(job.state);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  useEffect(() => {
    if (!active) setConfirming(false);
  }, [active]);

  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err instanceof RpcError ? err.message : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const abort = () => act(async () => {
    await rpc.call('core.job_abort', [job.id]);
    setConfirming(false);
  });
  const runAgain = () => act(async () => {
    const id = await rpc.call<number>('cronjob.run', [job.arguments[0]]);
    navigate(`/jobs/${id}`);
  });
  const download = () => act(async () => {
    const url = await rpc.call<string>('core.job_download_logs', [job.id, `job-${job.id}.log`]);
    // Only ever a download path on this daemon, whatever came back.
    if (!url.startsWith('/_download/')) throw new Error(`Unexpected download URL: ${url}`);
    const a = document.createElement('a');
    a.href = url;
    a.download = `job-${job.id}.log`;
    document.body.append(a);
    a.click();
    a.remove();
  });

  return html`
    <div class="actions">
      ${active && job.abortable && !confirming ? html`<button type="button" class="danger" data-testid="abort" onClick=${() => setConfirming(true)}>Abort</button>` : null}
      ${confirming ? html`
        <span class="confirm" role="group" aria-label="Confirm abort">
          <span>Abort job ${job.id}?</span>
          <button type="button" class="danger" ref=${confirmRef} data-testid="abort-confirm" disabled=${busy} onClick=${abort}>Yes, abort</button>
          <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>
        </span>` : null}
      ${!active && job.method === 'cronjob.run' && typeof job.arguments[0] === 'number' ? html`<button type="button" data-testid="run-again" disabled=${busy} onClick=${runAgain}>Run again</button>` : null}
      ${job.logs_path !== null ? html`<button type="button" data-testid="download-log" disabled=${busy} onClick=${download}>Download log</button>` : null}
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </div>`;
}

function Relations({ store, job }: { store: JobsStore; job: Job }) {
  const children = new Set(store.childrenOf(job.id));
  if (job.method === 'core.bulk' && Array.isArray(job.result)) {
    for (const r of job.result as Array<{ job_id?: unknown }>) if (typeof r?.job_id === 'number') children.add(r.job_id);
  }
  const parent = typeof job.parent_id === 'number' ? job.parent_id : null;
  const waitsFor = job.method === 'core.job_wait' && typeof job.arguments[0] === 'number' ? job.arguments[0] : null;
  if (parent === null && waitsFor === null && children.size === 0) return null;
  return html`
    <dl class="facts relations">
      ${parent !== null ? html`<dt>Parent</dt><dd data-testid="parent-link"><${JobLink} id=${parent} /></dd>` : null}
      ${waitsFor !== null ? html`<dt>Waits for</dt><dd><${JobLink} id=${waitsFor} /></dd>` : null}
      ${children.size > 0 ? html`<dt>Child jobs</dt><dd data-testid="child-links">${[...children].sort((a, b) => a - b).map((id, i) => html`${i > 0 ? ', ' : ''}<${JobLink} id=${id} label=${String(id)} />`)}</dd>` : null}
    </dl>`;
}

export function JobDetail({ rpc, store, id }: { rpc: RpcClient; store: JobsStore; id: number }) {
  const [, setTick] = useState(0);
  const rerender = () => setTick((n) => n + 1);
  const [missing, setMissing] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => store.onChange(rerender), [store]);
  useEffect(() => {
    const unpin = store.pin(id);
    store.fetch(id).then(
      (j) => setMissing(j === null ? `Job ${id} does not exist (or you may not see it).` : null),
      (err: unknown) => setMissing((err as Error).message),
    );
    heading.current?.focus();
    return unpin;
  }, [store, id]);
  const job = store.get(id);
  const now = useNow(job?.state === 'RUNNING');

  const close = html`<a class="close" href="#/jobs" aria-label="Close job details">\u00d7</a>`;
  if (!job) {
    return html`<aside class="detail card" aria-label=${`Job ${id}`}>${close}<h2 ref=${heading} tabindex="-1">Job ${id}</h2><p class=${missing ? 'error' : 'muted'}>${missing ?? 'Loading\u2026'}</p></aside>`;
  }
  const started = toMs(job.time_started);
  const finished = toMs(job.time_finished);
  const who = job.credentials ? `${String(job.credentials.data?.username ?? '?')} (${job.credentials.type})` : 'the daemon';
  return html`
    <aside class="detail card" aria-labelledby="detail-title" data-testid="job-detail" onKeyDown=${(e: KeyboardEvent) => {
      if (e.key === 'Escape') navigate('/jobs');
    }}>
      ${close}
      <h2 id="detail-title" ref=${heading} tabindex="-1">Job ${job.id} <code>${job.method}</code></h2>
      ${job.description ? html`<p class="detail-desc" data-testid="detail-description">${job.description}</p>` : null}
      <dl class="facts">
        <dt>State</dt><dd data-testid="detail-state"><${StateBadge} state=${job.state} /></dd>
        <dt>Progress</dt><dd><${ProgressBar} job=${job} /></dd>
        ${jobCounters(job) !== null ? html`<dt>Counters</dt><dd><${CountersLine} job=${job} /></dd>` : null}
        <dt>Started</dt><dd>${formatFullTime(started)}</dd>
        ${finished !== null ? html`<dt>Finished</dt><dd>${formatFullTime(finished)}</dd>` : null}
        <dt>Duration</dt><dd>${jobDuration(job, now)}</dd>
        <dt>Started by</dt><dd>${who}</dd>
      </dl>
      <${Relations} store=${store} job=${job} />
      <${Actions} rpc=${rpc} job=${job} />
      <section aria-labelledby="args-title">
        <h3 id="args-title">Arguments</h3>
        <pre class="json" data-testid="job-args">${pretty(job.arguments)}</pre>
      </section>
      <${MetricsChart} rpc=${rpc} job=${job} />
      ${job.state === 'SUCCESS' ? html`
        <section aria-labelledby="result-title">
          <h3 id="result-title">Result</h3>
          ${job.result_encoding_error ? html`<p class="error">${job.result_encoding_error}</p>` : null}
          <pre class="json" data-testid="job-result">${pretty(job.result)}</pre>
        </section>` : null}
      ${job.state === 'FAILED' ? html`<${ErrorBlock} job=${job} />` : null}
      ${job.logs_path !== null ? html`<${LogView} rpc=${rpc} job=${job} />` : job.logs_excerpt ? html`<section><h3>Log excerpt</h3><pre class="log-text">${job.logs_excerpt}</pre></section>` : null}
    </aside>`;
}
