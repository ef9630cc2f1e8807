// How the driver runs commands, with real child processes: argument arrays (never a shell),
// the fixed locale and time zone, stderr kept in a typed error with an errno, timeouts,
// abort, an output cap, and streaming commands that an AbortSignal ends.
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZfsCommandError, errnoFromMessage, zfsMessageFrom } from '../methods/zfs/errors.js';
import { run, spawnStreaming } from '../methods/zfs/exec.js';
import { until } from './helpers/until.js';

async function rejection(p: Promise<unknown>): Promise<ZfsCommandError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ZfsCommandError);
    return e as ZfsCommandError;
  }
  throw new Error('expected a ZfsCommandError');
}

/** Whether this process has a child running `name` (from /proc: the command and its parent). */
function childRunning(name: string): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (comm === name && ppid === process.pid) return true;
  }
  return false;
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}


test('arguments reach the program as they are: no shell expands them', async () => {
  const r = await run('printf', ['%s|%s|%s', '$(id)', 'a; echo b', '-r\nzfs destroy x']);
  assert.is(r.stdout, '$(id)|a; echo b|-r\nzfs destroy x');
});

test('the locale is C and the time zone UTC, so dates and messages parse the same everywhere', async () => {
  const r = await run('sh', ['-c', 'printf "%s %s" "$LC_ALL" "$TZ"; date -d @0 +%H']);
  assert.is(r.stdout, 'C UTC00\n');
});

test("a failure carries the command, exit code and ZFS's message, and an errno from it", async () => {
  const e = await rejection(run('sh', ['-c', "echo partial; echo \"cannot open 'tank/x': dataset does not exist\" >&2; exit 1", 'zfs']));
  assert.equal([e.command, e.exitCode, e.errno, e.zfsMessage], ['sh', 1, 'ENOENT', "cannot open 'tank/x': dataset does not exist"]);
  assert.match(e.message, /^sh -c .*: cannot open 'tank\/x': dataset does not exist$/);
  const missing = await rejection(run('/nonexistent/zpool', ['list']));
  assert.is(missing.errno, 'ENOENT');
  assert.match(missing.message, /cannot run/);
});

test('a timeout ends the command', async () => {
  const started = Date.now();
  const e = await rejection(run('sleep', ['30'], { timeoutMs: 200 }));
  assert.is(e.errno, 'ETIMEDOUT');
  assert.ok(Date.now() - started < 20_000);
});

test('abort ends a running command at once; an aborted signal never starts one; streams too', async () => {
  const ac = new AbortController();
  const p = run('sleep', ['30'], { signal: ac.signal });
  await until(() => childRunning('sleep'), 'the command to run', 10_000, 10);
  ac.abort();
  assert.is((await rejection(p)).errno, 'ECANCELED');
  assert.is((await rejection(run('sleep', ['30'], { signal: ac.signal }))).errno, 'ECANCELED');

  const ac2 = new AbortController();
  const child = spawnStreaming('sleep', ['30'], { stdin: 'ignore', stdout: 'ignore' }, ac2.signal);
  const pid = child.child.pid!;
  ac2.abort();
  assert.is((await rejection(child.done)).errno, 'ECANCELED');
  await until(() => gone(pid), `process ${pid} to be gone`, 10_000);
});

test('input is written to stdin; output beyond the cap is refused, not kept', async () => {
  assert.is((await run('cat', [], { input: 'stream of bytes' })).stdout, 'stream of bytes');
  const e = await rejection(run('yes', [], { maxOutputBytes: 64 * 1024 }));
  assert.match(e.message, /output too large/);
});

test('ZFS messages: usage text and zfs-fuse warnings are not the reason; phrases map to errnos', () => {
  assert.is(zfsMessageFrom("Defaulting to 4K blocksize (ashift=12) for '/tmp/a'\ncannot create 'p': pool already exists\nusage:\n\tcreate ..."), "cannot create 'p': pool already exists");
  const cases: Array<[string, string]> = [
    ["cannot open 'p': no such pool", 'ENOENT'],
    ["cannot create 'p/a': dataset already exists", 'EEXIST'],
    ["cannot destroy 'p/a': dataset is busy", 'EBUSY'],
    ["cannot destroy 'p/a': filesystem has children", 'ENOTEMPTY'],
    ["cannot hold snapshot 'p/a@s': tag already exists on this dataset", 'EEXIST'],
    ["cannot release 'x' from 'p/a@s': no such tag on this dataset", 'ENOENT'],
    ['/dev/sdb is part of active pool \'tank\'', 'EBUSY'],
    ["invalid option 'p'", 'EOPNOTSUPP'],
    ["cannot set property for 'p/a': 'quota' must be a number", 'EINVAL'],
    ['something odd happened', 'EFAULT'],
  ];
  for (const [msg, errno] of cases) assert.is(errnoFromMessage(msg), errno, msg);
});

test.run();
