// alertservice.*: where alerts are sent (Webhook, Slack, Mattermost, Mail), from which level up.
// Each service is one destination of a durable delivery queue (methods/delivery/): an alert
// raised or cleared is queued at once for services whose class policy is IMMEDIATELY, or
// collected into the next HOURLY or DAILY digest; NEVER sends nothing. Attributes are checked per
// type by the delivery engine and their secrets never leave the daemon (responses show ********,
// sent back unchanged on update to keep the stored value). Part of the alert module (alert.ts).
import { hostname as osHostname } from 'node:os';
import {
  arg, method, notFound, queryMethod, Slots, Type,
  type AlertClassDef, type App, type EventDef, type MethodDef, type ServiceDef,
} from '#midship/module-api';
import { ALERT_LEVELS, type AlertLevelT, type AlertT } from '../schemas/alert.js';
import {
  ALERT_SERVICE_TITLES, AlertServiceCreate, AlertServiceEntry, AlertServiceId, AlertServiceUpdate,
  type AlertServiceEntryT,
} from '../schemas/alertservice.js';
import {
  alertEvent, alertServiceTransport, DeliveryQueue, DigestBuffer, HttpSender, keepRedactedSecrets, redactAttributes, testAlertService,
  validateAlertServiceAttributes,
  type AlertMessage, type AlertServiceAttributes, type AlertSummary, type Clock, type HttpSenderOptions, type RetryPolicy,
} from './delivery/index.js';
import { asValidation } from './delivery-errors.js';
import type { AlertChange } from './alert/store.js';

const EVENT = 'alertservice.query';

interface StoredService {
  id: number;
  name: string;
  attributes: AlertServiceAttributes;
  level: AlertLevelT;
  enabled: boolean;
}

export const ALERT_SERVICE_FAILING: AlertClassDef = {
  name: 'AlertServiceFailing',
  category: 'SYSTEM',
  level: 'ERROR',
  title: 'Alert Service Failing',
  text: 'Alert service "%(name)s" (id %(id)d) has failed to deliver for a day: %(error)s',
  key: (a) => (a as { id: number }).id,
};

export interface AlertServicesOptions {
  clock: Clock;
  /** Named in every message; default: the host's name. */
  hostname?: string;
  http?: HttpSenderOptions;
  retry?: Partial<RetryPolicy>;
}

const destination = (id: number) => `alertservice:${id}`;
const idOf = (dest: string) => Number(dest.slice('alertservice:'.length));
const rank = (level: AlertLevelT) => ALERT_LEVELS.indexOf(level);

function summary(a: AlertT): AlertSummary {
  return { uuid: a.uuid, klass: a.klass, level: a.level, formatted: a.formatted, text: a.text, datetime: a.datetime.$date };
}

