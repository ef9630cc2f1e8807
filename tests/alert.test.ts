// The alert framework through the module API: classes and a source declared by a module, raise and
// clear from a module, alert.list / dismiss / restore with their events, alertclasses, uuids kept
// across a restart while the condition holds. A real daemon, a real client, a real level.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeAlertModule } from '../methods/alert.js';
import { coreModule } from '../methods/core.js';
import { alertTestModule } from './helpers/alert-test-module.js';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';

type Alert = { uuid: string; id: string; klass: string; source: string; level: string; formatted: string; text: string; dismissed: boolean; one_shot: boolean; key: string; args: unknown; datetime: { $date: number } };

// The test module raises from its start(), before the alert module (later in the list) serves.
const modules = [coreModule, alertTestModule, makeAlertModule()];

const alertEvents = (c: Client) => c.received.filter((m) => m.method === 'collection_update' && (m.params as { collection?: string }).collection === 'alert.list').map((m) => m.params as { msg: string; id: string; fields?: Alert });

async function open(dataDir?: string): Promise<{ d: TestDaemon; c: Client }> {
  const d = await startDaemon({ modules, ...(dataDir ? { dataDir } : {}) });
  const c = await Client.connect(d.socketPath);
  await c.call('core.subscribe', 'alert.list');
  return { d, c };
}

const list = async (c: Client) => (await c.call('alert.list')) as Alert[];
const errorOf = (m: Message) => (m.error?.data as { extra?: unknown[] } | undefined)?.extra;

