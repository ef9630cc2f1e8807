// The wire rule (PROTOCOL.md 1.4, daemon/ejson.ts) checked on every frame a test daemon sends:
// an object the real client would decode as an ejson value must be a well-formed one, or that
// client drops the whole message. A violation is reported at once and fails the test file even if
// the test itself never looks at the offending frame.
import { findEjsonProblem } from '../../daemon/ejson.js';

let failOnExit = false;

/** What is wrong with one received frame (text or already parsed), or null. No side effects. */
export function describeViolation(frame: unknown): string | null {
  let value = frame;
  if (typeof frame === 'string') {
    // Only frames that mention a wrapper key can break the rule; most frames skip the walk.
    if (!frame.includes('"$')) return null;
    try {
      value = JSON.parse(frame);
    } catch {
      return null; // not JSON: the protocol tests judge that
    }
  }
  const problem = findEjsonProblem(value);
  if (problem === null) return null;
  const where = problem.keys.map((k) => JSON.stringify(k)).join(' > ') || '(the frame itself)';
  return `at ${where}: ${problem.message}`;
}

/** The violation in a frame the daemon sent, reported on stderr and failing this test process. */
export function wireViolation(frame: unknown, source: string): Error | null {
  const problem = describeViolation(frame);
  if (problem === null) return null;
  const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
  const err = new Error(`ejson wire rule broken in a frame from ${source} ${problem}; frame: ${text.slice(0, 500)}`);
  console.error(`WIRE RULE: ${err.message}`);
  if (!failOnExit) {
    failOnExit = true;
    process.on('exit', () => {
      process.exitCode = 1;
    });
  }
  return err;
}
