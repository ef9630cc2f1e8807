// reporting.* arguments and results (MODULES.md §2). The payload and get_data shapes are in
// schemas/host/, where the host readers (methods/host) that build them find them too.
import { Type } from '@sinclair/typebox';
import { GetDataResponse, GraphIdentifier, ReportingQuery } from './host/reporting.js';

export { GetDataResponse, GraphIdentifier, GraphsItem, ReportingQuery } from './host/reporting.js';
export { RealtimePayload } from './host/realtime.js';

/** The longest reporting.realtime interval: a subscriber wanting less should poll. */
export const MAX_REALTIME_INTERVAL = 3600;

/** reporting.realtime's optional argument: {"interval": N}, N >= 2 seconds (default 2). */
export const RealtimeArgs = Type.Union([
  Type.Null(),
  Type.Object({ interval: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_REALTIME_INTERVAL })) }, { additionalProperties: false }),
]);

export const Graphs = Type.Array(GraphIdentifier, { minItems: 1, maxItems: 64 });
export const GetDataResult = Type.Array(GetDataResponse);
export const QueryArg = ReportingQuery;

export const SamplersResult = Type.Array(Type.Object({ interval: Type.Integer(), subscribers: Type.Integer() }));