test('raise and clear from a module: id is the uuid, the same key keeps it, the text is formatted, events follow', async () => {
  const { d, c } = await open();
  try {
    const atStart = await list(c);
    assert.equal(atStart.map((a) => [a.klass, a.formatted, a.source]), [['TestNotice', 'Notice: raised while the daemon started', '']], 'a raise made before the alert module served is kept');

    await c.call('alerttest.raise', 'TestTaskFailed', { id: 7, error: 'exit 1' });
    const [first] = (await list(c)).filter((a) => a.klass === 'TestTaskFailed');
    assert.ok(first);
    assert.is(first!.id, first!.uuid);
    assert.match(first!.uuid, /^[0-9a-f-]{36}$/);
    assert.is(first!.formatted, 'Task 7 failed: exit 1');
    assert.is(first!.text, 'Task %(id)d failed: %(error)s');
    assert.is(first!.level, 'ERROR');
    assert.is(first!.one_shot, true);
    assert.is(first!.key, '7');
    await c.waitFor((m) => (m.params as { msg?: string; id?: string } | undefined)?.id === first!.uuid);
    assert.equal(alertEvents(c).filter((e) => e.id === first!.uuid).map((e) => [e.msg, e.fields?.formatted]), [['added', 'Task 7 failed: exit 1']]);

    // Raised again for the same task: the same alert, its new text sent as CHANGED.
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 7, error: 'exit 2' });
    const again = (await list(c)).filter((a) => a.klass === 'TestTaskFailed');
    assert.equal(again.map((a) => [a.uuid, a.formatted]), [[first!.uuid, 'Task 7 failed: exit 2']]);
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 8, error: 'killed' });
    assert.is((await list(c)).filter((a) => a.klass === 'TestTaskFailed').length, 2, 'another key is another alert');

    // Cleared by key alone.
    await c.call('alerttest.clear', 'TestTaskFailed', { id: 7 });
    assert.equal((await list(c)).filter((a) => a.klass === 'TestTaskFailed').map((a) => a.formatted), ['Task 8 failed: killed']);
    await c.call('alerttest.clear', 'TestTaskFailed', { id: 99 }); // nothing there: nothing happens
    const mine = alertEvents(c).filter((e) => e.id === first!.uuid).map((e) => e.msg);
    assert.equal(mine, ['added', 'changed', 'removed']);
    assert.is(alertEvents(c).find((e) => e.msg === 'removed')!.fields, undefined, 'REMOVED carries the id only');

    // A class nobody declared is refused.
    const bad = await c.request('alerttest.raise', ['NoSuchClass', {}]);
    assert.ok(bad.error, 'raising an undeclared class fails');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('dismiss and restore: CHANGED for a source alert, REMOVED for a one-shot, unknown uuids ignored', async () => {
  const { d, c } = await open();
  try {
    await c.call('alerttest.set', [{ name: 'temp', value: 50 }]);
    await c.call('alert.process_alerts', ['TestReadings']);
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 1, error: 'x' });
    const all = await list(c);
    const cond = all.find((a) => a.klass === 'TestTooHigh')!;
    const shot = all.find((a) => a.klass === 'TestTaskFailed')!;
    assert.is(cond.formatted, 'temp is 50, above 10');
    assert.is(cond.source, 'TestReadings');

    assert.is(await c.call('alert.dismiss', cond.uuid), null);
    assert.is((await list(c)).find((a) => a.uuid === cond.uuid)!.dismissed, true);
    assert.is(await c.call('alert.restore', cond.uuid), null);
    assert.is((await list(c)).find((a) => a.uuid === cond.uuid)!.dismissed, false);
    await c.call('alert.dismiss', shot.uuid);
    assert.not.ok((await list(c)).some((a) => a.uuid === shot.uuid), 'a dismissed one-shot alert is deleted');
    assert.is(await c.call('alert.dismiss', 'no-such-uuid'), null);
    assert.is(await c.call('alert.restore', 'no-such-uuid'), null);
    await c.waitFor((m) => (m.params as { msg?: string; id?: string } | undefined)?.id === shot.uuid && (m.params as { msg: string }).msg === 'removed');
    assert.equal(alertEvents(c).filter((e) => e.id === cond.uuid).map((e) => [e.msg, e.fields?.dismissed]), [['added', false], ['changed', true], ['changed', false]]);
    assert.equal(alertEvents(c).filter((e) => e.id === shot.uuid).map((e) => e.msg), ['added', 'removed']);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('a source: alerts appear and clear with the condition, keep their uuid (and dismissal) across a restart, a failing source keeps them', async () => {
  let { d, c } = await open();
  try {
    await c.call('alerttest.set', [{ name: 'a', value: 20 }, { name: 'b', value: 5 }, { name: 'c', value: 500 }]);
    assert.equal(await c.call('alert.process_alerts', ['TestReadings']), [{ source: 'TestReadings', alerts: 2, error: null }]);
    const before = (await list(c)).filter((a) => a.source === 'TestReadings');
    // Highest level first.
    assert.equal(before.map((a) => [a.klass, a.formatted]), [['TestWayTooHigh', 'c is 500'], ['TestTooHigh', 'a is 20, above 10']]);
    await c.call('alert.dismiss', before[1]!.uuid);

    // The daemon stops and starts: the stored alerts are there with their uuids before and after the source runs again.
    await c.close();
    await d.stop();
    ({ d, c } = await open(d.dataDir));
    await c.call('alerttest.set', [{ name: 'a', value: 30 }, { name: 'c', value: 500 }]);
    const reloaded = (await list(c)).filter((a) => a.source === 'TestReadings');
    assert.equal(reloaded.map((a) => [a.uuid, a.dismissed]), before.map((a, i) => [a.uuid, i === 1]));
    await c.call('alert.process_alerts', []);
    const after = (await list(c)).filter((a) => a.source === 'TestReadings');
    assert.equal(after.map((a) => [a.uuid, a.formatted, a.dismissed]), [[before[0]!.uuid, 'c is 500', false], [before[1]!.uuid, 'a is 30, above 10', true]], 'same uuids while the condition holds; new args shown');

    // The source fails: its alerts stay, and a failure alert says so; the next good run clears that.
    await c.call('alerttest.set', [], 'sensor unreadable');
    assert.equal(await c.call('alert.process_alerts', ['TestReadings']), [{ source: 'TestReadings', alerts: 0, error: 'sensor unreadable' }]);
    const failing = await list(c);
    assert.equal(failing.filter((a) => a.source === 'TestReadings').map((a) => a.uuid), after.map((a) => a.uuid));
    assert.is(failing.find((a) => a.klass === 'AlertSourceRunFailed')?.formatted, 'Alert source TestReadings failed: sensor unreadable');

    // The condition is gone: REMOVED, and the failure alert with it.
    await c.call('alerttest.set', []);
    await c.call('alert.process_alerts', ['TestReadings']);
    assert.equal((await list(c)).map((a) => a.klass), ['TestNotice']);
    await c.waitFor((m) => (m.params as { msg?: string; id?: string } | undefined)?.id === before[0]!.uuid);
    const removed = alertEvents(c).filter((e) => e.msg === 'removed').map((e) => e.id);
    for (const a of before) assert.ok(removed.includes(a.uuid), `REMOVED ${a.uuid}`);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('alertclasses: a level override changes alerts (CHANGED), NEVER hides a class, source settings are checked and used; categories and policies', async () => {
  const { d, c } = await open();
  try {
    await c.call('alerttest.set', [{ name: 'fan', value: 15 }]);
    await c.call('alert.process_alerts', ['TestReadings']);
    const cfg = await c.call('alertclasses.config') as { classes: Record<string, unknown>; sources: Record<string, Record<string, unknown>> };
    assert.equal(cfg.classes, {});
    assert.equal(cfg.sources.TestReadings, { limit: 10, critical: 100 });

    const fan = (await list(c)).find((a) => a.klass === 'TestTooHigh')!;
    await c.call('alertclasses.update', { classes: { TestTooHigh: { level: 'CRITICAL' } } });
    assert.is((await list(c)).find((a) => a.uuid === fan.uuid)!.level, 'CRITICAL');
    await c.waitFor((m) => (m.params as { id?: string; fields?: Alert } | undefined)?.id === fan.uuid && (m.params as { fields?: Alert }).fields?.level === 'CRITICAL');

    await c.call('alertclasses.update', { classes: { TestTooHigh: { policy: 'NEVER' } } });
    assert.not.ok((await list(c)).some((a) => a.uuid === fan.uuid), 'a NEVER class is not listed');
    await c.waitFor((m) => (m.params as { id?: string; msg?: string } | undefined)?.id === fan.uuid && (m.params as { msg: string }).msg === 'removed');
    await c.call('alertclasses.update', { classes: {} });
    assert.is((await list(c)).find((a) => a.uuid === fan.uuid)!.level, 'WARNING', 'overrides replaced as a whole: back to the default');

    // A threshold: the test drives the source with it.
    const updated = await c.call('alertclasses.update', { sources: { TestReadings: { limit: 20 } } }) as typeof cfg;
    assert.equal(updated.sources.TestReadings, { limit: 20, critical: 100 });
    await c.call('alert.process_alerts', ['TestReadings']);
    assert.not.ok((await list(c)).some((a) => a.klass === 'TestTooHigh'), '15 is below the new limit');

    const bad = await c.request('alertclasses.update', [{ classes: { Nope: { level: 'INFO' } }, sources: { TestReadings: { limit: 0, colour: 1 }, Nowhere: {} } }]);
    assert.equal(errorOf(bad), [
      ['alertclasses_update.classes.Nope', "Unknown alert class 'Nope'", 22],
      ['alertclasses_update.sources.TestReadings.colour', "Unknown setting; 'TestReadings' has limit, critical", 22],
      ['alertclasses_update.sources.TestReadings.limit', 'Expected integer to be greater or equal to 1', 22],
      ['alertclasses_update.sources.Nowhere', "Unknown alert source 'Nowhere'", 22],
    ]);
    const badLevel = await c.request('alertclasses.update', [{ classes: { TestTooHigh: { level: 'LOUD' } } }]);
    assert.ok(String(errorOf(badLevel)?.[0]).startsWith('alertclasses_update.classes.TestTooHigh.level'), JSON.stringify(errorOf(badLevel)));
    assert.equal((await c.call('alertclasses.config') as typeof cfg).sources.TestReadings, { limit: 20, critical: 100 }, 'a refused update changes nothing');
    const unknownSource = await c.request('alert.process_alerts', [['TestReadings', 'Nope']]);
    assert.equal(errorOf(unknownSource), [['sources.1', "Unknown alert source 'Nope'", 22]]);

    assert.equal(await c.call('alert.list_policies'), ['IMMEDIATELY', 'HOURLY', 'DAILY', 'NEVER']);
    const cats = await c.call('alert.list_categories') as Array<{ id: string; title: string; classes: Array<{ id: string; title: string; level: string }> }>;
    assert.equal(cats.map((x) => x.id), ['SECURITY', 'STORAGE', 'SYSTEM', 'TASKS'], 'categories with classes, the daemon\'s own among them');
    const system = cats.find((x) => x.id === 'SYSTEM')!.classes;
    assert.equal(system.map((k) => k.title), system.map((k) => k.title).sort((a, b) => a.localeCompare(b)), 'classes sorted by title');
    assert.equal(system.filter((k) => k.id.startsWith('Test') || k.id === 'AlertSourceRunFailed').map((k) => [k.id, k.title, k.level]), [
      ['AlertSourceRunFailed', 'Alert Check Failed', 'CRITICAL'], ['TestWayTooHigh', 'Reading Far Too High', 'CRITICAL'], ['TestTooHigh', 'Reading Too High', 'WARNING'],
    ]);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('sorting: level (highest first), then title, then time', async () => {
  const { d, c } = await open();
  try {
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 2, error: 'b' });
    await c.call('alerttest.raise', 'TestTaskFailed', { id: 1, error: 'a' });
    await c.call('alerttest.set', [{ name: 'x', value: 200 }, { name: 'y', value: 11 }]);
    await c.call('alert.process_alerts', []);
    assert.equal((await list(c)).map((a) => a.formatted), ['x is 200', 'Task 2 failed: b', 'Task 1 failed: a', 'y is 11, above 10', 'Notice: raised while the daemon started']);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test.run();
