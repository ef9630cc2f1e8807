// The parsers on their own, on output written from the OpenZFS manual pages and the printf
// formats of cmd/zpool/zpool_main.c (status rows are "\t%*s%-*s  %-8s %5s %5s %5s", the scan
// paragraph, the import listing) and on zfs-fuse output as this machine prints it. Real
// zfs-fuse output captured live is parsed in zfs-live.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigTable } from '../methods/zfs/parse-config.js';
import { parseScan } from '../methods/zfs/parse-scan.js';
import { parseZpoolImport, parseZpoolStatus } from '../methods/zfs/parse-status.js';
import { parseGetTable, parseHolds, parseListTable, parseRows, parseSendEstimate, parseSource } from '../methods/zfs/parse-tables.js';
import { parseZdbConfig } from '../methods/zfs/parse-zdb.js';
import { applyStatusGuids, applyZdbGuids } from '../methods/zfs/vdev-guids.js';
import { formatSize, parseCtime, parseDuration, parseNiceSize } from '../methods/zfs/units.js';
import { ZfsParseError } from '../methods/zfs/errors.js';
import { historyDelta } from '../methods/zfs/history-delta.js';

type Row = [depth: number, name: string, state: string, counters?: [string, string, string] | null, note?: string];

/** A config table exactly as zpool prints it: the header, then one printf per vdev. */
function table(rows: Array<Row | string>, counters = true): string {
  const width = Math.max(10, ...rows.filter((r): r is Row => typeof r !== 'string').map(([d, n]) => d + n.length));
  const out: string[] = [];
  if (counters) out.push(`\t${'NAME'.padEnd(width)}  ${'STATE'.padEnd(8)} ${'READ'.padStart(5)} ${'WRITE'.padStart(5)} ${'CKSUM'.padStart(5)}`);
  for (const r of rows) {
    if (typeof r === 'string') {
      out.push(r);
      continue;
    }
    const [depth, name, state, c, note] = r;
    let line = `\t${' '.repeat(depth)}${name.padEnd(width - depth)}  ${counters ? state.padEnd(8) : state}`;
    if (counters && c) line += ` ${c[0].padStart(5)} ${c[1].padStart(5)} ${c[2].padStart(5)}`;
    if (note) line += `  ${note}`;
    out.push(line);
  }
  return out.join('\n');
}

const NOW = Date.UTC(2026, 2, 1, 10, 5, 0);
const Z: [string, string, string] = ['0', '0', '0'];

