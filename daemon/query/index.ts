// The query language of core.get_jobs and every *.query method (PROTOCOL.md 7), one concern a
// file: values.ts (Python's comparisons), dates.ts, paths.ts, regex.ts (the `~` operator),
// compile.ts (filters), order.ts, projection.ts (select), apply.ts (the pipeline), method.ts.
export { applyQuery, checkOptions, type CheckedOptions, type QueryOptionsInput } from './apply.js';
export { Filter, compileFilters, type Predicate } from './compile.js';
export { parseIsoTimestamp } from './dates.js';
export { queryMethod } from './method.js';
export { sortEntries } from './order.js';
export { getPath } from './paths.js';
export { project, projectWith } from './projection.js';
export { deepEqual } from './values.js';
