// A daemon in its own process (for kill -9, restarts and memory readings).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const mainJs = fileURLToPath(new URL('../../daemon/main.js', import.meta.url));
const testModules = fileURLToPath(new URL('./modules.js', import.meta.url));

export interface ChildDaemon {
  child: ChildProcess;
  port: number;
  socketPath: string;
  stderr(): string;
  exited: Promise<number | null>;
}

export async function spawnDaemon(dataDir: string, env: Record<string, string> = {}, withTestModule = true): Promise<ChildDaemon> {
  const child = spawn(process.execPath, [mainJs, '--port', '0', '--data-dir', dataDir, '--log-level', 'info'], {
    env: { ...process.env, ...(withTestModule ? { MIDSHIP_MODULES: testModules } : {}), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const t = setInterval(() => {
      const m = /"msg":"midshipd listening"/.test(err) ? /"port":(\d+)/.exec(err) : null;
      if (m) {
        clearInterval(t);
        resolve(Number(m[1]));
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(t);
        child.kill('SIGKILL');
        reject(new Error(`daemon did not start: ${err}`));
      }
    }, 20);
  });
  return { child, port, socketPath: join(dataDir, 'middlewared.sock'), stderr: () => err, exited };
}