export interface AlertServices {
  services: ServiceDef[];
  methods: MethodDef[];
  events: EventDef[];
  classes: AlertClassDef[];
  /** An alert was raised, changed or cleared (alert.ts calls it for every change). */
  onAlertChange(change: AlertChange, wire: AlertT, policy: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function alertServices(app: App, o: AlertServicesOptions): AlertServices {
  const db = app.sublevel<StoredService>('alertservice');
  const services = new Map<number, StoredService>();
  const writes = new Slots(1);
  const hostname = o.hostname ?? osHostname();
  const http = new HttpSender(o.http);
  let nextId = 1;
  const fail = (what: string) => (err: unknown) => app.log.error({ err }, what);

  const queue = new DeliveryQueue({
    db: app.sublevel('alertservice.delivery'),
    clock: o.clock,
    ...(o.retry ? { policy: o.retry } : {}),
    onFailing: (f) => {
      const s = services.get(idOf(f.destination));
      if (s) app.alerts.raise(ALERT_SERVICE_FAILING.name, { id: s.id, name: s.name, error: f.lastError ?? `HTTP ${f.lastStatusCode}` }).catch(fail('raising AlertServiceFailing failed'));
    },
    onRecovered: (dest) => void app.alerts.clear(ALERT_SERVICE_FAILING.name, { id: idOf(dest) }).catch(fail('clearing AlertServiceFailing failed')),
    onError: fail('an alert delivery could not be stored'),
  });
  const digests = new DigestBuffer({
    db: app.sublevel('alertservice.digest'),
    hostname,
    clock: o.clock,
    deliver: async (service, message) => {
      await queue.enqueue(service, alertEvent(message.kind), message);
    },
    onError: fail('an alert digest could not be handed on'),
  });
  const deps = { http, hostname };

  const entry = (s: StoredService): AlertServiceEntryT => ({
    id: s.id, name: s.name, attributes: redactAttributes(s.attributes), level: s.level, enabled: s.enabled, type__title: ALERT_SERVICE_TITLES[s.attributes.type] ?? s.attributes.type,
  });
  const instance = (id: number) => {
    const s = services.get(id);
    if (!s) throw notFound(`Alert service ${id} does not exist`);
    return s;
  };
  const emit = (msg: 'added' | 'changed' | 'removed', s: StoredService) => app.events.emit(EVENT, msg, s.id, msg === 'removed' ? undefined : entry(s));

  const enqueue = (s: StoredService, message: AlertMessage) =>
    queue.enqueue(destination(s.id), alertEvent(message.kind), message).catch(fail(`queueing an alert for service ${s.id} failed`));

  return {
    services: [{ name: 'alertservice', type: 'crud', rolePrefix: 'ALERT', cliDescription: 'Where alerts are sent' }],
    methods: [
      queryMethod('alertservice.query', 'Alert services (secret attributes shown as ********).', () => [...services.values()].map(entry)),
      method('alertservice.get_instance', {
        description: 'One alert service by id.',
        args: [arg('id', AlertServiceId)],
        result: AlertServiceEntry,
        handler: (_ctx, id) => entry(instance(id)),
      }),
      method('alertservice.create', {
        description: 'Add an alert service: name, attributes ({type, ...} per type), level (alerts from this level up are sent), enabled. Returns it.',
        args: [arg('alert_service_create', AlertServiceCreate)],
        result: AlertServiceEntry,
        handler: (_ctx, data) => writes.run(async () => {
          const attributes = asValidation(() => validateAlertServiceAttributes(data.attributes, 'alert_service_create.attributes'));
          const s: StoredService = { id: nextId++, name: data.name, attributes, level: data.level, enabled: data.enabled ?? true };
          await db.put(String(s.id).padStart(10, '0'), s);
          services.set(s.id, s);
          queue.setDestination(destination(s.id), alertServiceTransport(attributes, deps));
          emit('added', s);
          return entry(s);
        }),
      }),
      method('alertservice.update', {
        description: 'Change alert service `id`: given fields replace the stored ones; a secret attribute sent back as ******** keeps its value. Returns it.',
        args: [arg('id', AlertServiceId), arg('alert_service_update', AlertServiceUpdate)],
        result: AlertServiceEntry,
        handler: (_ctx, id, data) => writes.run(async () => {
          const old = instance(id);
          const attributes = data.attributes === undefined
            ? old.attributes
            : asValidation(() => validateAlertServiceAttributes(keepRedactedSecrets(data.attributes, old.attributes), 'alert_service_update.attributes'));
          const s: StoredService = { ...old, ...(data.name !== undefined ? { name: data.name } : {}), ...(data.level !== undefined ? { level: data.level } : {}), ...(data.enabled !== undefined ? { enabled: data.enabled } : {}), attributes };
          await db.put(String(id).padStart(10, '0'), s);
          services.set(id, s);
          if (attributes !== old.attributes) queue.setDestination(destination(id), alertServiceTransport(attributes, deps));
          emit('changed', s);
          return entry(s);
        }),
      }),
      method('alertservice.delete', {
        description: 'Remove alert service `id`, with what waits to be sent to it. Returns true.',
        args: [arg('id', AlertServiceId)],
        result: Type.Boolean(),
        handler: (_ctx, id) => writes.run(async () => {
          const s = instance(id);
          await db.del(String(id).padStart(10, '0'));
          services.delete(id);
          await queue.removeDestination(destination(id));
          await digests.removeService(destination(id));
          await app.alerts.clear(ALERT_SERVICE_FAILING.name, { id });
          emit('removed', s);
          return true;
        }),
      }),
      method('alertservice.test', {
        description: 'Send a test alert with these settings now (not stored, not retried); true when it was accepted.',
        args: [arg('alert_service_create', AlertServiceCreate)],
        result: Type.Boolean(),
        roles: ['ALERT_WRITE'],
        handler: async (_ctx, data) => {
          const attributes = asValidation(() => validateAlertServiceAttributes(data.attributes, 'alert_service_create.attributes'));
          const outcome = await testAlertService(attributes, deps, o.clock);
          if (outcome.verdict !== 'delivered') app.log.info({ type: attributes.type, error: outcome.error, status: outcome.statusCode }, 'alert service test failed');
          return outcome.verdict === 'delivered';
        },
      }),
    ],
    events: [{ name: EVENT, description: 'Alert services added, changed or removed (secrets redacted).', roles: ['ALERT_READ'] }],
    classes: [ALERT_SERVICE_FAILING],

    onAlertChange(change, wire, policy) {
      const raised = change.kind === 'added';
      const cleared = change.kind === 'removed' && change.reason === 'cleared';
      if ((!raised && !cleared) || policy === 'NEVER') return;
      const a = summary(wire);
      for (const s of services.values()) {
        if (!s.enabled || rank(a.level) < rank(s.level)) continue;
        if (policy === 'HOURLY' || policy === 'DAILY') {
          digests.add(destination(s.id), policy, raised ? 'raised' : 'cleared', a).catch(fail(`collecting an alert for service ${s.id} failed`));
        } else {
          void enqueue(s, { kind: 'IMMEDIATE', hostname, raised: raised ? [a] : [], cleared: cleared ? [a] : [], period: null, omitted: 0 });
        }
      }
    },

    async start() {
      for await (const [, s] of db.iterator()) services.set(s.id, s);
      nextId = Math.max(0, ...services.keys()) + 1;
      await queue.open();
      for (const s of services.values()) queue.setDestination(destination(s.id), alertServiceTransport(s.attributes, deps));
      // What waits for a service deleted while the daemon was down cannot be sent anywhere.
      for (const d of queue.destinations()) if (!services.has(idOf(d))) await queue.removeDestination(d);
      await digests.open();
    },
    async stop() {
      await digests.close();
      await queue.close();
      await http.close();
    },
  };
}
