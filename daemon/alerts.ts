// Alert classes and alert sources that modules declare (ModuleDef.alerts), and raise/clear for
// any module. The engine keeps no alert: it collects the declarations and hands raise/clear to
// the module that serves alerts (methods/alert.ts), which stores them, lists them and sends them
// on. Calls made before that module started wait, in order; without such a module they are
// dropped, so a module can raise whatever modules the daemon was given.
import type { Static, TObject } from '@sinclair/typebox';
import type { AlertCategoryT, AlertLevelT } from '../schemas/alert.js';
import type { Logger } from './log.js';

export interface AlertClassDef {
  /** TrueNAS's style: `CronJobFailed`, `VolumeStatus`. */
  name: string;
  category: AlertCategoryT;
  /** Default level; alertclasses.update can change it per class. */
  level: AlertLevelT;
  title: string;
  /**
   * Text template: `%(field)s` / `%(field)d` take fields of object args, `%s` / `%d` a scalar
   * args or the items of array args in turn, `%%` is a percent sign. Default: the title.
   */
  text?: string;
  /**
   * Raised for something that happened (a job failed) rather than found by a source: it stays
   * until cleared, and dismissing it deletes it.
   */
  oneShot?: boolean;
  /** What tells alerts of this class apart (default: the args themselves). clear() matches on it. */
  key?: (args: unknown) => unknown;
}

export interface AlertDraft {
  klass: string;
  args?: unknown;
}

export interface AlertSourceContext<S> {
  /** The source's settings as configured (alertclasses.update `sources`), defaults filled in. */
  settings: S;
  /** The alert module's clock (tests move it), ms. */
  now: number;
  /** Aborted when the daemon stops. */
  signal: AbortSignal;
}

export interface AlertSourceDef<S extends TObject = TObject> {
  name: string;
  /** Seconds between runs (default 60); 0: only when asked (alert.process_alerts). */
  interval?: number;
  /** Settings (thresholds) with their defaults, as a TypeBox object schema. */
  settings?: S;
  /**
   * The alerts whose condition holds now. An alert the previous run reported and this one does
   * not is cleared; one reported again keeps its uuid. Throwing keeps the previous alerts.
   */
  check(ctx: AlertSourceContext<Static<S>>): Promise<AlertDraft[]> | AlertDraft[];
}

/** An alert source, its settings typed from their schema (the list of ModuleDef.alerts is not). */
export function alertSource<S extends TObject>(def: AlertSourceDef<S>): AlertSourceDef {
  return def as unknown as AlertSourceDef;
}

/** What the module serving alerts does with raise/clear; resolves once the change is stored. */
export interface AlertBackend {
  raise(klass: string, args: unknown): Promise<void>;
  clear(klass: string, args: unknown): Promise<void>;
}

/** The alert framework as modules see it (App.alerts). */
export interface Alerts {
  /**
   * Raise the alert of class `klass` for `args` (or refresh it: same key, same uuid). Resolves
   * once it is stored; before the alert module started, at once (it is handed over then).
   */
  raise(klass: string, args?: unknown): Promise<void>;
  /** Clear the alert of `klass` whose key matches `args`'s (nothing there: nothing happens). */
  clear(klass: string, args?: unknown): Promise<void>;
  readonly classes: ReadonlyMap<string, AlertClassDef>;
  readonly sources: ReadonlyMap<string, AlertSourceDef>;
  /** The alert module takes raise/clear over; what waited is handed to it in order. */
  serve(backend: AlertBackend | null): Promise<void>;
  /** Resolves once the daemon listens (every module started): sources may then call other modules. */
  readonly ready: Promise<void>;
}

/** raise/clear calls kept while no module serves alerts; past this the oldest are dropped. */
const MAX_WAITING = 1000;

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

export class AlertHub implements Alerts {
  readonly classes = new Map<string, AlertClassDef>();
  readonly sources = new Map<string, AlertSourceDef>();
  readonly ready: Promise<void>;
  #backend: AlertBackend | null = null;
  #waiting: Array<{ op: 'raise' | 'clear'; klass: string; args: unknown }> = [];
  #dropped = 0;
  #markReady!: () => void;

  constructor(private readonly log: Logger) {
    this.ready = new Promise<void>((resolve) => (this.#markReady = resolve));
  }

  addClass(c: AlertClassDef): void {
    if (!NAME.test(c.name)) throw new Error(`alert class name '${c.name}' is not a name (letters, digits, _)`);
    if (this.classes.has(c.name)) throw new Error(`alert class ${c.name} declared twice`);
    this.classes.set(c.name, c);
  }

  addSource(s: AlertSourceDef): void {
    if (!NAME.test(s.name)) throw new Error(`alert source name '${s.name}' is not a name (letters, digits, _)`);
    if (this.sources.has(s.name)) throw new Error(`alert source ${s.name} declared twice`);
    this.sources.set(s.name, s);
  }

  /** The daemon listens. */
  started(): void {
    this.#markReady();
  }

  raise(klass: string, args: unknown = null): Promise<void> {
    return this.#pass('raise', klass, args);
  }

  clear(klass: string, args: unknown = null): Promise<void> {
    return this.#pass('clear', klass, args);
  }

  async serve(backend: AlertBackend | null): Promise<void> {
    if (backend === null) {
      this.#backend = null;
      return;
    }
    if (this.#dropped > 0) this.log.warn({ dropped: this.#dropped }, 'alert raises and clears made before alerts were served were dropped (too many)');
    // Calls made while the waiting ones are handed over queue behind them: order is kept.
    for (let w = this.#waiting.shift(); w !== undefined; w = this.#waiting.shift()) {
      try {
        await backend[w.op](w.klass, w.args);
      } catch (err) {
        this.log.error({ err, klass: w.klass }, `an alert ${w.op} made at start failed`);
      }
    }
    this.#backend = backend;
  }

  #pass(op: 'raise' | 'clear', klass: string, args: unknown): Promise<void> {
    // A class nobody declared is a bug in the caller: fail loudly rather than lose the alert.
    if (!this.classes.has(klass)) return Promise.reject(new Error(`alert class ${klass} is not declared by any module`));
    if (this.#backend !== null) return this.#backend[op](klass, args);
    if (this.#waiting.length >= MAX_WAITING) {
      this.#waiting.shift();
      this.#dropped++;
    }
    this.#waiting.push({ op, klass, args });
    return Promise.resolve();
  }
}
