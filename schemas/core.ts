// Argument and result schemas of the core.* connection, introspection and subscription methods
// (PROTOCOL.md 4.1, 6.8-6.11). The job methods of core.* are in jobs.ts.
import { Type } from '@sinclair/typebox';

/** Which client a method listing is for: CLI leaves out cli_private methods. */
export const Target = Type.Union([Type.Literal('WS'), Type.Literal('CLI'), Type.Literal('REST')]);

/** core.set_options argument: only the options given change. */
export const Options = Type.Object(
  {
    legacy_jobs: Type.Optional(Type.Boolean()),
    private_methods: Type.Optional(Type.Boolean()),
    py_exceptions: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** The connection's options after core.set_options. */
export const OptionsResult = Type.Object({ legacy_jobs: Type.Boolean(), private_methods: Type.Boolean(), py_exceptions: Type.Boolean() });

export const PingResult = Type.Literal('pong');

/** core.get_methods `service`: only the methods of this service; null: every service. */
export const ServiceFilter = Type.Union([Type.String(), Type.Null()]);

/** Method name -> its description, schemas, roles and flags. */
export const MethodsResult = Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()));

/** Service name -> its type and settings. */
export const ServicesResult = Type.Record(Type.String(), Type.Object({ config: Type.Record(Type.String(), Type.Unknown()), type: Type.String() }));

/** An event name, "name:{json args}" for an event source, or "*". */
export const EventName = Type.String({ minLength: 1 });

export const SubscriptionId = Type.String();

export const UnsubscribeResult = Type.Null();
