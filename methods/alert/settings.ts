// alertclasses: per class a level and a policy overriding the class's defaults (TrueNAS), and per
// alert source its settings, e.g. thresholds (a Midship extension). One record in level.
import { Value } from '@sinclair/typebox/value';
import { ValidationErrors, type AlertClassDef, type AlertSourceDef, type Sublevel } from '#midship/module-api';
import type { AlertClassSettingT, AlertClassesConfigT, AlertClassesUpdateT, AlertLevelT, AlertPolicyT } from '../../schemas/alert.js';

interface StoredSettings {
  classes: Record<string, AlertClassSettingT>;
  sources: Record<string, Record<string, unknown>>;
}

const KEY = 'config';
const ATTR = 'alertclasses_update';

export class AlertSettings {
  #stored: StoredSettings = { classes: {}, sources: {} };
  /** Effective settings per source, defaults filled in. */
  readonly #sourceSettings = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly db: Sublevel<StoredSettings>,
    private readonly classes: ReadonlyMap<string, AlertClassDef>,
    private readonly sources: ReadonlyMap<string, AlertSourceDef>,
  ) {}

  async load(): Promise<void> {
    this.#stored = (await this.db.get(KEY)) ?? { classes: {}, sources: {} };
    for (const s of this.sources.values()) this.#sourceSettings.set(s.name, this.#effective(s, this.#stored.sources[s.name] ?? {}));
  }

  level(klass: string): AlertLevelT {
    return this.#stored.classes[klass]?.level ?? this.classes.get(klass)?.level ?? 'WARNING';
  }

  policy(klass: string): AlertPolicyT {
    return this.#stored.classes[klass]?.policy ?? 'IMMEDIATELY';
  }

  source(name: string): Record<string, unknown> {
    return this.#sourceSettings.get(name) ?? {};
  }

  config(): AlertClassesConfigT {
    return { id: 1, classes: structuredClone(this.#stored.classes), sources: Object.fromEntries([...this.#sourceSettings].filter(([, v]) => Object.keys(v).length > 0).map(([k, v]) => [k, { ...v }])) };
  }

  /** Checks and stores an update: `classes` replaces the overrides, `sources` merges setting by setting. */
  async update(data: AlertClassesUpdateT): Promise<void> {
    const errors = new ValidationErrors();
    const next: StoredSettings = { classes: this.#stored.classes, sources: { ...this.#stored.sources } };
    const effective = new Map<string, Record<string, unknown>>();
    if (data.classes !== undefined) {
      for (const name of Object.keys(data.classes)) {
        if (!this.classes.has(name)) errors.add(`${ATTR}.classes.${name}`, `Unknown alert class '${name}'`);
      }
      next.classes = structuredClone(data.classes);
    }
    for (const [name, given] of Object.entries(data.sources ?? {})) {
      const source = this.sources.get(name);
      const attr = `${ATTR}.sources.${name}`;
      const props = (source?.settings?.properties ?? {}) as Record<string, unknown>;
      if (!source || Object.keys(props).length === 0) {
        errors.add(attr, source ? `Alert source '${name}' has no settings` : `Unknown alert source '${name}'`);
        continue;
      }
      for (const key of Object.keys(given)) if (!(key in props)) errors.add(`${attr}.${key}`, `Unknown setting; '${name}' has ${Object.keys(props).join(', ')}`);
      const merged = { ...next.sources[name], ...given };
      const value = this.#effective(source, merged);
      for (const e of Value.Errors(source.settings!, value)) errors.add(`${attr}${e.path.replaceAll('/', '.')}`, e.message);
      next.sources[name] = merged;
      effective.set(name, value);
    }
    errors.throwIfAny();
    await this.db.put(KEY, next);
    this.#stored = next;
    for (const [name, value] of effective) this.#sourceSettings.set(name, value);
  }

  #effective(source: AlertSourceDef, stored: Record<string, unknown>): Record<string, unknown> {
    if (!source.settings) return {};
    return Value.Default(source.settings, structuredClone(stored)) as Record<string, unknown>;
  }
}
