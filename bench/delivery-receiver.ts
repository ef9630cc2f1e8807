// The webhook receiver of bench/delivery.ts, in its own process (pinned to its own core when it
// can be) so it does not compete with the queue it measures. It checks every signature and the
// order of deliveries per webhook, answers 200, and tells its counts on GET /stats.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignedRequest } from '../methods/delivery/signing.js';

const secret = process.argv[2] ?? '';
let received = 0;
let bad = 0;
let outOfOrder = 0;
const lastSeq = new Map<string, number>();

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received, bad, outOfOrder }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const v = verifySignedRequest({
      secret, body, signature: req.headers['x-midship-signature'] as string | undefined,
      timestamp: req.headers['x-midship-timestamp'] as string | undefined, nowSeconds: Math.floor(Date.now() / 1000),
    });
    received++;
    if (!v.ok) {
      bad++;
    } else {
      const job = v.payload.job as { id: number };
      const hook = req.url ?? '';
      // Redelivery of the last one is allowed (at-least-once); going backwards is not.
      if ((lastSeq.get(hook) ?? 0) > job.id) outOfOrder++;
      lastSeq.set(hook, job.id);
    }
    res.writeHead(200).end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => process.exit(0));