test('OpenZFS status (-p -P): mirror + raidz2, dedup/special/log classes, cache, spares, a scrub in progress', () => {
  const text = [
    '  pool: tank',
    ' state: ONLINE',
    '  scan: scrub in progress since Sun Mar  1 10:00:00 2026',
    '\t1.50G / 10.0G scanned at 100M/s, 1.00G / 9.50G issued at 50.0M/s',
    '\t0B repaired, 10.53% done, 00:03:04 to go',
    'config:',
    '',
    table([
      [0, 'tank', 'ONLINE', Z],
      [2, 'mirror-0', 'ONLINE', Z],
      [4, '/dev/disk/by-partuuid/a1b2', 'ONLINE', Z],
      [4, '/dev/sdb1', 'ONLINE', ['0', '0', '12'], '(repairing)'],
      [2, 'raidz2-1', 'ONLINE', Z],
      [4, '/dev/sdc', 'ONLINE', Z],
      [4, '/dev/sdd', 'ONLINE', Z],
      [4, '/dev/sde', 'ONLINE', ['1', '2', '3']],
      [4, '/dev/sdf', 'ONLINE', Z],
      '\tdedup\t',
      [2, 'mirror-2', 'ONLINE', Z],
      [4, '/dev/nvme0n1p1', 'ONLINE', Z],
      [4, '/dev/nvme1n1p1', 'ONLINE', Z],
      '\tspecial\t',
      [2, '/dev/nvme2n1', 'ONLINE', Z],
      '\tlogs\t',
      [2, 'mirror-4', 'ONLINE', Z],
      [4, '/dev/sdg', 'ONLINE', Z],
      [4, '/dev/sdh', 'ONLINE', Z],
      '\tcache',
      [2, '/dev/nvme3n1', 'ONLINE', Z],
      '\tspares',
      [2, '/dev/sdi', 'AVAIL', null],
      [2, '/dev/sdj', 'INUSE', null, 'currently in use'],
    ]),
    '',
    'errors: No known data errors',
    '',
  ].join('\n');
  const [p] = parseZpoolStatus(text, NOW);
  assert.is(p!.name, 'tank');
  assert.is(p!.state, 'ONLINE');
  assert.is(p!.status, null);
  assert.is(p!.dataErrors, 0);
  assert.equal(p!.root!.errors, { read: 0, write: 0, checksum: 0, exact: true });
  const [mirror, raidz] = p!.topology.data;
  assert.equal([mirror!.kind, mirror!.id, mirror!.children.map((c) => c.path)], ['mirror', 0, ['/dev/disk/by-partuuid/a1b2', '/dev/sdb1']]);
  assert.equal([mirror!.children[1]!.errors!.checksum, mirror!.children[1]!.note], [12, '(repairing)']);
  assert.equal([raidz!.kind, raidz!.parity, raidz!.id, raidz!.children.length], ['raidz', 2, 1, 4]);
  assert.equal(raidz!.children[2]!.errors, { read: 1, write: 2, checksum: 3, exact: true });
  assert.equal(p!.topology.dedup.map((v) => [v.kind, v.children.length]), [['mirror', 2]]);
  assert.equal(p!.topology.special.map((v) => [v.kind, v.path]), [['disk', '/dev/nvme2n1']]);
  assert.equal(p!.topology.log.map((v) => [v.kind, v.id, v.children.map((c) => c.path)]), [['mirror', 4, ['/dev/sdg', '/dev/sdh']]]);
  assert.equal(p!.topology.cache.map((v) => v.path), ['/dev/nvme3n1']);
  assert.equal(p!.topology.spare.map((v) => [v.path, v.state, v.errors, v.note]), [['/dev/sdi', 'AVAIL', null, null], ['/dev/sdj', 'INUSE', null, 'currently in use']]);
  const s = p!.scan!;
  assert.equal([s.function, s.state, s.paused, s.percentage, s.secondsLeft], ['SCRUB', 'SCANNING', false, 10.53, 184]);
  assert.is(s.startTime, Date.UTC(2026, 2, 1, 10, 0, 0));
  assert.equal([s.bytesScanned, s.bytesToScan, s.bytesIssued, s.bytesToIssue, s.bytesProcessed], [1.5 * 2 ** 30, 10 * 2 ** 30, 2 ** 30, 9.5 * 2 ** 30, 0]);
});

test('vdev names with spaces stay whole: the state column comes from the header', () => {
  const t = parseConfigTable(table([
    [0, 'my pool', 'DEGRADED', Z],
    [2, 'mirror-0', 'DEGRADED', Z],
    [4, '/srv/disk  ONLINE images/a b.img', 'ONLINE', Z],
    [4, '8423756297361412371', 'UNAVAIL', Z, 'was /dev/sdz1'],
  ]).split('\n'), true);
  assert.is(t.root!.name, 'my pool');
  const [a, gone] = t.topology.data[0]!.children;
  assert.equal([a!.name, a!.kind, a!.path], ['/srv/disk  ONLINE images/a b.img', 'file', '/srv/disk  ONLINE images/a b.img']);
  assert.equal([gone!.name, gone!.state, gone!.kind, gone!.path, gone!.note], ['8423756297361412371', 'UNAVAIL', 'disk', '/dev/sdz1', 'was /dev/sdz1']);
});

test('rounded error counters (no -p) are read as 1024-based and marked inexact', () => {
  const t = parseConfigTable(table([[0, 'tank', 'ONLINE', Z], [2, 'sda', 'ONLINE', ['0', '1.50K', '12.0M']]]).split('\n'), true);
  const v = t.topology.data[0]!;
  assert.equal(v.errors, { read: 0, write: 1536, checksum: 12 * 2 ** 20, exact: false });
  assert.equal([v.kind, v.path], ['disk', '/dev/sda']);
});

