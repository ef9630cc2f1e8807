// A process that queues webhook deliveries and is then killed with SIGKILL by
// tests/delivery-crash.test.ts: argv = <db dir> <receiver url> <count> <secret>.
import { ClassicLevel } from 'classic-level';
import { DeliveryQueue, HttpSender, webhookTransport } from '../../methods/delivery/index.js';

const [dir, url, count, secret] = process.argv.slice(2) as [string, string, string, string];
const db = new ClassicLevel<string, unknown>(dir, { valueEncoding: 'json' });
await db.open();
const queue = new DeliveryQueue({ db: db.sublevel<string, unknown>('delivery', { valueEncoding: 'json' }) });
await queue.open();
queue.setDestination('webhook:crash', webhookTransport({ url, secret }, new HttpSender()));
await Promise.all(Array.from({ length: Number(count) }, (_, i) => queue.enqueue('webhook:crash', 'job.FAILED', { job: { id: i + 1 } })));
console.log('queued');
// Stay up until killed.
setInterval(() => undefined, 60_000);
