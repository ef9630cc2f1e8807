// Following a job in front of a person: progress on stderr, reconnect notices, and Ctrl-C that
// either aborts the job (call -j, bulk) or just stops watching (wait).
import { followJob, type Job } from '../jobs.js';
import { createProgress, type ProgressStyle } from '../progress.js';
import type { Session } from '../session.js';
import { err, Exit, failure } from '../context.js';
import { ConnectionError } from '../errors.js';

export interface FollowUi {
  initial?: Job | null;
  progress: ProgressStyle;
  /** What Ctrl-C does: ask the daemon to abort the job, or stop following it. */
  onInterrupt: 'abort' | 'detach';
}

export interface Followed {
  job: Job;
  /** True when the job was aborted because of our Ctrl-C. */
  abortedByUs: boolean;
}

export async function followWithUi(session: Session, id: number, ui: FollowUi): Promise<Followed> {
  const progress = createProgress(ui.progress);
  const abort = new AbortController();
  const stop = new AbortController();
  let interrupts = 0;
  let interrupted: (e: Exit) => void = () => undefined;
  const interruptedP = new Promise<never>((_, reject) => (interrupted = reject));
  const onSigint = () => {
    interrupts++;
    if (ui.onInterrupt === 'detach') {
      progress.line(`Stopped waiting; job ${id} continues (follow it again with: midclt wait ${id})`);
      return interrupted(new Exit(130));
    }
    if (interrupts === 1) {
      progress.line(`Aborting job ${id}... (Ctrl-C again to stop waiting)`);
      abort.abort();
    } else {
      progress.line(`Stopped waiting; job ${id} may still be running (midclt job ${id})`);
      interrupted(new Exit(130));
    }
  };
  process.on('SIGINT', onSigint);
  try {
    const job = await Promise.race([
      followJob(session, id, {
        initial: ui.initial ?? null,
        abortSignal: abort.signal,
        stopSignal: stop.signal,
        onUpdate: (j) => progress.update(j),
        onDisconnect: (e) => progress.line(`Connection lost (${e.message.split('\n')[0]}); reconnecting to follow job ${id}...`),
      }),
      interruptedP,
    ]);
    return { job, abortedByUs: abort.signal.aborted && job.state === 'ABORTED' };
  } catch (e) {
    if (e instanceof Exit) throw e;
    progress.stop();
    if (e instanceof ConnectionError) throw new Exit(1, [e.message.split('\n')[0]!, `Job ${id} may still be running: midclt wait ${id}`]);
    throw failure(e);
  } finally {
    stop.abort();
    process.off('SIGINT', onSigint);
    progress.stop();
  }
}

/** Reconnect notices for the session while a job is followed. */
export function reconnectNotice(attempt: number, delayMs: number): void {
  if (attempt === 1 || attempt % 5 === 0) err(`Reconnecting (attempt ${attempt}, next try in ${(delayMs / 1000).toFixed(1)} s)...`);
}
