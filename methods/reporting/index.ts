// reporting.*: live figures of the host (the reporting.realtime event source, MODULES.md §2) and
// their history (reporting.get_data / netdata_get_data / graphs), kept in the database at 10 s
// for 24 h and 5 min for 30 days by the store in methods/host/history, fed by a sampler of its
// own every 10 s. Pools come from the storage module when one is loaded (pools.ts).
import { arg, CallError, ERRNO, method, queryMethod, ValidationErrors, type App, type ModuleDef } from '#midship/module-api';
import { ReportingQueryError, UnknownGraphError } from '../host/history/errors.js';
import { ArcReader } from '../host/arc.js';
import { HostFiles } from '../host/files.js';
import { toHistoryPoints } from '../host/history/points.js';
import { getData, listGraphs } from '../host/history/query.js';
import { HistoryStore, type HistoryDb } from '../host/history/store.js';
import { isInternalInterface } from '../host/net-internal.js';
import { toRealtimePayload } from '../host/realtime.js';
import { SampleTicker } from '../host/ticker.js';
import type { GraphIdentifierT, ReportingQueryT } from '../../schemas/host/reporting.js';
import { GetDataResult, Graphs, QueryArg, RealtimeArgs, SamplersResult } from '../../schemas/reporting.js';
import { PoolSource, poolUsage } from './pools.js';
import { RealtimeHub, TooManyIntervals } from './realtime-hub.js';

const DEFAULT_INTERVAL = 2;
const HISTORY_STEP_MS = 10_000;
const MAX_INTERVAL_GROUPS = 16;

/** reporting.realtime and interface.query leave out the same interfaces (loopback, veth, ...). */
const reported = (name: string) => !isInternalInterface(name);

export function reportingModule(app: App): ModuleDef {
  const pools = new PoolSource(app);
  // One ARC reader for all samplers: one zfs-fuse reading shell per daemon (arc.ts).
  const arcFiles = new HostFiles('/');
  const arc = new ArcReader(arcFiles);
  const store = new HistoryStore(app.sublevel('reporting') as unknown as HistoryDb);
  const hub = new RealtimeHub({
    payload: (sample) => toRealtimePayload(sample, poolUsage(pools.latest())),
    includeInterface: reported,
    arc,
    onError: (err) => app.log.warn({ err }, 'reporting.realtime: a sample failed'),
    maxGroups: MAX_INTERVAL_GROUPS,
  });
  const history = new SampleTicker({
    intervalMs: HISTORY_STEP_MS,
    sampler: { includeInterface: reported, arc },
    onSample: (sample) => {
      store.append(sample.time / 1000, toHistoryPoints(sample, poolUsage(pools.latest())))
        .catch((err: unknown) => app.log.error({ err }, 'reporting history: a sample could not be stored'));
    },
    onError: (err) => app.log.warn({ err }, 'reporting history: a sample failed'),
  });

  const answer = async (graphs: GraphIdentifierT[], query: ReportingQueryT) => {
    try {
      return await getData(store, graphs, query);
    } catch (err) {
      if (err instanceof ReportingQueryError) throw new ValidationErrors([[err.attribute, err.message, ERRNO.EINVAL]]);
      if (err instanceof UnknownGraphError) throw new CallError(err.message, ERRNO.ENOENT);
      throw err;
    }
  };
  const getDataSpec = (description: string) => ({
    description,
    args: [arg('graphs', Graphs), arg('query', QueryArg, { default: {} })] as const,
    result: GetDataResult,
    roles: ['REPORTING_READ'],
    handler: (_ctx: unknown, graphs: GraphIdentifierT[], query: ReportingQueryT) => answer(graphs, query),
  });

  return {
    services: [{ name: 'reporting', type: 'service', rolePrefix: 'REPORTING', cliDescription: 'Live and historical figures of the host' }],
    methods: [
      method('reporting.get_data', getDataSpec('History of the graphs asked for ({name, identifier}) over query.unit/page or query.start/end: rows [time, v1, ...] of at most 2999 points, legend, start, end, min/mean/max.')),
      method('reporting.netdata_get_data', getDataSpec('The same as reporting.get_data (the name TrueNAS dashboards call).')),
      { ...queryMethod('reporting.graphs', 'The graphs kept, with title, vertical label and the identifiers (disks, interfaces, pools) they have history for.', () => listGraphs(store)), roles: ['REPORTING_READ'] },
      { ...queryMethod('reporting.netdata_graphs', 'The same as reporting.graphs.', () => listGraphs(store)), roles: ['REPORTING_READ'] },
      method('reporting.realtime_samplers', {
        description: 'The reporting.realtime samplers running now: one per distinct interval, with its subscriber count.',
        args: [],
        result: SamplersResult,
        roles: ['REPORTING_READ'],
        private: true,
        handler: () => hub.samplers(),
      }),
    ],
    events: [{
      name: 'reporting.realtime',
      roles: ['REPORTING_READ'],
      description: 'Live figures every interval seconds (subscribe as reporting.realtime:{"interval": N}, N >= 2, default 2): cpu, memory, zfs (ARC), disks, interfaces, pools. Sent as "added" without an id.',
      source: {
        args: RealtimeArgs,
        run: async (ctx, args) => {
          const seconds = (args as { interval?: number } | null)?.interval ?? DEFAULT_INTERVAL;
          let leave: () => Promise<void>;
          try {
            leave = hub.subscribe(seconds, (payload) => ctx.emit('added', undefined, payload));
          } catch (err) {
            if (err instanceof TooManyIntervals) throw new CallError(`${err.message}: subscribe with an interval already in use`, ERRNO.EBUSY);
            throw err;
          }
          if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          await leave();
        },
      },
    }],
    async start() {
      await store.open();
      // Not awaited: the first reading must not hold up the daemon's start (a stalled zfs-fuse).
      history.start().catch((err: unknown) => app.log.error({ err }, 'reporting history: the sampler did not start'));
    },
    async stop() {
      await hub.stop();
      await history.stop();
      await store.flush();
      arc.close();
      await arcFiles.close();
    },
  };
}
