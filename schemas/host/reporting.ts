// reporting.get_data / netdata_get_data arguments and results, and reporting.graphs items
// (MODULES.md §2, api/v27_0_0/reporting.py).
import { Type, type Static } from '@sinclair/typebox';

export const GraphIdentifier = Type.Object({
  name: Type.String({ minLength: 1 }),
  identifier: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
}, { additionalProperties: false });
export type GraphIdentifierT = Static<typeof GraphIdentifier>;

export const ReportingUnit = Type.Union([
  Type.Literal('HOUR'), Type.Literal('DAY'), Type.Literal('WEEK'), Type.Literal('MONTH'), Type.Literal('YEAR'),
]);
export type ReportingUnitT = Static<typeof ReportingUnit>;

export const ReportingQuery = Type.Object({
  unit: Type.Optional(Type.Union([ReportingUnit, Type.Null()])),
  page: Type.Optional(Type.Integer({ minimum: 1 })),
  aggregate: Type.Optional(Type.Boolean()),
  start: Type.Optional(Type.Union([Type.Integer({ exclusiveMinimum: 0 }), Type.Null()])),
  end: Type.Optional(Type.Union([Type.Integer({ exclusiveMinimum: 0 }), Type.Null()])),
}, { additionalProperties: false });
export type ReportingQueryT = Static<typeof ReportingQuery>;

export const SeriesValues = Type.Record(Type.String(), Type.Number());

export const Aggregations = Type.Object({ min: SeriesValues, mean: SeriesValues, max: SeriesValues });

/** One row: [time, v1, v2, ...]; a value is null where no sample exists (a gap). */
export const DataRow = Type.Array(Type.Union([Type.Number(), Type.Null()]));

export const GetDataResponse = Type.Object({
  name: Type.String({ minLength: 1 }),
  identifier: Type.Union([Type.String(), Type.Null()]),
  data: Type.Array(DataRow),
  aggregations: Type.Union([Aggregations, Type.Null()]),
  start: Type.Integer(),
  end: Type.Integer(),
  legend: Type.Array(Type.String()),
});
export type GetDataResponseT = Static<typeof GetDataResponse>;
export type AggregationsT = Static<typeof Aggregations>;

export const GraphsItem = Type.Object({
  name: Type.String({ minLength: 1 }),
  title: Type.String({ minLength: 1 }),
  vertical_label: Type.String({ minLength: 1 }),
  identifiers: Type.Union([Type.Array(Type.String()), Type.Null()]),
});
export type GraphsItemT = Static<typeof GraphsItem>;
