// alert.* and alertclasses.*: the module that serves the alert framework (daemon/alerts.ts). It
// runs the sources modules declare, takes raise/clear from any module, keeps the current alerts in
// level (methods/alert/store.ts), lists them in TrueNAS's shape with the `alert.list` events the
// web UI follows, and hands every change to the alert services (methods/alertservice.ts).
import { arg, CallError, ERRNO, method, Type, ValidationErrors, type AlertClassDef, type AlertSourceDef, type App, type ModuleDef, type ModuleFactory } from '#midship/module-api';
import {
  ALERT_CATEGORIES, ALERT_LEVELS, ALERT_POLICIES, AlertCategories, AlertClassesConfig, AlertClassesUpdate, AlertList, AlertPolicies,
  AlertUuid, ProcessAlertsResult, type AlertCategoryT, type AlertT,
} from '../schemas/alert.js';
import { systemClock, type Clock } from './delivery/clock.js';
import { alertServices, type AlertServicesOptions } from './alertservice.js';
import { formatAlertText } from './alert/percent-format.js';
import { SourceRunner, type RunnerDeps } from './alert/runner.js';
import { builtinAlerts } from './alert/builtin/index.js';
import { AlertSettings } from './alert/settings.js';
import { AlertStore, stableJson, type AlertChange, type StoredAlert } from './alert/store.js';

export const ALERT_EVENT = 'alert.list';
/** TrueNAS's label for the node of a non-HA system. */
const NODE = 'Controller A';

const SOURCE_FAILED: AlertClassDef = {
  name: 'AlertSourceRunFailed',
  category: 'SYSTEM',
  level: 'CRITICAL',
  title: 'Alert Check Failed',
  text: 'Alert source %(source)s failed: %(error)s',
  key: (args) => (args as { source: string }).source,
};

export interface AlertModuleOptions {
  /** The clock sources run on, alerts are timed by and digests and retries wait on (tests pass a ManualClock). */
  clock?: Clock;
  /** Alert services: the host name messages name, outbound HTTP limits, the retry policy. */
  services?: Omit<AlertServicesOptions, 'clock'>;
}

export function makeAlertModule(options: AlertModuleOptions = {}): ModuleFactory {
  return (app) => alertModule(app, options);
}