test('a spare in use and a replacement in progress inside a mirror', () => {
  const t = parseConfigTable(table([
    [0, 'tank', 'DEGRADED', Z],
    [2, 'mirror-0', 'DEGRADED', Z],
    [4, 'spare-0', 'DEGRADED', Z],
    [6, 'sdb', 'FAULTED', ['0', '0', '54'], 'too many errors'],
    [6, 'sdd', 'ONLINE', Z],
    [4, 'replacing-1', 'DEGRADED', Z],
    [6, 'sdc', 'OFFLINE', Z],
    [6, 'sde', 'ONLINE', Z, '(resilvering)'],
  ]).split('\n'), true);
  const m = t.topology.data[0]!;
  assert.equal(m.children.map((c) => [c.kind, c.id]), [['spare', 0], ['replacing', 1]]);
  assert.equal(m.children[0]!.children.map((c) => [c.path, c.state, c.note]), [['/dev/sdb', 'FAULTED', 'too many errors'], ['/dev/sdd', 'ONLINE', null]]);
});

test('scan paragraphs: OpenZFS finished, canceled, paused, resilvering; zfs-fuse in progress, completed, stopped', () => {
  let s = parseScan(['scrub repaired 0B in 00:00:01 with 0 errors on Sun Mar  1 10:00:01 2026'], NOW)!;
  assert.equal([s.function, s.state, s.errors, s.percentage, s.bytesProcessed], ['SCRUB', 'FINISHED', 0, 100, 0]);
  assert.equal([s.startTime, s.endTime], [Date.UTC(2026, 2, 1, 10, 0, 0), Date.UTC(2026, 2, 1, 10, 0, 1)]);
  s = parseScan(['scrub repaired 1.25M in 1 days 02:03:04 with 3 errors on Mon Mar  2 12:03:04 2026'], NOW)!;
  assert.equal([s.errors, s.bytesProcessed, s.endTime! - s.startTime!], [3, 1.25 * 2 ** 20, (86400 + 7384) * 1000]);
  s = parseScan(['resilvered 2.00G in 00:10:00 with 0 errors on Sun Mar  1 10:10:00 2026'], NOW)!;
  assert.equal([s.function, s.state, s.bytesProcessed], ['RESILVER', 'FINISHED', 2 * 2 ** 30]);
  s = parseScan(['scrub canceled on Sun Mar  1 10:02:00 2026'], NOW)!;
  assert.equal([s.state, s.endTime], ['CANCELED', Date.UTC(2026, 2, 1, 10, 2, 0)]);
  s = parseScan([
    'scrub paused since Sun Mar  1 10:03:00 2026',
    '\tscrub started on Sun Mar  1 10:00:00 2026',
    '\t3.00G / 10.0G scanned, 2.00G / 10.0G issued',
    '\t0B repaired, 20.00% done',
  ], NOW)!;
  assert.equal([s.state, s.paused, s.pausedAt, s.startTime, s.percentage, s.secondsLeft], ['SCANNING', true, Date.UTC(2026, 2, 1, 10, 3), Date.UTC(2026, 2, 1, 10, 0), 20, null]);
  s = parseScan([
    'resilver in progress since Sun Mar  1 10:04:00 2026',
    '\t512M / 4.00G scanned at 85.3M/s, 256M / 4.00G issued at 42.7M/s',
    '\t250M resilvered, 6.25% done, no estimated completion time',
  ], NOW)!;
  assert.equal([s.function, s.state, s.bytesProcessed, s.percentage, s.secondsLeft], ['RESILVER', 'SCANNING', 250 * 2 ** 20, 6.25, null]);
  s = parseScan(['thorough scrub canceled on Sun Mar  1 10:02:00 2026'], NOW)!;
  assert.is(s.state, 'CANCELED');

  s = parseScan(['scrub in progress for 0h2m, 45.23% done, 0h3m to go'], NOW)!;
  assert.equal([s.state, s.percentage, s.secondsLeft, s.startTime, s.bytesScanned], ['SCANNING', 45.23, 180, NOW - 120_000, null]);
  s = parseScan(['scrub completed after 1h2m with 0 errors on Sat Nov 28 16:34:49 2026'], NOW)!;
  assert.equal([s.state, s.endTime, s.startTime], ['FINISHED', Date.UTC(2026, 10, 28, 16, 34, 49), Date.UTC(2026, 10, 28, 15, 32, 49)]);
  s = parseScan(['scrub stopped after 0h0m with 0 errors on Sat Nov 28 16:34:49 2026'], NOW)!;
  assert.equal([s.state, s.percentage], ['CANCELED', null]);
  s = parseScan(['resilver in progress for 0h1m, 12.00% done, 0h7m to go'], NOW)!;
  assert.equal([s.function, s.percentage], ['RESILVER', 12]);
  assert.is(parseScan(['none requested'], NOW), null);
});

