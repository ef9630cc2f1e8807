// Method and event definitions, and the registry that holds them. A module is a factory that
// receives the App of module-api.ts and returns its definitions; the engine never imports a
// module, it is handed them (main.ts, tests).
import type { TSchema } from '@sinclair/typebox';
import type { AlertClassDef, AlertSourceDef } from './alerts.js';
import type { App, MethodCatalog } from './module-api.js';
import { hasAnyRole, type Credentials } from './auth/credentials.js';
import type { JobHandle } from './jobs/handle.js';
import { argsJsonSchema, plainSchema, type ArgSpec, type ArgsOf, type ArgsValidator, type JsonSchema, type SchemaCompiler } from './schema.js';
import type { ValidateFunction } from 'ajv';
import { redactBySchema, type Redactor } from './redact.js';

/** What a handler knows about the call it serves. */
export interface CallContext {
  credentials: Credentials | null;
  /** The connection the call came over (null for internal calls). */
  connection: ConnectionInfo | null;
  /** The JSON-RPC id (or legacy id) of the request, if any. */
  messageId: string | number | null | undefined;
  /** The job this call runs inside (internal calls from a job handler). */
  parentJob: JobHandle | null;
}

/** Per-connection switches set by core.set_options (PROTOCOL.md 4.1). */
export interface ConnectionOptions {
  legacy_jobs: boolean;
  private_methods: boolean;
  py_exceptions: boolean;
}

export interface ConnectionInfo {
  id: string;
  /** Mutable: core.set_options changes it for the rest of the connection. */
  options: ConnectionOptions;
  protocol: 'jsonrpc' | 'legacy';
  /** Who the connection is; changed by logins and logouts (through the AuthService). */
  credentials: Credentials | null;
  /** End the connection (e.g. its API key was revoked). */
  close(code: number, reason: string): void;
  transport: 'tcp' | 'unix';
  remoteAddress: string;
  /** Origin used to bind tokens: the remote address, or 'unix'. */
  origin: string;
}

/** lock_queue_size of a job method that does not set one (PROTOCOL.md 5.6). */
export const DEFAULT_LOCK_QUEUE_SIZE = 5;

export interface JobOptions<A extends unknown[] = unknown[]> {
  /** Jobs with the same lock run one at a time, in submission order. */
  lock?: string | ((args: A) => string | null);
  /** 0: refuse while one runs; N: coalesce beyond N waiting; null: unlimited. Default DEFAULT_LOCK_QUEUE_SIZE. */
  lockQueueSize?: number | null;
  abortable?: boolean;
  logs?: boolean;
  transient?: boolean;
  /** Human title from the raw arguments. */
  description?: (args: A) => string | null;
  /** The job's first tags, from its arguments (core.job_update changes them later). */
  tags?: (args: A) => string[];
  /** Roles that may read (list, follow) jobs of this method besides the owner. */
  readRoles?: string[];
  /** The job writes an output stream that core.download serves. */
  downloadable?: boolean;
  /**
   * How the job's arguments and result are kept (stored, in core.get_jobs, in its events) when the
   * method's own schema cannot tell the secrets (core.bulk: by its inner method's schemas). The
   * caller of a new-style call still gets the result as returned.
   */
  redactArgs?: (args: A) => unknown[];
  redactResult?: (result: unknown, args: A) => unknown;
}

interface MethodCommon<A extends readonly ArgSpec[], R extends TSchema> {
  description: string;
  args: A;
  result: R;
  /** Roles granting the call; omitted: derived from the module's rolePrefix, else full admin only. */
  roles?: string[];
  /** Callable before login (PROTOCOL.md 8.1). */
  noAuth?: boolean;
  /** A login: throttled per account and address by the auth service, not by the per-address limit on anonymous calls. */
  login?: boolean;
  /** Any logged-in session may call it. */
  authOnly?: boolean;
  /** Hidden from core.get_methods; callable internally only. */
  private?: boolean;
  filterable?: boolean;
  cliPrivate?: boolean;
  examples?: Record<string, string[]>;
  /** Whether a successful call is written to the audit trail; default: true unless read-only. */
  audit?: boolean;
}

export interface PlainMethodSpec<A extends readonly ArgSpec[], R extends TSchema> extends MethodCommon<A, R> {
  job?: undefined;
  handler: (ctx: CallContext, ...args: ArgsOf<A>) => unknown;
}

