// What the orchestrator (run.ts) and the load generator (client.ts) exchange: a job goes to the
// client as one JSON argument, the result comes back as one JSON line on its stdout.

/** How the client recognises a correct answer: the echo server returns the request itself. */
export type Expect = 'echo' | 'pong';

export interface PipelinedJob {
  mode: 'pipelined';
  /** ws URL; only ws+unix: and ws://127.0.0.1 are used. */
  url: string;
  expect: Expect;
  connections: number;
  /** Calls each connection keeps outstanding: a new one is sent as soon as one returns. */
  inFlight: number;
  warmupMs: number;
  measureMs: number;
  /** Hard cap on calls sent over the whole job (warm-up included), whatever the timings. */
  maxCalls: number;
}

export interface SequentialJob {
  mode: 'sequential';
  url: string;
  expect: Expect;
  warmupCalls: number;
  measureCalls: number;
}

export type LoadJob = PipelinedJob | SequentialJob;

export interface LoadResult {
  /** Calls answered inside the measured window (pipelined) or measured calls (sequential). */
  calls: number;
  elapsedMs: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers that were not the expected one (an error, a wrong result, an unknown id). */
  errors: number;
  firstError: string | null;
  /** Every call answered, warm-up and drain included (what the server's CPU time was spent on). */
  answered: number;
  /** Share of the measured window the client process spent on the CPU (near 1: client-bound). */
  clientBusy: number;
  /** CPU milliseconds the client process used in all, start-up included. */
  clientCpuMs: number;
}
