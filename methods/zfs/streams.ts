// Replication streams: `zfs send` (full, incremental -i / -I, replicated -R) as a readable
// stream, `zfs recv` taking one, a pipe between the two that counts bytes, and the size of a
// send before it happens.
import type { Readable, Writable } from 'node:stream';
import type { CallOptions, ZfsCommands } from './commands.js';
import { ZfsInputError, ZfsUnsupportedError } from './errors.js';
import { spawnStreaming, terminate, type StreamingCommand } from './exec.js';
import type { Dialect } from './dialect.js';
import { checkComponent, checkDatasetOrSnapshotName, checkPropertyName, checkPropertyValue, checkSnapshotName } from './names.js';
import { parseGetTable, parseSendEstimate } from './parse-tables.js';
import type { SendSize } from './types.js';

export interface SendOptions {
  /** The snapshot to send. */
  snapshot: string;
  /** Incremental from this snapshot ("ds@a" or "@a"); -i, or -I with intermediates. */
  from?: string;
  /** Send every snapshot between `from` and `snapshot` (-I) instead of one increment (-i). */
  intermediates?: boolean;
  /** -R: the dataset with its descendants, snapshots and properties. */
  replicate?: boolean;
  /** -p: include properties (implied by -R). */
  properties?: boolean;
}

export interface ReceiveOptions {
  /** -F: roll the target back to its newest snapshot and destroy snapshots the stream does not have. */
  force?: boolean;
  /** -d: keep the sent dataset's path below the target (without its pool name). */
  keepPath?: boolean;
  /** -x: properties of the stream not to set on the target (OpenZFS). */
  excludeProperties?: readonly string[];
  /** -o: properties to set on the target in place of the stream's (OpenZFS). */
  overrideProperties?: Readonly<Record<string, string>>;
}

export interface TransferResult {
  bytes: number;
}

export function sendArgs(opts: SendOptions): string[] {
  checkSnapshotName('snapshot', opts.snapshot);
  const args = ['send'];
  if (opts.replicate) args.push('-R');
  if (opts.properties && !opts.replicate) args.push('-p');
  if (opts.from !== undefined) {
    if (typeof opts.from !== 'string') throw new ZfsInputError('from', 'must be a snapshot name');
    if (opts.from.startsWith('@')) checkComponent('from', opts.from.slice(1), 'snapshot name');
    else checkSnapshotName('from', opts.from);
    args.push(opts.intermediates ? '-I' : '-i', opts.from);
  } else if (opts.intermediates) {
    throw new ZfsInputError('intermediates', 'needs from');
  }
  args.push(opts.snapshot);
  return args;
}

/** -x / -o of `zfs receive`, refused where receive has neither (zfs-fuse). */
export function receivePropertyArgs(opts: ReceiveOptions, dialect: Dialect): string[] {
  const exclude = opts.excludeProperties ?? [];
  const override = Object.entries(opts.overrideProperties ?? {});
  if (exclude.length + override.length === 0) return [];
  if (!dialect.receiveProperties) throw new ZfsUnsupportedError('excluding or overriding received properties', `${dialect.flavor}'s zfs receive has no -x or -o`);
  const args: string[] = [];
  exclude.forEach((p, i) => args.push('-x', checkPropertyName(`excludeProperties.${i}`, p)));
  for (const [k, v] of override) args.push('-o', `${checkPropertyName(`overrideProperties.${k}`, k)}=${checkPropertyValue(`overrideProperties.${k}`, v)}`);
  return args;
}

/** How much of a stream the daemon may hold while the receiving end is slower. */
export const PUMP_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Copies `from` into `to`, counting the bytes. Unlike stream.pipe(), which stops reading as soon
 * as 16 KiB wait to be written, it lets up to PUMP_BUFFER_BYTES queue: between `zfs send` and
 * `zfs recv` the daemon sits on two 64 KiB pipes, and with pipe()'s small buffer both commands
 * wait for the daemon to be scheduled at nearly every chunk, which on a busy host makes the copy
 * much slower than `zfs send | zfs recv`.
 */
export function pumpCounted(from: Readable, to: Writable, onBytes: (total: number) => void): void {
  let bytes = 0;
  from.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    onBytes(bytes);
    to.write(chunk);
    if (to.writableLength >= PUMP_BUFFER_BYTES) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}

export class Streams {
  constructor(private readonly c: ZfsCommands) {}