function alertModule(app: App, options: AlertModuleOptions): ModuleDef {
  const clock = options.clock ?? systemClock;
  const classes = app.alerts.classes;
  const services = alertServices(app, { ...options.services, clock });
  const settings = new AlertSettings(app.sublevel('alertclasses'), classes, app.alerts.sources);
  const levelRank = (a: StoredAlert) => ALERT_LEVELS.indexOf(settings.level(a.klass));
  const visible = (a: StoredAlert) => settings.policy(a.klass) !== 'NEVER';

  const toWire = (a: StoredAlert): AlertT => {
    const c = classes.get(a.klass)!;
    const text = c.text ?? c.title;
    return {
      uuid: a.uuid, id: a.uuid, source: a.source, klass: a.klass, args: a.args, node: NODE, key: a.key,
      datetime: { $date: a.datetime }, last_occurrence: { $date: a.last_occurrence }, dismissed: a.dismissed, mail: null,
      text, level: settings.level(a.klass), formatted: formatAlertText(text, a.args) ?? text, one_shot: c.oneShot === true,
    };
  };

  const emit = (msg: 'added' | 'changed' | 'removed', a: StoredAlert) => {
    if (app.events.hasListeners(ALERT_EVENT)) app.events.emit(ALERT_EVENT, msg, a.uuid, msg === 'removed' ? undefined : toWire(a));
  };

  const changed = (changes: AlertChange[]) => {
    for (const c of changes) {
      const shown = visible(c.alert);
      if (shown) emit(c.kind, c.alert);
      try {
        services.onAlertChange(c, toWire(c.alert), settings.policy(c.alert.klass));
      } catch (err) {
        app.log.error({ err, alert: c.alert.uuid }, 'handing an alert to the alert services failed');
      }
    }
  };

  const store = new AlertStore(app.sublevel('alert'), changed);
  const keyOf = (klass: string, args: unknown) => stableJson((classes.get(klass)!.key ?? ((x: unknown) => x))(args));

  // Made at start: sources of modules later in the list are declared only after this factory ran.
  const runnerDeps: RunnerDeps = {
    clock,
    settings: (name) => settings.source(name),
    report: async (source: AlertSourceDef, result) => {
      if ('error' in result) {
        const error = result.error instanceof Error ? result.error.message : String(result.error);
        app.log.warn({ err: result.error, source: source.name }, 'alert source failed: its alerts are kept as they were');
        await store.raise({ klass: SOURCE_FAILED.name, args: { source: source.name, error }, key: keyOf(SOURCE_FAILED.name, { source: source.name }) }, clock.now());
        return;
      }
      const drafts = [];
      for (const d of result.drafts) {
        if (!classes.has(d.klass)) {
          app.log.error({ source: source.name, klass: d.klass }, 'alert source reported a class no module declares: left out');
          continue;
        }
        drafts.push({ klass: d.klass, args: d.args ?? null, key: keyOf(d.klass, d.args ?? null) });
      }
      await store.sync(source.name, drafts, clock.now());
      await store.clear(SOURCE_FAILED.name, keyOf(SOURCE_FAILED.name, { source: source.name }));
    },
  };
  let runner: SourceRunner | null = null;
  const builtin = builtinAlerts(app, clock, app.sublevel<number>('alert.meta'));

  const sorted = (list: StoredAlert[]) => list.sort((a, b) =>
    levelRank(b) - levelRank(a)
    || classes.get(a.klass)!.title.localeCompare(classes.get(b.klass)!.title)
    || a.datetime - b.datetime); // stable: alerts of one millisecond stay in the order they came

  /** Applies a settings change to the alerts shown: a class hidden (NEVER) or shown again, a new level. */
  const resettle = (before: Map<string, { shown: boolean; level: string }>) => {
    for (const a of store.all()) {
      const was = before.get(a.uuid);
      if (was === undefined) continue; // raised meanwhile: announced with the settings in force
      const shown = visible(a);
      if (was.shown && !shown) emit('removed', a);
      else if (!was.shown && shown) emit('added', a);
      else if (shown && was.level !== settings.level(a.klass)) emit('changed', a);
    }
  };

  return {
    services: [
      { name: 'alert', type: 'service', rolePrefix: 'ALERT', cliDescription: 'Current alerts' },
      { name: 'alertclasses', type: 'config', rolePrefix: 'ALERT', cliDescription: 'Alert levels and policies per class, settings per source' },
      ...services.services,
    ],
    methods: [
      method('alert.list', {
        description: 'Current alerts, by level (highest first), then title, then time. Classes whose policy is NEVER are left out.',
        args: [],
        result: AlertList,
        roles: ['ALERT_LIST_READ'],
        handler: () => sorted([...store.all()].filter(visible)).map(toWire),
      }),
      method('alert.dismiss', {
        description: 'Dismiss alert `uuid`: a one-shot alert is deleted (REMOVED), any other is marked dismissed (CHANGED). An unknown uuid is ignored.',
        args: [arg('uuid', AlertUuid)],
        result: Type.Null(),
        roles: ['ALERT_LIST_WRITE'],
        handler: async (_ctx, uuid) => {
          const a = store.get(uuid);
          if (a) await store.dismiss(uuid, classes.get(a.klass)!.oneShot === true);
          return null;
        },
      }),
      method('alert.restore', {
        description: 'Restore dismissed alert `uuid` (CHANGED). An unknown uuid is ignored.',
        args: [arg('uuid', AlertUuid)],
        result: Type.Null(),
        roles: ['ALERT_LIST_WRITE'],
        handler: async (_ctx, uuid) => {
          await store.restore(uuid);
          return null;
        },
      }),
      method('alert.list_categories', {
        description: 'Alert categories with their classes (id, title, default level), classes sorted by title; empty categories left out.',
        args: [arg('options', Type.Object({ include_all_products: Type.Optional(Type.Boolean()), include_hidden_classes: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), { default: {} })],
        result: AlertCategories,
        roles: ['ALERT_LIST_READ'],
        handler: () => Object.entries(ALERT_CATEGORIES).map(([id, title]) => ({
          id,
          title,
          classes: [...classes.values()].filter((c) => c.category === (id as AlertCategoryT))
            .sort((a, b) => a.title.localeCompare(b.title))
            .map((c) => ({ id: c.name, title: c.title, level: c.level, proactive_support: false })),
        })).filter((c) => c.classes.length > 0),
      }),
      method('alert.list_policies', {
        description: 'The alert policies: IMMEDIATELY (the default), HOURLY, DAILY, NEVER.',
        args: [],
        result: AlertPolicies,
        roles: ['ALERT_LIST_READ'],
        handler: () => [...ALERT_POLICIES],
      }),
      method('alert.process_alerts', {
        description: 'Run alert sources now (all when `sources` is empty) and wait for them; reports how many alerts each found, or its error.',
        args: [arg('sources', Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 }), { default: [] })],
        result: ProcessAlertsResult,
        roles: ['ALERT_WRITE'],
        handler: async (_ctx, names) => {
          const unknown = names.filter((n) => !app.alerts.sources.has(n));
          if (unknown.length > 0) throw new ValidationErrors(unknown.map((n) => [`sources.${names.indexOf(n)}`, `Unknown alert source '${n}'`, ERRNO.EINVAL]));
          if (runner === null) throw new CallError('Alert sources are not running yet', ERRNO.EAGAIN);
          return runner.runNow(names);
        },
      }),
      method('alertclasses.config', {
        description: 'Per class level and policy overrides (TrueNAS), and the settings of each alert source (thresholds; a Midship extension).',
        args: [],
        result: AlertClassesConfig,
        handler: () => settings.config(),
      }),
      method('alertclasses.update', {
        description: 'Set `classes` (per class level and policy; replaces the overrides) and/or `sources` (per source settings; merged). Returns the config.',
        args: [arg('alertclasses_update', AlertClassesUpdate)],
        result: AlertClassesConfig,
        handler: async (_ctx, data) => {
          const before = new Map([...store.all()].map((a) => [a.uuid, { shown: visible(a), level: settings.level(a.klass) }]));
          await settings.update(data);
          resettle(before);
          return settings.config();
        },
      }),
      ...services.methods,
    ],
    events: [{ name: ALERT_EVENT, description: 'Alerts added, changed (dismissed, restored) or removed (cleared); id is the alert\'s uuid.', roles: ['ALERT_LIST_READ'] }, ...services.events],
    alerts: { classes: [SOURCE_FAILED, ...builtin.classes, ...services.classes], sources: builtin.sources },
    async start() {
      await settings.load();
      runner = new SourceRunner(app.alerts.sources.values(), runnerDeps);
      const dropped = await store.load((a) => classes.has(a.klass) && (a.source === '' || app.alerts.sources.has(a.source)));
      if (dropped.length > 0) app.log.info({ alerts: dropped.length }, 'stored alerts of classes or sources no module declares any more were deleted');
      await services.start();
      await app.alerts.serve({
        raise: (klass, args) => store.raise({ klass, args, key: keyOf(klass, args) }, clock.now()),
        clear: (klass, args) => store.clear(klass, keyOf(klass, args)),
      });
      await builtin.start();
      // Sources may ask other modules: they start once every module has.
      void app.alerts.ready.then(async () => {
        runner?.start();
        await builtin.ready();
      }).catch((err: unknown) => app.log.error({ err }, 'starting the alert checks failed'));
    },
    async stop() {
      await runner?.stop();
      await builtin.stop();
      await store.idle();
      await app.alerts.serve(null);
      await services.stop();
    },
  };
}
