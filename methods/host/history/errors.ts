// Bad input to the history queries, carried as values the method layer maps to the wire
// (ValidationErrors with the attribute, CallError ENOENT), since this folder knows no engine.

/** An argument of reporting.get_data that cannot be answered; `attribute` names it. */
export class ReportingQueryError extends Error {
  constructor(readonly attribute: string, message: string) {
    super(message);
    this.name = 'ReportingQueryError';
  }
}

/** A graph name that is not kept (TrueNAS answers CallError ENOENT with this text). */
export class UnknownGraphError extends Error {
  constructor(readonly graph: string) {
    super(`'${graph}' is not a valid graph plugin.`);
    this.name = 'UnknownGraphError';
  }
}