test('zfs-fuse status with a problem: status/action paragraphs, the scrub line, repaired notes', () => {
  const text = [
    '  pool: mstcor',
    ' state: ONLINE',
    'status: One or more devices has experienced an unrecoverable error.  An',
    '\tattempt was made to correct the error.  Applications are unaffected.',
    'action: Determine if the device needs to be replaced, and clear the errors',
    "\tusing 'zpool clear' or replace the device with 'zpool replace'.",
    '   see: http://www.sun.com/msg/ZFS-8000-9P',
    ' scrub: scrub completed after 0h0m with 0 errors on Sat Nov 28 16:54:19 2026',
    'config:',
    '',
    '\tNAME            STATE     READ WRITE CKSUM',
    '\tmstcor          ONLINE       0     0     0',
    '\t  mirror-0      ONLINE       0     0     0',
    '\t    /tmp/zx/ca  ONLINE       0     0     0',
    '\t    /tmp/zx/cb  ONLINE       0     0   514  21.0M repaired',
    '',
    'errors: No known data errors',
  ].join('\n');
  const [p] = parseZpoolStatus(text, NOW);
  assert.is(p!.status, 'One or more devices has experienced an unrecoverable error. An attempt was made to correct the error. Applications are unaffected.');
  assert.is(p!.see, 'http://www.sun.com/msg/ZFS-8000-9P');
  assert.equal([p!.scan!.state, p!.scan!.errors], ['FINISHED', 0]);
  const cb = p!.topology.data[0]!.children[1]!;
  assert.equal([cb.errors!.checksum, cb.note, cb.kind], [514, '21.0M repaired', 'file']);
});

test('several pools in one status; "no pools available"; data errors', () => {
  const one = (name: string, errors: string) => [`  pool: ${name}`, ' state: ONLINE', ' scrub: none requested', 'config:', '', table([[0, name, 'ONLINE', Z], [2, 'sda', 'ONLINE', Z]]), '', `errors: ${errors}`].join('\n');
  const pools = parseZpoolStatus(`${one('a', 'No known data errors')}\n\n${one('b', "4 data errors, use '-v' for a list")}\n`, NOW);
  assert.equal(pools.map((p) => [p.name, p.dataErrors]), [['a', 0], ['b', 4]]);
  assert.equal(parseZpoolStatus('no pools available\n', NOW), []);
  assert.throws(() => parseZpoolStatus('  pool: x\nconfig:\n', NOW), (e: unknown) => e instanceof ZfsParseError);
});