export interface JobMethodSpec<A extends readonly ArgSpec[], R extends TSchema> extends MethodCommon<A, R> {
  job: JobOptions<ArgsOf<A>>;
  handler: (ctx: CallContext, job: JobHandle, ...args: ArgsOf<A>) => unknown;
}

/** A registered method, type-erased. */
export interface MethodDef {
  name: string;
  description: string;
  args: readonly ArgSpec[];
  result: TSchema;
  roles?: string[];
  noAuth: boolean;
  login: boolean;
  authOnly: boolean;
  private: boolean;
  filterable: boolean;
  cliPrivate: boolean;
  examples: Record<string, string[]>;
  audit: boolean | undefined;
  job: JobOptions | null;
  handler: (ctx: CallContext, ...rest: never[]) => unknown;
}

export function method<const A extends readonly ArgSpec[], R extends TSchema>(name: string, spec: PlainMethodSpec<A, R>): MethodDef;
export function method<const A extends readonly ArgSpec[], R extends TSchema>(name: string, spec: JobMethodSpec<A, R>): MethodDef;
export function method(name: string, spec: PlainMethodSpec<readonly ArgSpec[], TSchema> | JobMethodSpec<readonly ArgSpec[], TSchema>): MethodDef {
  const def: MethodDef = {
    name,
    description: spec.description,
    args: spec.args,
    result: spec.result,
    noAuth: spec.noAuth ?? false,
    login: spec.login ?? false,
    authOnly: spec.authOnly ?? false,
    private: spec.private ?? false,
    filterable: spec.filterable ?? false,
    cliPrivate: spec.cliPrivate ?? false,
    examples: spec.examples ?? {},
    audit: spec.audit,
    job: (spec.job as JobOptions | undefined) ?? null,
    handler: spec.handler as MethodDef['handler'],
  };
  if (spec.roles !== undefined) def.roles = spec.roles;
  return def;
}

/** Context of one run of a parameterised event source (`name:{json-args}`). */
export interface SourceContext {
  credentials: Credentials | null;
  /** The name as subscribed, including the `:{args}` suffix. */
  collection: string;
  signal: AbortSignal;
  emit(msg: 'added' | 'changed' | 'removed', id: unknown, fields?: unknown, extra?: Record<string, unknown>): void;
}

export interface EventDef {
  name: string;
  description: string;
  roles?: string[];
  /** Any logged-in session may subscribe. */
  authOnly?: boolean;
  private?: boolean;
  /** Present for event sources: runs per subscription, ends with notify_unsubscribed. */
  source?: {
    args: TSchema;
    run(ctx: SourceContext, args: unknown): Promise<void>;
  };
}

export interface ServiceDef {
  name: string;
  type: 'service' | 'config' | 'crud';
  /** `<PREFIX>_READ` / `<PREFIX>_WRITE` derive the roles of query/get_instance/create/update/delete. */
  rolePrefix?: string;
  cliDescription?: string;
  private?: boolean;
}

export interface ModuleDef {
  services: ServiceDef[];
  methods: MethodDef[];
  events?: EventDef[];
  /**
   * Roles the module checks outside its methods and events (an HTTP route, a WebSocket path):
   * declared so accounts may be granted them (user.create refuses roles nobody declares).
   */
  roles?: string[];
  /** Alert classes the module raises, and sources the alert module runs (daemon/alerts.ts). */
  alerts?: { classes?: AlertClassDef[]; sources?: AlertSourceDef[] };
  /** Called once all modules are registered and the daemon is about to listen. */
  start?(): Promise<void> | void;
  /** Called once every module has started and the daemon listens (system.state READY). */
  ready?(): Promise<void> | void;
  /** Called first on shutdown, before the listeners and connections close (system.state SHUTTING_DOWN). */
  stopping?(): Promise<void> | void;
  /** Called on shutdown, before the database closes. */
  stop?(): Promise<void> | void;
}

export type ModuleFactory = (app: App) => ModuleDef | Promise<ModuleDef>;

/** A method ready to run: schemas compiled, roles resolved. */
export interface RegisteredMethod {
  def: MethodDef;
  roles: string[];
  validateArgs: ArgsValidator;
  validateResult: ValidateFunction | null;
  redactArgs: Redactor;
  redactResult: Redactor;
  /** Whether the call changes state (for the audit trail and read-only roles). */
  writes: boolean;
  /** `<PREFIX>_WRITE` of the method's service: callers without it see results redacted. */
  writeRole: string | null;
}

