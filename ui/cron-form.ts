// Create or edit a cron job. The daemon validates; its errors name attributes such as
// `cron_job_create.schedule.minute`, and each is shown next to the field it names.
import { useEffect, useRef, useState } from 'preact/hooks';
import { scheduleInWords, type CronSchedule } from './format.js';
import { html } from './html.js';
import { navigate } from './router.js';
import { RpcError, type RpcClient } from './rpc.js';

export interface CronJob {
  id: number;
  enabled: boolean;
  description: string;
  command: string;
  user: string;
  stdout: boolean;
  stderr: boolean;
  schedule: CronSchedule;
  timeout: number;
  retries: number;
  retry_delay: number;
  environment: Record<string, string>;
  working_directory: string | null;
  tags: string[];
  next_run: string | null;
  last_run: { job_id: number; state: string; time_finished: string | null } | null;
}

interface FormState {
  description: string;
  command: string;
  user: string;
  enabled: boolean;
  minute: string;
  hour: string;
  dom: string;
  month: string;
  dow: string;
  keepStdout: boolean;
  keepStderr: boolean;
  timeout: string;
  retries: string;
  retry_delay: string;
  environment: string;
  working_directory: string;
  tags: string;
}

const PRESETS: Array<{ label: string; s: Pick<FormState, 'minute' | 'hour' | 'dom' | 'month' | 'dow'> }> = [
  { label: 'Every hour', s: { minute: '0', hour: '*', dom: '*', month: '*', dow: '*' } },
  { label: 'Every day at 03:00', s: { minute: '0', hour: '3', dom: '*', month: '*', dow: '*' } },
  { label: 'Every Sunday at 03:00', s: { minute: '0', hour: '3', dom: '*', month: '*', dow: '0' } },
  { label: 'On the 1st of every month', s: { minute: '0', hour: '3', dom: '1', month: '*', dow: '*' } },
];

function initial(job: CronJob | null): FormState {
  return {
    description: job?.description ?? '',
    command: job?.command ?? '',
    user: job?.user ?? 'root',
    enabled: job?.enabled ?? true,
    minute: job?.schedule.minute ?? '0',
    hour: job?.schedule.hour ?? '3',
    dom: job?.schedule.dom ?? '*',
    month: job?.schedule.month ?? '*',
    dow: job?.schedule.dow ?? '*',
    keepStdout: job ? !job.stdout : true,
    keepStderr: job ? !job.stderr : true,
    timeout: String(job?.timeout ?? 3600),
    retries: String(job?.retries ?? 0),
    retry_delay: String(job?.retry_delay ?? 60),
    environment: Object.entries(job?.environment ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'),
    working_directory: job?.working_directory ?? '',
    tags: (job?.tags ?? []).join(', '),
  };
}

/** Numbers are sent as typed when they are numbers; otherwise as text, and the daemon names the field. */
function num(v: string): number | string {
  return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
}

function payload(f: FormState, original: CronJob | null): Record<string, unknown> {
  const environment: Record<string, string> = {};
  for (const line of f.environment.split('\n')) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    environment[eq < 0 ? line.trim() : line.slice(0, eq).trim()] = eq < 0 ? '' : line.slice(eq + 1);
  }
  const schedule: Record<string, string> = { minute: f.minute.trim(), hour: f.hour.trim(), dom: f.dom.trim(), month: f.month.trim(), dow: f.dow.trim() };
  if (original?.schedule.second !== undefined) schedule.second = original.schedule.second;
  return {
    description: f.description,
    command: f.command,
    user: f.user.trim(),
    enabled: f.enabled,
    schedule,
    stdout: !f.keepStdout,
    stderr: !f.keepStderr,
    timeout: num(f.timeout),
    retries: num(f.retries),
    retry_delay: num(f.retry_delay),
    environment,
    working_directory: f.working_directory.trim() === '' ? null : f.working_directory.trim(),
    tags: f.tags.split(',').map((t) => t.trim()).filter((t) => t !== ''),
  };
}

/** `cron_job_create.schedule.minute` -> `schedule.minute`; `...environment.X` -> `environment`. */
export function fieldOf(attribute: string): string {
  const path = attribute.replace(/^(cron_job_create|cron_job_update)\.?/, '');
  if (path.startsWith('environment')) return 'environment';
  return path === '' ? '' : path;
}

const FIELD_IDS: Record<string, string> = {
  description: 'cron-description',
  command: 'cron-command',
  user: 'cron-user',
  'schedule.minute': 'cron-minute',
  'schedule.hour': 'cron-hour',
  'schedule.dom': 'cron-dom',
  'schedule.month': 'cron-month',
  'schedule.dow': 'cron-dow',
  schedule: 'cron-minute',
  timeout: 'cron-timeout',
  retries: 'cron-retries',
  retry_delay: 'cron-retry-delay',
  environment: 'cron-environment',
  working_directory: 'cron-workdir',
  tags: 'cron-tags',
};