test('zpool import listing: OpenZFS (man page example, a destroyed pool with a comment) and zfs-fuse', () => {
  const openzfs = [
    '   pool: tank',
    '     id: 15451357997522795478',
    '  state: ONLINE',
    ' action: The pool can be imported using its name or numeric identifier.',
    'config:',
    '',
    table([[0, 'tank', 'ONLINE'], [2, 'mirror', 'ONLINE'], [4, 'sda', 'ONLINE'], [4, 'sdb', 'ONLINE']], false),
    '',
    '   pool: old',
    '     id: 42',
    '  state: ONLINE (DESTROYED)',
    ' action: The pool can be imported using its name or numeric identifier.',
    'comment: lab pool',
    ' config:',
    '',
    table([[0, 'old', 'ONLINE'], [2, '/srv/x', 'ONLINE'], '\tlogs\t', [2, '/srv/log', 'ONLINE'], '\tcache', '\t  /dev/sdq', '\tspares', '\t  /dev/sdr'], false),
    '',
    '\tAdditional devices are known to be part of this pool, though their',
    '\texact configuration cannot be determined.',
  ].join('\n');
  const [tank, old] = parseZpoolImport(openzfs);
  assert.equal([tank!.name, tank!.guid, tank!.state, tank!.destroyed], ['tank', '15451357997522795478', 'ONLINE', false]);
  assert.equal(tank!.topology.data[0]!.children.map((c) => [c.path, c.state, c.errors]), [['/dev/sda', 'ONLINE', null], ['/dev/sdb', 'ONLINE', null]]);
  assert.equal([old!.name, old!.guid, old!.state, old!.destroyed, old!.comment], ['old', '42', 'ONLINE', true, 'lab pool']);
  assert.equal([old!.topology.log.map((v) => v.path), old!.topology.cache.map((v) => [v.path, v.state]), old!.topology.spare.map((v) => v.path)], [['/srv/log'], [['/dev/sdq', null]], ['/dev/sdr']]);

  const fuse = [
    '  pool: mstexp2',
    '    id: 101688399773426147',
    ' state: ONLINE',
    'action: The pool can be imported using its name or numeric identifier.',
    'config:',
    '',
    '\tmstexp2        ONLINE',
    '\t  raidz1-0     ONLINE',
    '\t    /tmp/zx/c  ONLINE',
    '\t    /tmp/zx/d  ONLINE',
    '\t    /tmp/zx/e  ONLINE',
    '\tcache',
    '\t  /tmp/zx/l',
    '\tspares',
    '\t  /tmp/zx/m',
    '\tlogs',
    '\t  mirror-1     ONLINE',
    '\t    /tmp/zx/j  ONLINE',
    '\t    /tmp/zx/k  ONLINE',
  ].join('\n');
  const [p] = parseZpoolImport(fuse);
  assert.equal([p!.name, p!.guid], ['mstexp2', '101688399773426147']);
  assert.equal([p!.topology.data[0]!.kind, p!.topology.data[0]!.parity, p!.topology.data[0]!.children.length], ['raidz', 1, 3]);
  assert.equal(p!.topology.log[0]!.children.map((c) => c.path), ['/tmp/zx/j', '/tmp/zx/k']);
  assert.equal([p!.topology.cache[0]!.path, p!.topology.spare[0]!.path], ['/tmp/zx/l', '/tmp/zx/m']);
  assert.equal(parseZpoolImport(''), []);
});

test('vdev guids: zipped from `zpool status -g` (OpenZFS) or from the zdb -C cache file (zfs-fuse)', () => {
  const named = parseZpoolStatus(['  pool: tank', ' state: ONLINE', 'config:', '', table([[0, 'tank', 'ONLINE', Z], [2, 'mirror-0', 'ONLINE', Z], [4, 'sda', 'ONLINE', Z], [4, 'sdb', 'ONLINE', Z], '\tlogs\t', [2, 'sdc', 'ONLINE', Z]]), '', 'errors: No known data errors'].join('\n'), NOW)[0]!;
  const byGuid = parseZpoolStatus(['  pool: tank', ' state: ONLINE', 'config:', '', table([[0, 'tank', 'ONLINE', Z], [2, '11', 'ONLINE', Z], [4, '12', 'ONLINE', Z], [4, '13', 'ONLINE', Z], '\tlogs\t', [2, '14', 'ONLINE', Z]]), '', 'errors: No known data errors'].join('\n'), NOW)[0]!;
  applyStatusGuids(named, byGuid);
  assert.equal([named.topology.data[0]!.guid, ...named.topology.data[0]!.children.map((c) => c.guid), named.topology.log[0]!.guid], ['11', '12', '13', '14']);

  const zdb = [
    'mstexp2:',
    '    version: 23',
    "    name: 'mstexp2'",
    '    pool_guid: 101688399773426147',
    '    vdev_children: 2',
    '    vdev_tree:',
    "        type: 'root'",
    '        id: 0',
    '        guid: 101688399773426147',
    '        children[0]:',
    "            type: 'raidz'",
    '            id: 0',
    '            guid: 703136641116986652',
    '            nparity: 1',
    '            asize: 388497408',
    '            is_log: 0',
    '            children[0]:',
    "                type: 'file'",
    '                id: 0',
    '                guid: 2797062531680877878',
    "                path: '/tmp/zx/c'",
    '            children[1]:',
    "                type: 'disk'",
    '                id: 1',
    '                guid: 15018541519311217700',
    "                path: '/dev/loop3'",
    '        children[1]:',
    "            type: 'mirror'",
    '            id: 1',
    '            guid: 12253466494758088031',
    '            asize: 129499136',
    '            is_log: 1',
    '            children[0]:',
    "                type: 'file'",
    '                guid: 16534520140512077819',
    "                path: '/tmp/zx/j'",
  ].join('\n');
  const [cfg] = parseZdbConfig(zdb);
  assert.equal([cfg!.name, cfg!.guid, cfg!.tree!.children.map((c) => [c.type, c.isLog, c.asize])], ['mstexp2', '101688399773426147', [['raidz', false, 388497408], ['mirror', true, 129499136]]]);
  const st = parseZpoolStatus(['  pool: mstexp2', ' state: ONLINE', ' scrub: none requested', 'config:', '', table([[0, 'mstexp2', 'ONLINE', Z], [2, 'raidz1-0', 'ONLINE', Z], [4, '/tmp/zx/c', 'ONLINE', Z], [4, 'loop3', 'ONLINE', Z], '\tlogs', [2, 'mirror-1', 'ONLINE', Z], [4, '/tmp/zx/j', 'ONLINE', Z]]), '', 'errors: No known data errors'].join('\n'), NOW)[0]!;
  applyZdbGuids(st, cfg!);
  const rz = st.topology.data[0]!;
  assert.equal([st.root!.guid, rz.guid, rz.size, rz.children.map((c) => [c.guid, c.kind, c.path])], [
    '101688399773426147', '703136641116986652', 388497408, [['2797062531680877878', 'file', '/tmp/zx/c'], ['15018541519311217700', 'disk', '/dev/loop3']],
  ]);
  assert.equal([st.topology.log[0]!.guid, st.topology.log[0]!.children[0]!.guid], ['12253466494758088031', '16534520140512077819']);
});