/**
 * Whether `credentials` may call `m`: the one authorization rule, for the dispatcher, core.bulk,
 * core.download and core.get_methods alike. No-auth methods are open to all, auth-only ones to
 * any session, the rest to holders of one of their roles.
 */
export function mayCall(credentials: Credentials | null, m: RegisteredMethod): boolean {
  if (m.def.noAuth) return true;
  if (credentials === null) return false;
  return m.def.authOnly || hasAnyRole(credentials, m.roles);
}

const READ_VERBS = new Set(['query', 'get_instance', 'config']);
const WRITE_VERBS = new Set(['create', 'update', 'delete']);

function verbOf(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function serviceOf(name: string): string {
  return name.slice(0, name.lastIndexOf('.'));
}

export class Registry implements MethodCatalog {
  readonly methods = new Map<string, RegisteredMethod>();
  readonly services = new Map<string, ServiceDef>();
  readonly events = new Map<string, EventDef>();
  /** Every role a method or event names (a module's own areas beyond the vocabulary among them). */
  readonly declaredRoles = new Set<string>();

  constructor(private readonly compiler: SchemaCompiler, private readonly validateResults: boolean) {}

  addService(s: ServiceDef): void {
    this.services.set(s.name, s);
  }

  addMethod(def: MethodDef): void {
    if (this.methods.has(def.name)) throw new Error(`method ${def.name} registered twice`);
    if (!def.name.includes('.')) throw new Error(`method name ${def.name} has no namespace`);
    const service = this.services.get(serviceOf(def.name));
    const roles = def.roles ?? this.derivedRoles(def.name, service);
    const verb = verbOf(def.name);
    for (const r of [...roles, ...(def.job?.readRoles ?? [])]) this.declaredRoles.add(r);
    const writes = !(READ_VERBS.has(verb) || verb.endsWith('_choices') || roles.length > 0 && roles.every((r) => r.endsWith('_READ')));
    this.methods.set(def.name, {
      def,
      roles,
      validateArgs: this.compiler.compileArgs(def.args),
      validateResult: this.validateResults ? this.compiler.compile(def.result) : null,
      redactArgs: redactBySchema(def.args.map((a) => a.schema)),
      redactResult: redactBySchema(def.result),
      writes: def.noAuth || def.authOnly ? def.audit === true : writes,
      writeRole: service?.rolePrefix ? `${service.rolePrefix}_WRITE` : null,
    });
  }

  addEvent(def: EventDef): void {
    if (this.events.has(def.name)) throw new Error(`event ${def.name} registered twice`);
    this.events.set(def.name, def);
    for (const r of def.roles ?? []) this.declaredRoles.add(r);
  }

  /** Roles a module checks on its own (ModuleDef.roles). */
  addRoles(roles: readonly string[]): void {
    for (const r of roles) this.declaredRoles.add(r);
  }

  get(name: string): RegisteredMethod | undefined {
    return this.methods.get(name);
  }

  private derivedRoles(name: string, service: ServiceDef | undefined): string[] {
    const prefix = service?.rolePrefix;
    if (!prefix) return [];
    const verb = verbOf(name);
    if (READ_VERBS.has(verb) || verb.endsWith('_choices')) return [`${prefix}_READ`];
    if (WRITE_VERBS.has(verb)) return [`${prefix}_WRITE`];
    return [`${prefix}_WRITE`];
  }

  /** core.get_methods metadata for one method (PROTOCOL.md 6.10). */
  describe(m: RegisteredMethod): Record<string, unknown> {
    const d = m.def;
    return {
      description: d.description,
      cli_description: d.description.split('\n')[0] ?? null,
      examples: d.examples,
      no_auth_required: d.noAuth,
      no_authz_required: d.authOnly,
      cli_private: d.cliPrivate,
      filterable: d.filterable,
      filterable_schema: null,
      pass_application: false,
      job: d.job !== null,
      downloadable: d.job?.downloadable ?? false,
      uploadable: false,
      check_pipes: d.job?.downloadable ?? false,
      roles: m.roles,
      accepts: argsJsonSchema(d.args),
      returns: plainSchema(d.result) as JsonSchema,
    };
  }
}