export function CronForm({ rpc, job }: { rpc: RpcClient; job: CronJob | null }) {
  const [f, setF] = useState<FormState>(() => initial(job));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => first.current?.focus(), []);

  const set = (key: keyof FormState) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setF((prev) => ({ ...prev, [key]: t.type === 'checkbox' ? t.checked : t.value }));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      const data = payload(f, job);
      if (job === null) await rpc.call('cronjob.create', [data]);
      else await rpc.call('cronjob.update', [job.id, data]);
      navigate('/schedules');
    } catch (err) {
      const found: Record<string, string[]> = {};
      const loose: string[] = [];
      if (err instanceof RpcError && err.validation.length > 0) {
        for (const [attr, msg] of err.validation) {
          const field = fieldOf(attr);
          if (FIELD_IDS[field] === undefined) loose.push(field ? `${field}: ${msg}` : msg);
          else (found[field] ??= []).push(msg);
        }
      } else loose.push((err as Error).message);
      setErrors(found);
      setGeneral(loose.length > 0 ? loose.join('\n') : null);
      // Focus the first field in error, in form order.
      requestAnimationFrame(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
    } finally {
      setBusy(false);
    }
  };

  const errorFor = (field: string) => {
    const list = errors[field];
    return list ? html`<p class="field-error" id=${`${FIELD_IDS[field]!}-error`} data-testid=${`error-${field}`}>${list.join('; ')}</p>` : null;
  };
  const invalid = (field: string) => (errors[field] ? 'true' : undefined);
  const described = (field: string) => (errors[field] ? `${FIELD_IDS[field]!}-error` : undefined);
  const input = (field: string, key: keyof FormState, label: string, extra: Record<string, unknown> = {}) => html`
    <div class="field">
      <label for=${FIELD_IDS[field]}>${label}</label>
      <input id=${FIELD_IDS[field]} name=${field} value=${f[key] as string} onInput=${set(key)} aria-invalid=${invalid(field)} aria-describedby=${described(field)} ...${extra} />
      ${errorFor(field)}
    </div>`;
  const cronField = (key: 'minute' | 'hour' | 'dom' | 'month' | 'dow', label: string) => {
    const field = `schedule.${key}`;
    return html`
      <div class="field cron-field">
        <label for=${FIELD_IDS[field]}>${label}</label>
        <input id=${FIELD_IDS[field]} name=${field} value=${f[key]} onInput=${set(key)} autocomplete="off" spellcheck="false"
          aria-invalid=${invalid(field) ?? invalid('schedule')} aria-describedby=${described(field)} />
        ${errorFor(field)}
      </div>`;
  };
  const preview = scheduleInWords({ minute: f.minute.trim() || '*', hour: f.hour.trim() || '*', dom: f.dom.trim() || '*', month: f.month.trim() || '*', dow: f.dow.trim() || '*' });

  return html`
    <form class="card cron-form" ref=${form} onSubmit=${submit} aria-labelledby="cron-form-title" novalidate data-testid="cron-form">
      <h2 id="cron-form-title">${job === null ? 'New cron job' : `Edit cron job ${job.id}`}</h2>
      ${general ? html`<p class="error" role="alert" data-testid="form-error">${general}</p>` : null}
      ${input('description', 'description', 'Description', { ref: first, placeholder: 'Nightly backup' })}
      <div class="field">
        <label for="cron-command">Command</label>
        <textarea id="cron-command" name="command" rows="2" value=${f.command} onInput=${set('command')} required spellcheck="false"
          aria-invalid=${invalid('command')} aria-describedby=${described('command')}></textarea>
        ${errorFor('command')}
      </div>
      ${input('user', 'user', 'Run as user')}
      <fieldset class="schedule" aria-describedby="cron-preview">
        <legend>Schedule</legend>
        <div class="presets">
          ${PRESETS.map((p) => html`<button type="button" class="small" onClick=${() => setF((prev) => ({ ...prev, ...p.s }))}>${p.label}</button>`)}
        </div>
        <div class="cron-fields">
          ${cronField('minute', 'Minute')}${cronField('hour', 'Hour')}${cronField('dom', 'Day of month')}${cronField('month', 'Month')}${cronField('dow', 'Day of week')}
        </div>
        ${errorFor('schedule')}
        <p class="muted" id="cron-preview" aria-live="polite">Runs ${preview}</p>
      </fieldset>
      <div class="checks">
        <label><input type="checkbox" name="enabled" checked=${f.enabled} onChange=${set('enabled')} /> Enabled</label>
        <label><input type="checkbox" name="keepStdout" checked=${f.keepStdout} onChange=${set('keepStdout')} /> Keep standard output in the log</label>
        <label><input type="checkbox" name="keepStderr" checked=${f.keepStderr} onChange=${set('keepStderr')} /> Keep standard error in the log</label>
      </div>
      <details open=${Object.keys(errors).some((k) => ['timeout', 'retries', 'retry_delay', 'environment', 'working_directory', 'tags'].includes(k))}>
        <summary>More options</summary>
        <div class="grid-3">
          ${input('timeout', 'timeout', 'Timeout (s)', { inputmode: 'numeric' })}
          ${input('retries', 'retries', 'Retries', { inputmode: 'numeric' })}
          ${input('retry_delay', 'retry_delay', 'Retry delay (s)', { inputmode: 'numeric' })}
        </div>
        <div class="field">
          <label for="cron-environment">Environment (NAME=value, one a line; values read back as ******)</label>
          <textarea id="cron-environment" name="environment" rows="3" value=${f.environment} onInput=${set('environment')} spellcheck="false"
            aria-invalid=${invalid('environment')} aria-describedby=${described('environment')}></textarea>
          ${errorFor('environment')}
        </div>
        ${input('working_directory', 'working_directory', 'Working directory (empty: the user\u2019s home)')}
        ${input('tags', 'tags', 'Tags (comma separated)')}
      </details>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy} data-testid="cron-save">${job === null ? 'Create' : 'Save'}</button>
        <a class="button" href="#/schedules">Cancel</a>
      </div>
    </form>`;
}
