// Run the built midclt bin (dist/cli/midclt.js) as a child process, the way a person would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MIDCLT_BIN = fileURLToPath(new URL('../../cli/midclt.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** MIDCLT_URI for the child; omit to leave it unset (the default URI applies). */
  uri?: string;
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** The child is killed after this long, so a hang fails the test instead of stalling it. */
  killAfterMs?: number;
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `pred` holds for the output so far; rejects if the child exits first. */
  until(pred: (out: { stdout: string; stderr: string }) => boolean, what: string): Promise<void>;
  done: Promise<RunResult>;
}

export function spawnMidclt(args: string[], o: RunOptions = {}): Running {
  return spawnClient(process.execPath, [MIDCLT_BIN, ...args], o);
}

/** Any client command line as a child process (our midclt, or the real one under python3). */
export function spawnClient(command: string, args: string[], o: RunOptions = {}): Running {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'MIDCLT_URI' && k !== 'CALL_TIMEOUT') env[k] = v;
  if (o.uri !== undefined) env.MIDCLT_URI = o.uri;
  Object.assign(env, { FORCE_COLOR: '0' }, o.env ?? {});
  const child = spawn(command, args, { cwd: o.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  const poke = () => watchers.forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => ((stdout += d.toString()), poke()));
  child.stderr!.on('data', (d: Buffer) => ((stderr += d.toString()), poke()));
  const killer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 30_000);
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      poke();
      resolve({ code, signal, stdout, stderr });
    });
  });
  if (o.input !== undefined) child.stdin!.end(o.input);
  else child.stdin!.end();
  let exited = false;
  void done.then(() => (exited = true));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    until: (pred, what) =>
      new Promise<void>((resolve, reject) => {
        let settled = false;
        const check = () => {
          if (settled) return;
          const ok = pred({ stdout, stderr });
          if (!ok && !exited) return;
          settled = true;
          watchers.splice(watchers.indexOf(check), 1);
          if (ok) resolve();
          else reject(new Error(`midclt exited before ${what}; stdout: ${stdout}\nstderr: ${stderr}`));
        };
        watchers.push(check);
        void done.then(check);
        check();
      }),
  };
}

/** Run midclt to completion. */
export function midclt(args: string[], o: RunOptions = {}): Promise<RunResult> {
  return spawnMidclt(args, o).done;
}

/** stdout/stderr split into lines without the final empty one. */
export function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}