test('zfs get -H -p: sources, inherited-from names with spaces, user values with tabs and newlines', () => {
  const text = [
    'tank\tcompression\tlz4\tlocal',
    'tank/a b\tcompression\tlz4\tinherited from tank',
    'tank/a b\tused\t1234567\t-',
    'tank/a b\tquota\t0\tdefault',
    'tank/a b\torg.example:note\tone\ttwo\tlocal',
    'tank/a b\torg.example:poem\tline one',
    'line two\tinherited from tank/x y',
    'tank/a b@s1\tcreation\t1772359200\t-',
    'tank/a b\tmountpoint\t/mnt/tank/a b\treceived',
    'tank/a b\tatime\toff\ttemporary',
    '',
  ].join('\n');
  const t = parseGetTable(text);
  assert.equal([...t.keys()], ['tank', 'tank/a b', 'tank/a b@s1']);
  const ab = t.get('tank/a b')!;
  assert.equal(ab.get('compression'), { raw: 'lz4', source: 'INHERITED', from: 'tank' });
  assert.equal(ab.get('used'), { raw: '1234567', source: 'NONE', from: null });
  assert.equal(ab.get('quota'), { raw: '0', source: 'DEFAULT', from: null });
  assert.equal(ab.get('org.example:note'), { raw: 'one\ttwo', source: 'LOCAL', from: null });
  assert.equal(ab.get('org.example:poem'), { raw: 'line one\nline two', source: 'INHERITED', from: 'tank/x y' });
  assert.equal([ab.get('mountpoint')!.source, ab.get('atime')!.source], ['RECEIVED', 'TEMPORARY']);
  assert.throws(() => parseSource('from nowhere'), (e: unknown) => e instanceof ZfsParseError);
  assert.throws(() => parseRows('a\tb\n', 4, 2), (e: unknown) => e instanceof ZfsParseError);
});

test('zpool list -H (-p on OpenZFS, human on zfs-fuse), zfs holds -H -p, zfs send -nvP', () => {
  const cols = ['name', 'size', 'allocated', 'free', 'health', 'guid', 'altroot'];
  assert.equal(parseListTable('tank\t10737418240\t1073741824\t9663676416\tONLINE\t123\t-\nmy pool\t123M\t432K\t123M\tDEGRADED\t456\t/mnt\n', cols), [
    { name: 'tank', size: '10737418240', allocated: '1073741824', free: '9663676416', health: 'ONLINE', guid: '123', altroot: '-' },
    { name: 'my pool', size: '123M', allocated: '432K', free: '123M', health: 'DEGRADED', guid: '456', altroot: '/mnt' },
  ]);
  const holds = parseHolds('tank/a@s1\tkeep\t1772359200\ntank/a@s1\tsecond tag\t1772359300\ntank/b@s1\ttruenas\t1772359200\n');
  assert.equal([...holds], [['tank/a@s1', ['keep', 'second tag']], ['tank/b@s1', ['truenas']]]);
  assert.is(parseSendEstimate('full\ttank/a@s1\t4194304\nsize\t4194304\n'), 4194304);
  assert.is(parseSendEstimate('incremental\ts1\ttank/a@s2\t2097152\nincremental\ts2\ttank/a@s3\t1024\nsize\t2098176\n'), 2098176);
  assert.throws(() => parseSendEstimate('total estimated size is 4M\n'), (e: unknown) => e instanceof ZfsParseError);
});

