// Power cut: a process with deliveries queued and one in flight is killed with SIGKILL. Opening
// its db again must deliver every delivery at least once, none out of order, and the one that
// was in flight again under the same delivery id.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeliveryQueue, HttpSender, webhookTransport } from '../methods/delivery/index.js';
import { HttpReceiver, TempDb } from './helpers/delivery.js';
import { until } from './helpers/until.js';

const childJs = fileURLToPath(new URL('./helpers/delivery-crash-child.js', import.meta.url));
const SECRET = 'crash-test-secret-0123456789';
const COUNT = 40;

test('SIGKILL with deliveries queued and one in flight: all delivered after reopening, in order', async () => {
  const rx = await HttpReceiver.start();
  const tmp = await TempDb.create();
  await tmp.db.close();
  const dir = join(tmp.dir, 'crashed');
  try {
    rx.reply = (_, i) => (i < 10 ? { status: 200 } : 'hang');
    const child = spawn(process.execPath, [childJs, dir, rx.url('/hook'), String(COUNT), SECRET], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await until(() => out.includes('queued') && rx.received.length === 11, `the child to queue ${COUNT} and hang on the 11th (stderr: ${err})`);
    child.kill('SIGKILL');
    await exited;
    const inFlight = JSON.parse(rx.received[10]!.body) as { delivery_id: string; job: { id: number } };
    assert.equal(inFlight.job.id, 11);

    rx.reply = () => ({ status: 200 });
    const db = new ClassicLevel<string, unknown>(dir, { valueEncoding: 'json' });
    await db.open();
    const http = new HttpSender();
    const q = new DeliveryQueue({ db: db.sublevel<string, unknown>('delivery', { valueEncoding: 'json' }) });
    await q.open();
    try {
      assert.ok(q.status('webhook:crash')!.queued >= COUNT - 10);
      q.setDestination('webhook:crash', webhookTransport({ url: rx.url('/hook'), secret: SECRET }, http));
      await until(() => q.status('webhook:crash')!.queued === 0, 'the queue to drain');
      const got = rx.received.map((r) => JSON.parse(r.body) as { delivery_id: string; job: { id: number } });
      const ids = got.map((b) => b.job.id);
      // Never backwards; a repeat is only ever the delivery sent just before.
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! >= ids[i - 1]!, `order broken at ${i}: ${ids.join(',')}`);
      assert.equal([...new Set(ids)], Array.from({ length: COUNT }, (_, k) => k + 1));
      const retried = got.filter((b) => b.job.id === 11);
      assert.ok(retried.length >= 2);
      assert.ok(retried.every((b) => b.delivery_id === inFlight.delivery_id));
    } finally {
      await q.close();
      await http.close();
      await db.close();
    }
  } finally {
    await rx.close();
    await tmp.destroy();
  }
});

test.run();