  /** Starts `zfs send`; read the stream from `child.stdout`. The signal kills it. */
  send(opts: SendOptions, signal?: AbortSignal): StreamingCommand & { stream: Readable } {
    const cmd = spawnStreaming(this.c.programs.zfs, sendArgs(opts), { stdin: 'ignore', stdout: 'pipe' }, signal);
    return { ...cmd, stream: cmd.child.stdout! };
  }

  /** Starts `zfs recv` into `target`; write the stream to `input` and end it. The signal kills it. */
  receive(target: string, opts: ReceiveOptions = {}, signal?: AbortSignal): StreamingCommand & { input: Writable } {
    checkDatasetOrSnapshotName('target', target);
    const args = ['receive', ...(opts.force ? ['-F'] : []), ...(opts.keepPath ? ['-d'] : []), ...receivePropertyArgs(opts, this.c.dialect), target];
    const cmd = spawnStreaming(this.c.programs.zfs, args, { stdin: 'pipe', stdout: 'ignore' }, signal);
    cmd.child.stdin!.on('error', () => {}); // recv may exit before reading everything; its exit status tells why
    return { ...cmd, input: cmd.child.stdin! };
  }

  /**
   * `zfs send ... | zfs recv ... target`, with the bytes counted as they pass. If either side
   * fails, both are stopped and the first failure is thrown (a send that died makes recv fail
   * too; the send's error is the one that explains it). The signal stops both; ZFS discards a
   * partly received snapshot, so the target stays at its last complete one.
   */
  async transfer(send: SendOptions, target: string, recv: ReceiveOptions = {}, o: { signal?: AbortSignal; onBytes?: (bytes: number) => void } = {}): Promise<TransferResult> {
    sendArgs(send);
    checkDatasetOrSnapshotName('target', target);
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    if (o.signal?.aborted) ac.abort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    const s = this.send(send, ac.signal);
    const r = this.receive(target, recv, ac.signal);
    let bytes = 0;
    pumpCounted(s.stream, r.input, (n) => {
      bytes = n;
      o.onBytes?.(n);
    });
    // Whichever side fails first explains the failure; stopping the other one is a consequence.
    let first: unknown = null;
    // When recv ends first, nothing reads the send any more: stop it instead of letting it block.
    r.done.catch((e: unknown) => { first ??= e; s.stream.destroy(); terminate(s.child); });
    s.done.catch((e: unknown) => { first ??= e; r.input.destroy(); terminate(r.child); });
    const results = await Promise.allSettled([s.done, r.done]);
    o.signal?.removeEventListener('abort', onAbort);
    if (results.some((x) => x.status === 'rejected')) throw first;
    return { bytes };
  }

  /**
   * How big a send will be: `zfs send -nvP` where ZFS has it (an estimate); otherwise by
   * sending the stream to nowhere and counting it (exact, but it reads the data), or, when
   * counting is not allowed, from the snapshots' `referenced` (approximate).
   */
  async size(opts: SendOptions, o: CallOptions & { allowCounting?: boolean } = {}): Promise<SendSize> {
    const args = sendArgs(opts);
    const d = this.c.dialect;
    if (d.sendDryRun) {
      const r = await this.c.zfs([args[0]!, '-n', '-v', '-P', ...args.slice(1)], o);
      return { bytes: parseSendEstimate(`${r.stdout}\n${r.stderr}`), method: 'dry-run', exact: false };
    }
    if (o.allowCounting !== false) {
      const s = this.send(opts, o.signal);
      let bytes = 0;
      s.stream.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      await s.done;
      return { bytes, method: 'counted', exact: true };
    }
    if (opts.replicate) throw new ZfsUnsupportedError('estimating a replicated send', 'zfs send has no -n here and counting was not allowed');
    const from = opts.from === undefined ? null : opts.from.startsWith('@') ? `${opts.snapshot.split('@')[0]}${opts.from}` : opts.from;
    const names = from === null ? [opts.snapshot] : [opts.snapshot, from];
    const t = parseGetTable((await this.c.zfs(['get', '-H', '-p', '-o', 'name,property,value,source', 'referenced', ...names], o)).stdout);
    const ref = (n: string) => Number(t.get(n)?.get('referenced')?.raw ?? 0);
    const bytes = from === null ? ref(opts.snapshot) : Math.max(0, ref(opts.snapshot) - ref(from));
    return { bytes, method: 'properties', exact: false };
  }
}
