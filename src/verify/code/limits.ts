// Limits of ours never decide a verdict. A test's own limits (reference.limits) judge the
// program; the caps we add for safety — how much output we capture, the scratch space that
// holds a test's stdin and output, the verifier's time budget — are sized from the tests, and
// when one of them still stops a program that could have passed, the reward is an `error`
// with a `limit_*` code (final: retrying cannot change it; training leaves it out) instead of
// a 0. docs/sandbox.md, "Limits of ours", is the policy in prose.
import type { Limits } from "../../sandbox/types.ts";
import { DEFAULT_LIMITS } from "../../sandbox/types.ts";

/** Output beyond the expected size we still capture: whitespace, CRLF and longer numbers are accepted by the comparison. */
export const OUTPUT_FACTOR = 3;
export const OUTPUT_SLACK_BYTES = 1 << 20;
/** Least room a correct output needs above the expected size (a trailing newline, CRLF on a few lines). */
const MIN_HEADROOM_BYTES = 64 << 10;
/** Scratch the harness keeps for itself (the prebuilt stdio files of Python tests are empty). */
const SCRATCH_RESERVE_BYTES = 1 << 20;

/** Error codes of limits of ours (classified `limit` in core/errors.ts: final, excluded from training). */
export const LIMIT_OUTPUT = "limit_output";
export const LIMIT_TIME_BUDGET = "limit_time_budget";

export interface TestSizes {
  /** Largest stdin of one test, bytes. */
  stdinBytes: number;
  /** Largest expected stdout of one test, bytes; undefined when the tests do not say (assertions). */
  expectedBytes: number | undefined;
}

export type OutputPlan = { ok: true; limits: Partial<Limits> } | { ok: false; reason: string };

/**
 * The output cap for a submission: max(configured cap, 3 × the largest expected output + 1 MiB),
 * within what the sandbox's scratch tmpfs can hold. The harness starts test i+1 before it has
 * read test i's files, so two tests' stdin, stdout and stderr share the scratch at once, and
 * RLIMIT_FSIZE (the cap) bounds stderr as much as stdout. When
 * even the expected output does not fit, the test cannot be run here: the caller answers with
 * `limit_output` before running anything.
 */
export function outputPlan(sizes: TestSizes, configured: Partial<Limits>, tmpfsBytes: number): OutputPlan {
  const stdoutDefault = configured.stdoutBytes ?? DEFAULT_LIMITS.stdoutBytes;
  const expected = sizes.expectedBytes ?? 0;
  const want = Math.max(stdoutDefault, OUTPUT_FACTOR * expected + OUTPUT_SLACK_BYTES);
  const room = Math.floor((Math.floor(tmpfsBytes / 2) - sizes.stdinBytes - SCRATCH_RESERVE_BYTES) / 2);
  const cap = Math.min(want, room);
  if (cap < expected + MIN_HEADROOM_BYTES) {
    return {
      ok: false,
      reason:
        `a test expects ${expected} bytes of output and has ${sizes.stdinBytes} bytes of input; the sandbox's ` +
        `scratch space (tmpfsBytes ${tmpfsBytes}, two tests in flight) leaves room for ${Math.max(0, room)} bytes ` +
        "of output: raise the sandbox's tmpfsBytes to run this task",
    };
  }
  // RLIMIT_FSIZE is what stops a program's stdout (and stderr) growing, so it is the cap.
  return { ok: true, limits: { stdoutBytes: cap, fileBytes: cap } };
}
