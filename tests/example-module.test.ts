// docs/modules.md's example module, tested as every module is: a real daemon and a real client.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { notesModule } from '../docs/examples/notes.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { Client, startDaemon, type Message } from './helpers/daemon.js';
import { until } from './helpers/until.js';

type Job = { id: number; state: string; progress: { percent: number } };
const modules = [coreModule, jobsModule, notesModule];
const search = (m: Message) => (m.params as { collection?: string } | undefined)?.collection === 'notes.search:{"word": "tank"}';

test('notes: create, query, a job with progress and abort, a live search, kept across a restart', async () => {
  let d = await startDaemon({ modules });
  let c = await Client.connect(d.socketPath); // the unix socket: the local administrator
  try {
    await c.call('core.set_options', { legacy_jobs: false }); // job calls answer with their result
    await c.call('core.subscribe', 'notes.search:{"word": "tank"}');
    assert.equal(await c.call('notes.create', 'scrub tank weekly'), { id: 1, text: 'scrub tank weekly' });
    await c.call('notes.create', 'replace a disk');
    assert.equal(await c.call('notes.query', [['text', '^', 'replace']], { select: ['id'] }), [{ id: 2 }]);
    assert.equal((await c.request('notes.create', [''])).error?.data?.extra, [['text', 'String should have at least 1 characters', 22]]);
    assert.is(await c.call('notes.count_words'), 6);
    await c.waitFor(search);
    assert.equal(c.received.filter(search).map((m) => m.params!.id), [1], 'only the note holding the word');

    c.send({ jsonrpc: '2.0', id: 'slow', method: 'notes.count_words', params: [1000] });
    const running = await until(async () => {
      const jobs = (await c.call('core.get_jobs', [['method', '=', 'notes.count_words'], ['state', '=', 'RUNNING']])) as Job[];
      return jobs.find((j) => j.progress.percent > 0);
    }, 'the slow count to make progress');
    await c.call('core.job_abort', running.id);
    assert.is((await c.waitFor((m) => m.id === 'slow')).result, null, 'an aborted job answers null');
    assert.is(((await c.call('core.get_jobs', [['id', '=', running.id]], { get: true })) as Job).state, 'ABORTED');

    await c.close();
    await d.stop();
    d = await startDaemon({ modules, dataDir: d.dataDir });
    c = await Client.connect(d.socketPath);
    assert.equal(await c.call('notes.query', [], { order_by: ['id'] }), [{ id: 1, text: 'scrub tank weekly' }, { id: 2, text: 'replace a disk' }]);
    assert.equal(await c.call('notes.create', 'three'), { id: 3, text: 'three' }, 'ids go on after a restart');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test.run();
