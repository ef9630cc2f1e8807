// core.*: connection options, introspection and subscriptions (PROTOCOL.md 4.1, 6.8-6.11).
import { arg, CallError, ERRNO, mayCall, method, type App, type CallContext, type ModuleDef } from '#midship/module-api';
import { EventName, MethodsResult, Options, OptionsResult, PingResult, ServiceFilter, ServicesResult, SubscriptionId, Target, UnsubscribeResult } from '../schemas/core.js';

function connectionOf(ctx: CallContext) {
  if (ctx.connection === null) throw new CallError('This method needs a client connection', ERRNO.EINVAL);
  return ctx.connection;
}

export function coreModule(app: App): ModuleDef {
  return {
    services: [{ name: 'core', type: 'service', cliDescription: 'Connection, introspection, subscriptions and jobs' }],
    methods: [
      method('core.ping', {
        description: 'Answers "pong": a cheap liveness check.',
        args: [],
        result: PingResult,
        noAuth: true,
        handler: () => 'pong' as const,
      }),

      method('core.set_options', {
        description: 'Set options of this connection: legacy_jobs (job calls return the job id at once), private_methods, py_exceptions. Returns the resulting options.',
        args: [arg('options', Options)],
        result: OptionsResult,
        noAuth: true,
        handler: (ctx, options) => {
          const conn = connectionOf(ctx);
          Object.assign(conn.options, options);
          return { ...conn.options };
        },
      }),

      method('core.get_methods', {
        description: 'Every public method the caller may call, with description, argument and result schemas, roles and whether it is a job.',
        args: [arg('service', ServiceFilter, { default: null }), arg('target', Target, { default: 'WS' })],
        result: MethodsResult,
        authOnly: true,
        handler: (ctx, service, target) => {
          const out: Record<string, Record<string, unknown>> = {};
          const names = [...app.registry.methods.keys()].sort();
          for (const name of names) {
            const m = app.registry.methods.get(name)!;
            if (m.def.private) continue;
            if (target === 'CLI' && m.def.cliPrivate) continue;
            if (service !== null && name.slice(0, name.lastIndexOf('.')) !== service) continue;
            if (!mayCall(ctx.credentials, m)) continue;
            out[name] = app.registry.describe(m);
          }
          return out;
        },
      }),

      method('core.get_services', {
        description: 'Every public service with its type and settings.',
        args: [arg('target', Target, { default: 'WS' })],
        result: ServicesResult,
        authOnly: true,
        handler: () => {
          const out: Record<string, { config: Record<string, unknown>; type: string }> = {};
          for (const s of [...app.registry.services.values()].sort((a, b) => a.name.localeCompare(b.name))) {
            if (s.private) continue;
            out[s.name] = {
              type: s.type,
              config: {
                namespace: s.name,
                private: false,
                cli_namespace: s.name,
                cli_private: false,
                cli_description: s.cliDescription ?? null,
                verbose_name: s.name.split('.').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' '),
                role_prefix: s.rolePrefix ?? null,
              },
            };
          }
          return out;
        },
      }),

      method('core.subscribe', {
        description: 'Subscribe this connection to an event ("core.get_jobs"), an event source with arguments ("name:{json}") or "*" (full admins). Returns the subscription id; events arrive as collection_update notifications.',
        args: [arg('event', EventName)],
        result: SubscriptionId,
        authOnly: true,
        handler: (ctx, event) => app.events.subscribe(connectionOf(ctx).id, event),
      }),

      method('core.unsubscribe', {
        description: 'End a subscription. Event sources answer with notify_unsubscribed; unknown ids are ignored.',
        args: [arg('id', SubscriptionId)],
        result: UnsubscribeResult,
        authOnly: true,
        handler: (ctx, id) => {
          app.events.unsubscribe(connectionOf(ctx).id, id);
          return null;
        },
      }),
    ],
  };
}
