// midclt logs ID [-f]: a job's log; with -f, the live log (event source core.job_logs:{"id": N})
// until the job ends, resuming after a reconnect without repeating what was already printed.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Client } from '../client.js';
import { Exit, failure, openSession, type GlobalOptions } from '../context.js';
import { ClientError, ConnectionError } from '../errors.js';
import type { Session } from '../session.js';
import { reconnectNotice } from './follow.js';
import { parseJobId } from './jobs.js';

/** GET a side endpoint (`/_download/...`) over the same unix socket or host as the WebSocket. */
function download(c: Client, path: string, onData: (d: Buffer) => void, insecure: boolean): Promise<void> {
  const ep = c.endpoint;
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new ClientError(`Downloading the log failed: HTTP ${res.statusCode}`));
      }
      res.on('data', onData);
      res.on('end', () => resolve());
      res.on('error', reject);
    };
    const req = ep.socketPath !== null
      ? httpRequest({ socketPath: ep.socketPath, path, headers: { host: 'localhost' } }, onResponse)
      : ep.httpBase!.startsWith('https')
        ? httpsRequest(new URL(path, ep.httpBase!), { rejectUnauthorized: !insecure }, onResponse)
        : httpRequest(new URL(path, ep.httpBase!), onResponse);
    req.on('error', reject);
    req.end();
  });
}

async function follow(session: Session, id: number, write: (text: string) => void): Promise<void> {
  let printed = 0;
  for (;;) {
    const c = session.client;
    let seen = 0;
    try {
      const sub = await c.subscribe(`core.job_logs:${JSON.stringify({ id })}`, (ev) => {
        const data = (ev.fields as { data?: unknown } | undefined)?.data;
        if (ev.msg !== 'added' || typeof data !== 'string') return;
        // After a reconnect the source sends the whole log again: skip what is already out.
        const skip = Math.max(0, Math.min(data.length, printed - seen));
        seen += data.length;
        if (skip < data.length) {
          write(data.slice(skip));
          printed += data.length - skip;
        }
      });
      const end = await Promise.race([sub.ended, c.closed]);
      if (end instanceof ConnectionError) throw end;
      if (end !== null) throw end;
      return;
    } catch (e) {
      if (!(e instanceof ConnectionError) || !e.retryable) throw e;
      process.stderr.write(`\nConnection lost; reconnecting to follow the log of job ${id}...\n`);
      await session.reconnect();
    }
  }
}

export async function runLogs(g: GlobalOptions, idText: string, o: { follow?: boolean; json?: boolean }): Promise<number> {
  const id = parseJobId(idText);
  const json = o.json || g.json;
  const session = await openSession(g, { onReconnecting: reconnectNotice });
  const onSigint = () => {
    process.stderr.write('\n');
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    if (o.follow) {
      // --json: one {"data": chunk} line per piece of log as it arrives.
      await follow(session, id, json ? (t) => process.stdout.write(`${JSON.stringify({ data: t })}\n`) : (t) => process.stdout.write(t));
      return 0;
    }
    const url = await session.client.call<string>('core.job_download_logs', [id, `job_${id}.log`]);
    if (!json) {
      await download(session.client, url, (d) => process.stdout.write(d), g.insecure === true);
      return 0;
    }
    const chunks: Buffer[] = [];
    await download(session.client, url, (d) => chunks.push(d), g.insecure === true);
    process.stdout.write(`${JSON.stringify({ id, log: Buffer.concat(chunks).toString('utf8') })}\n`);
    return 0;
  } catch (e) {
    if (e instanceof Exit) throw e;
    if (e instanceof ConnectionError) throw new Exit(1, e.message.split('\n'));
    throw failure(e, { json });
  } finally {
    process.off('SIGINT', onSigint);
    await session.close().catch(() => undefined);
  }
}
