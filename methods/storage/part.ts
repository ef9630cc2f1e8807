// One namespace's share of the storage module: the storage module (index.ts) joins the parts
// into one ModuleDef, so they share one ZFS driver, one set of pool records and one clock.
import type { EventDef, MethodDef, ServiceDef } from '#midship/module-api';

export interface Part {
  services: ServiceDef[];
  methods: MethodDef[];
  events?: EventDef[];
  /** After the context opened (the driver and pool records are there), in the order of the parts. */
  start?(): Promise<void> | void;
  /** In reverse order, before the context closes. */
  stop?(): Promise<void> | void;
}
