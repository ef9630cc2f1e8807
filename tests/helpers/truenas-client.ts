// The real TrueNAS client (truenas_api_client, the `midclt` TrueNAS users run, and websocket-client)
// for the conformance suite. It is never copied into this repository: MIDSHIP_TRUENAS_CLIENT names
// a directory holding both packages (.ci/run points it at ../shared/vendor). Without it the suite
// is skipped with a one-line hint, unless MIDSHIP_REQUIRE_TRUENAS_CLIENT=1 (CI), where a missing
// client is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test as uvuTest } from 'uvu';
import { spawnClient, type RunOptions, type RunResult, type Running } from './midclt.js';

export const CLIENT_HINT =
  'set MIDSHIP_TRUENAS_CLIENT to a directory holding truenas_api_client/ and websocket/ (e.g. ../shared/vendor) and have python3 installed';

/** Why the real client cannot run here, or null when it can. */
function missing(dir: string | undefined): string | null {
  if (!dir) return 'MIDSHIP_TRUENAS_CLIENT is not set';
  for (const pkg of ['truenas_api_client', 'websocket']) {
    if (!existsSync(join(dir, pkg, '__init__.py'))) return `${join(dir, pkg)}/__init__.py not found`;
  }
  const py = spawnSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 10)'], { stdio: 'ignore' });
  if (py.status !== 0) return 'python3 (3.10 or newer) not found';
  return null;
}

const clientDir = process.env.MIDSHIP_TRUENAS_CLIENT ? resolve(process.env.MIDSHIP_TRUENAS_CLIENT) : undefined;
const why = missing(clientDir);

type TestFn = (name: string, fn: () => Promise<void> | void) => void;

/** `test` when the real client can run; otherwise skipped with one line, or failing when required. */
export function conformanceTest(test: typeof uvuTest = uvuTest): TestFn {
  if (why === null) return test;
  if (process.env.MIDSHIP_REQUIRE_TRUENAS_CLIENT === '1') {
    return (name) => test(name, () => {
      throw new Error(`the real TrueNAS client is required here (MIDSHIP_REQUIRE_TRUENAS_CLIENT=1): ${why}; ${CLIENT_HINT}`);
    });
  }
  console.log(`SKIPPING conformance with the real TrueNAS client: ${why}; ${CLIENT_HINT}`);
  return (name, fn) => test.skip(name, fn);
}

export const clientAvailable = why === null;

// The client's own entry point, as its README runs it (sys.argv[0] is what it prints as its name).
const ENTRY = 'import sys, truenas_api_client as t; sys.argv[0] = "midclt"; t.main()';

/**
 * The real midclt as a child process. CALL_TIMEOUT bounds each call (a dropped message fails in
 * 20 s, not the client's 60 s default); the child is killed after killAfterMs in any case.
 */
export function spawnRealMidclt(args: string[], o: RunOptions = {}): Running {
  if (clientDir === undefined) throw new Error(`the real TrueNAS client is not available: ${why}`);
  return spawnClient('python3', ['-c', ENTRY, ...args], {
    killAfterMs: 45_000,
    ...o,
    env: { PYTHONPATH: clientDir, PYTHONDONTWRITEBYTECODE: '1', CALL_TIMEOUT: '20', ...o.env },
  });
}

export function realMidclt(args: string[], o: RunOptions = {}): Promise<RunResult> {
  return spawnRealMidclt(args, o).done;
}

/**
 * A value as the real client prints it: dates re-encoded in whole seconds (its encoder truncates),
 * sets in no particular order. Applied to both sides before comparing.
 */
export function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && typeof o.$date === 'number') return { $date: Math.floor(o.$date / 1000) * 1000 };
  if (keys.length === 1 && Array.isArray(o.$set)) return { $set: o.$set.map(normalize).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) };
  return Object.fromEntries(keys.sort().map((k) => [k, normalize(o[k])]));
}
