// Job progress on stderr: a live bar (percent, elapsed, description) on a terminal; otherwise,
// or with `-jp description`, each new non-empty progress description on its own line, the way
// midclt's description mode prints them.
import { SingleBar } from 'cli-progress';
import { formatDuration } from './format.js';
import type { Job } from './jobs.js';

export type ProgressStyle = 'progressbar' | 'description' | 'none';

export interface ProgressDisplay {
  update(job: Job): void;
  /** Print a whole line without garbling the bar. */
  line(text: string): void;
  stop(): void;
}

type Out = NodeJS.WriteStream | NodeJS.WritableStream;

function isTty(s: Out): boolean {
  return (s as NodeJS.WriteStream).isTTY === true;
}

class DescriptionLines implements ProgressDisplay {
  private last = '';
  constructor(private readonly out: Out, private readonly quiet: boolean) {}
  update(job: Job): void {
    const d = job.progress?.description ?? '';
    if (this.quiet || d === '' || d === this.last) return;
    this.last = d;
    this.out.write(`${d}\n`);
  }
  line(text: string): void {
    this.out.write(`${text}\n`);
  }
  stop(): void {}
}

class Bar implements ProgressDisplay {
  private readonly bar: SingleBar;
  private started = false;
  private startedAt = Date.now();
  private percent = 0;
  private desc = '';
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.bar = new SingleBar({
      stream: out,
      format: '{bar} {percentage}% | {elapsed} | {desc}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      linewrap: false,
      fps: 10,
    });
    // The elapsed time keeps running between progress events.
    this.ticker = setInterval(() => this.render(), 1000);
    this.ticker.unref();
  }

  private payload(): Record<string, string> {
    const width = Math.max(10, (this.out.columns ?? 80) - 55);
    const desc = this.desc.length > width ? `${this.desc.slice(0, width - 1)}…` : this.desc;
    return { elapsed: formatDuration(Date.now() - this.startedAt), desc };
  }

  private render(): void {
    if (!this.started) return;
    this.bar.update(this.percent, this.payload());
  }

  update(job: Job): void {
    const started = job.time_started?.$date;
    if (typeof started === 'number') this.startedAt = started;
    const p = job.progress?.percent;
    if (typeof p === 'number' && p > 0) this.percent = Math.min(100, p);
    if (job.progress?.description) this.desc = job.progress.description;
    if (!this.started) {
      this.started = true;
      this.bar.start(100, this.percent, this.payload());
    } else this.render();
  }

  line(text: string): void {
    this.out.write(this.started ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.render();
  }

  stop(): void {
    clearInterval(this.ticker);
    if (this.started) {
      this.render();
      this.bar.stop();
      this.started = false;
    }
  }
}

export function createProgress(style: ProgressStyle, out: Out = process.stderr): ProgressDisplay {
  if (style === 'progressbar' && isTty(out)) return new Bar(out as NodeJS.WriteStream);
  return new DescriptionLines(out, style === 'none');
}
