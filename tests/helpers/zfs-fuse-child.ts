// Run inside a private mount namespace (see zfs-daemon.test.ts) where no zfs-fuse is running:
// ensureZfsDaemon starts one, a second call finds it running, stop() of the handle that did
// not start it leaves it alone, stop() of the one that did ends it. Prints what it saw as JSON.
import { spawnSync } from 'node:child_process';
import { ensureZfsDaemon } from '../../methods/zfs/fuse-daemon.js';

const answers = () => spawnSync('zpool', ['list', '-H', '-o', 'name'], { encoding: 'utf8' }).status === 0;
const seen: Record<string, unknown> = { before: answers() };
const started = await ensureZfsDaemon({ startTimeoutMs: 30_000 });
try {
  seen.started = started.startedByUs;
  seen.pidIsNumber = typeof started.pid === 'number';
  seen.afterStart = answers();
  const again = await ensureZfsDaemon();
  seen.againStarted = again.startedByUs;
  await again.stop();
  seen.afterOtherStop = answers();
} finally {
  await started.stop();
}
seen.afterStop = answers();
console.log(JSON.stringify(seen));
