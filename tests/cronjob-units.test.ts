// cronjob's small parts on their own: progress lines, /proc parsing, who a command may run as,
// and the crash clean-up's refusal to signal a recycled pid.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { CallError, ERRNO } from '../daemon/errors.js';
import { parseProgressLine } from '../methods/cronjob/progress.js';
import { bootId, parseStat, processAlive, readStat } from '../methods/cronjob/procfs.js';
import { killLeftover } from '../methods/cronjob/recovery.js';
import { parsePasswdLine, runAsPlan } from '../methods/cronjob/users.js';

test('progress lines: fractions and percents with optional description; anything else is output', () => {
  assert.equal(parseProgressLine('{"progress": 0.42, "description": "copying"}'), { percent: 42, description: 'copying', extra: null });
  assert.equal(parseProgressLine('  {"percent": 75}  '), { percent: 75, description: null, extra: null });
  assert.equal(parseProgressLine('{"progress": 1, "extra": {"files": 3}}'), { percent: 100, description: null, extra: { files: 3 } });
  for (const line of [
    'progress 0.5',
    '{"progress": 1.5}',
    '{"percent": 101}',
    '{"percent": -1}',
    '{"progress": "0.5"}',
    '{"progress": 0.5, "percent": 50}',
    '{"progress": 0.5, "other": 1}',
    '{"description": "no number"}',
    '{"progress": 0.5, "description": 7}',
    '[0.5]',
    '{not json}',
  ]) {
    assert.is(parseProgressLine(line), null, line);
  }
});

test('/proc/<pid>/stat: fields after a command name with spaces and parentheses', () => {
  const line = '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 12345 100 18446744073709551615';
  assert.equal(parseStat(line), { pid: 4242, state: 'S', ppid: 1, pgrp: 4242, session: 4242, starttime: 987654 });
  assert.is(parseStat('garbage'), null);
});

test('who a command runs as: root switches to the user, others only run as themselves', () => {
  const nobody = parsePasswdLine('nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin')!;
  assert.equal(nobody, { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '/usr/sbin/nologin' });
  const root = parsePasswdLine('root:x:0:0:root:/root:/bin/bash')!;
  assert.equal(runAsPlan(nobody, { uid: 0, name: 'root' }), { uid: 65534, gid: 65534 });
  assert.equal(runAsPlan(root, { uid: 0, name: 'root' }), {});
  assert.equal(runAsPlan(nobody, { uid: 65534, name: 'nobody' }), {});
  try {
    runAsPlan(root, { uid: 1000, name: 'alice' });
    assert.unreachable('a non-root daemon must refuse another user');
  } catch (err) {
    assert.instance(err, CallError);
    assert.is((err as CallError).errno, ERRNO.EPERM);
    assert.match((err as CallError).message, /Cannot run commands as user "root": the daemon runs as "alice" \(uid 1000\), not as root/);
  }
  assert.is(parsePasswdLine('broken:x::'), null);
});

test('crash clean-up kills a group only while its leader has the recorded start time', async () => {
  const child = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  const pid = child.pid!;
  try {
    const stat = (await readStat(pid))!;
    assert.is(stat.pgrp, pid, 'the child leads its own group');
    const boot = await bootId();
    // Same pid, other start time: a recycled pid, which must not be signalled.
    assert.is(await killLeftover({ pgid: pid, pid, starttime: stat.starttime + 1, boot_id: boot }, 5000), 'recycled');
    assert.ok(await processAlive(pid));
    // Recorded in another boot: nothing of it can be left.
    assert.is(await killLeftover({ pgid: pid, pid, starttime: stat.starttime, boot_id: 'another-boot' }, 5000), boot === null ? 'killed' : 'gone');
    if (boot !== null) {
      assert.ok(await processAlive(pid));
      assert.is(await killLeftover({ pgid: pid, pid, starttime: stat.starttime, boot_id: boot }, 5000), 'killed');
    }
    assert.not.ok(await processAlive(pid), 'killed means gone');
    assert.is(await killLeftover({ pgid: pid, pid, starttime: stat.starttime, boot_id: boot }, 5000), 'gone');
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
