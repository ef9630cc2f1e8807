// The scheduling layer (issue 19) as the cron module uses it. No engine imports: the cron module
// passes in a Clock, persists cursors, submits runs and maps errors.
export { SystemClock, type Clock, type Timer } from './clock.js';
export { VirtualClock } from './virtual-clock.js';
export { Calendar, FIRE_TIMES_LIMIT, type CompiledSchedule, type FireTime } from './calendar.js';
export { canonicalTimeZone, hostTimeZone } from './zone.js';
export { canonicalSchedule, jobSchedules, validateSchedule, validateScheduling, type ErrorSink } from './validate.js';
export { MAX_CATCH_UP_RUNS, planCatchUp, type CatchUpPlan } from './catch-up.js';
export { LATE_GRACE_MS, ScheduleEngine, type EngineOptions, type JobTiming, type ScheduledRun } from './engine.js';
export { jitterDelay, type RandomSource } from './jitter.js';
export { decideOverlap, type ActiveRun, type OverlapDecision } from './overlap.js';
export { attemptText, delayBounds, isFinalAttempt, retryDelay, type RetryPolicy } from './backoff.js';
export { durationText } from './duration-text.js';
export { chainReferrers, chainTargets, findCycle, validateChains, type ChainCycle, type ChainEdges, type RunOutcome } from './chains.js';
export * from './schemas.js';
