// The zfs-fuse lifecycle helper: a daemon that is already running is used and never stopped;
// one that is not running is started, and stopped only by the handle that started it. The
// second case runs in a private mount namespace (its own zfs-fuse socket, lock and empty cache
// file), so the machine's zfs-fuse and its pools are never touched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findProgram } from '../methods/zfs/commands.js';
import { ensureZfsDaemon } from '../methods/zfs/fuse-daemon.js';
import { zfsTest } from './helpers/zfs.js';

const ztest = zfsTest(test);
const child = fileURLToPath(new URL('./helpers/zfs-fuse-child.js', import.meta.url));

ztest('a running ZFS is used as it is; stop() leaves it running', async () => {
  const h = await ensureZfsDaemon();
  assert.is(h.startedByUs, false);
  assert.is(h.pid, null);
  await h.stop();
  assert.is(spawnSync('zpool', ['list', '-H', '-o', 'name']).status, 0);
});

ztest('zfs-fuse not running: started, reported as ours, stopped only by the handle that started it', () => {
  if (findProgram('zfs-fuse') === null || findProgram('unshare') === null) {
    console.log('this ZFS is not zfs-fuse (or unshare is missing): the start path is not exercised here');
    return;
  }
  // Fresh tmpfs over the socket, lock and cache directories: inside, no zfs-fuse is running
  // and a new one would import nothing.
  const script = 'mkdir -p /var/run/zfs /var/lock/zfs /var/lib/zfs && mount -t tmpfs tmpfs /var/run/zfs && mount -t tmpfs tmpfs /var/lock/zfs && mount -t tmpfs tmpfs /var/lib/zfs && exec "$0" "$1"';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, child], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(seen, { before: false, started: true, pidIsNumber: true, afterStart: true, againStarted: false, afterOtherStop: true, afterStop: false });
  assert.is(spawnSync('zpool', ['list', '-H', '-o', 'name']).status, 0, "the machine's zfs-fuse still answers");
});

test.run();
