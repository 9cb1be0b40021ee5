// Errors that carry a stable code, so callers (and Reward.error) can tell causes apart
// without parsing messages — and the one classification of those codes: which failures are
// the data's (permanent: 4xx), which are a verdict on one response (final: `invalid`), which
// are the infrastructure's (retryable: 503) and which are our own bugs (500).
import type { z } from "zod";
import { invalidReward } from "./rewards.ts";
import type { Reward } from "./schemas.ts";

export class DataScaleError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DataScaleError";
    this.code = code;
  }
}

/** How a failure behaves under retry — the one thing a client needs to know about it. */
export type ErrorClass =
  /** The request's data is wrong (unknown domain, missing or ill-formed reference, bad field): fix the data. */
  | "data"
  /** This response fails the same way every time (hostile or unparseable within the budget): a final verdict. */
  | "final"
  /** A dependency is down or saturated (judge backend, sandbox infrastructure): retrying later can succeed. */
  | "infrastructure"
  /** A bug in a verifier or in DataScale: retrying cannot fix it, so it must not be retried silently. */
  | "internal"
  /**
   * A limit of ours (not the task's) stopped a response that could still have passed: the
   * output cap, the scratch space, the verifier's time budget. Retrying cannot change it and
   * it is no verdict on the response, so it stays an `error` (training leaves it out).
   */
  | "limit";

/**
 * Reward error codes by class. A code missing here is `infrastructure` (the safe default:
 * a retry, never a silent 0). Per-source overrides come first: the code verifier's
 * `time_budget` counts the wait for a sandbox slot, so it is the infrastructure's, while the
 * math verifier's is the response's (it parses within a fixed budget whatever the load).
 */
const CLASS_BY_SOURCE_CODE: Record<string, ErrorClass> = { "rtv:code/time_budget": "infrastructure" };
const CLASS_BY_CODE: Record<string, ErrorClass> = {
  // data
  bad_request: "data",
  no_reference: "data",
  bad_reference: "data",
  gold_unparseable: "data",
  unknown_domain: "data",
  unknown_language: "data",
  no_route: "data",
  no_judge: "data",
  // final per-response verdicts
  time_budget: "final",
  timeout: "final",
  verifier_killed: "final",
  verifier_crash_repeated: "final",
  // bugs
  internal: "internal",
  verifier_crash: "internal",
  checker_crash: "internal",
  verifier_threw: "internal",
  verifier_load: "internal",
  // limits of ours (src/verify/code/limits.ts)
  limit_output: "limit",
  limit_time_budget: "limit",
  // infrastructure (listed for documentation; the default)
  judge_failed: "infrastructure",
  judge_backend: "infrastructure",
  sandbox_error: "infrastructure",
  worker_crash: "infrastructure",
  closed: "infrastructure",
};

export function classifyError(code: string, source?: string): ErrorClass {
  return CLASS_BY_SOURCE_CODE[`${source}/${code}`] ?? CLASS_BY_CODE[code] ?? "infrastructure";
}

/**
 * A failure that would recur on every retry of this response is its verdict: `invalid` with
 * the reason (and the code in details), so no client retries it and no request fails for it.
 */
export function settleFinal(reward: Reward): Reward {
  if (reward.verdict !== "error" || reward.error === undefined) return reward;
  if (classifyError(reward.error.code, reward.source) !== "final") return reward;
  return invalidReward(reward.id, reward.source, reward.error.message, { code: reward.error.code });
}

/** The HTTP status a failure of this class answers when it has to fail a request. */
export function statusOfClass(c: ErrorClass): number {
  if (c === "data" || c === "limit") return 422;
  return c === "internal" ? 500 : c === "infrastructure" ? 503 : 200;
}

/** An error that answers an HTTP request with `status` and `{error: {code, message}}`. */
export class HttpError extends DataScaleError {
  readonly status: number;
  /** Seconds for Retry-After (overload and infrastructure failures). */
  readonly retryAfter: number | undefined;
  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(code, message);
    this.name = "HttpError";
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** Formats zod issues as `field.path: message; ...` so a user can find the bad field. */
export function formatZodError(error: z.ZodError, options: { prefix?: string; max?: number } = {}): string {
  const max = options.max ?? 5;
  const shown = error.issues.slice(0, max).map((issue) => {
    const parts = [...(options.prefix ? [options.prefix] : []), ...issue.path.map(String)];
    return `${parts.length > 0 ? parts.join(".") : "(record)"}: ${issue.message}`;
  });
  const more = error.issues.length - shown.length;
  return more > 0 ? `${shown.join("; ")}; and ${more} more` : shown.join("; ");
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