test('units: nicenum sizes, durations, ctime dates (UTC), TrueNAS size text', () => {
  assert.equal(['0', '512B', '1K', '123M', '1.50G', '16.0E', '-', 'none', ''].map(parseNiceSize), [0, 512, 1024, 123 * 2 ** 20, 1.5 * 2 ** 30, 16 * 2 ** 60, null, null, null]);
  assert.equal(['0h0m', '2h15m', '00:00:01', '1 days 00:00:00', '3 days 01:02:03', 'soon'].map(parseDuration), [0, 8100, 1, 86400, 262923, null]);
  assert.is(parseCtime('Sun Mar  1 10:00:00 2026'), Date.UTC(2026, 2, 1, 10));
  assert.is(parseCtime('Sat Nov 28 16:34:49 2026'), Date.UTC(2026, 10, 28, 16, 34, 49));
  assert.is(parseCtime('not a date'), null);
  assert.equal([0, 1, 1023, 1024, 1536, 1500, 52428800, 1099511627776].map(formatSize), ['0 bytes', '1 byte', '1023 bytes', '1 KiB', '1.5 KiB', '1.46 KiB', '50 MiB', '1 TiB']);
});

test('pool history (zfs-fuse `zpool history -i`): which datasets to re-read, and how many snapshots ZFS made and destroyed', () => {
  const H = (t: string) => `2026-11-28.17:00:16 ${t}`;
  const lines = [
    '[internal snapshot txg:17] dataset = 39', '[internal snapshot txg:17] dataset = 41', 'zfs snapshot -r msth/a@s1',
    '[internal snapshot txg:22] dataset = 43', 'zfs snapshot msth/a/b c@s 2',
    '[internal destroy txg:24] dataset = 43', 'zfs destroy msth/a/b c@s 2',
    '[internal snapshot txg:31] dataset = 45', '[internal property set txg:31] org.x:y=v w dataset = 45', 'zfs snapshot -o org.x:y=v w msth/a@s3',
    '[internal user hold txg:33] <t> temp = 0 dataset = 45', 'zfs hold keep me msth/a@s3',
    '[internal destroy txg:48] dataset = 49', '[internal user release txg:48] <t> 0 dataset = 49', 'zfs release keep me msth/a@s4',
    'zfs set compression=on msth/a', 'zpool scrub msth',
  ].map(H);
  assert.equal(historyDelta('msth', lines), {
    kind: 'partial', created: 4, destroyed: 2,
    targets: [
      { dataset: 'msth/a', recursive: true }, { dataset: 'msth/a/b c', recursive: false }, { dataset: 'msth/a/b c', recursive: false },
      { dataset: 'msth/a', recursive: false }, { dataset: 'msth/a', recursive: false },
    ],
  });
  assert.equal(historyDelta('msth', [H('zfs destroy -r msth/a@s1'), H('[internal destroy txg:26] dataset = 39')]), { kind: 'partial', created: 0, destroyed: 1, targets: [{ dataset: 'msth/a', recursive: true }] });
  assert.equal(historyDelta('msth', [H('zfs set atime=off msth/a'), H('[internal property set txg:122] atime=0 dataset = 118'), '']), { kind: 'none' });
  for (const l of [
    'zfs rename msth/a@x msth/a@y', 'zfs destroy msth/a', 'zfs destroy -R msth/a@s', 'zfs receive -F msth/b', 'zfs promote msth/c',
    'zpool import msth', '[internal rename txg:5] dataset = 3', '[txg:123] snapshot msth/a@s (456)', 'zfs snapshot other/a@s',
  ]) assert.is(historyDelta('msth', [H(l)]).kind, 'full', l);
  assert.is(historyDelta('msth', ['garbage']).kind, 'full');
  assert.is(historyDelta('msth', [H('[internal snapshot txg:17] dataset = 39')]).kind, 'full', 'a snapshot without a command saying where');
});

test.run();
