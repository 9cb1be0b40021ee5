// The sandbox's vocabulary: limits, per-run results and the harness wire protocol.
import { z } from "zod";

/** How a run ended. Names follow judge usage; `sandbox_error` is always infrastructure. */
export const ExecStatus = z.enum([
  "ok",
  "time_limit",
  "memory_limit",
  "output_limit",
  "runtime_error",
  "compile_error",
  "sandbox_error",
]);
export type ExecStatus = z.infer<typeof ExecStatus>;

export const ExecResult = z.object({
  status: ExecStatus,
  exitCode: z.number().int().nullable(),
  signal: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  wallMs: z.number(),
  cpuMs: z.number(),
  /** Peak resident set of the run (ru_maxrss), KiB. */
  memoryKb: z.number(),
});
export type ExecResult = z.infer<typeof ExecResult>;

/** Limits for one run (one test, or one compile). */
export const Limits = z.object({
  /** CPU time limit: a run using more CPU than this is a time_limit. */
  timeMs: z.number().int().positive(),
  /**
   * Wall-clock backstop (sleeping, blocked or CPU-starved programs); default 2 × timeMs.
   * Judging by CPU time keeps verdicts stable when sandboxes outnumber cores.
   */
  wallMs: z.number().int().positive().optional(),
  memoryMb: z.number().int().positive(),
  stdoutBytes: z.number().int().positive(),
  stderrBytes: z.number().int().positive(),
  /** RLIMIT_FSIZE: no file the program writes (stdout included) can grow past this. */
  fileBytes: z.number().int().positive(),
  openFiles: z.number().int().positive(),
  processes: z.number().int().positive(),
});
export type Limits = z.infer<typeof Limits>;

export const DEFAULT_LIMITS: Limits = {
  timeMs: 4000,
  memoryMb: 512,
  stdoutBytes: 8 << 20,
  stderrBytes: 64 << 10,
  fileBytes: 8 << 20,
  openFiles: 256,
  processes: 64,
};

export const DEFAULT_COMPILE_LIMITS: Limits = {
  timeMs: 20_000,
  memoryMb: 2048,
  stdoutBytes: 64 << 10,
  stderrBytes: 64 << 10,
  fileBytes: 128 << 20,
  openFiles: 256,
  processes: 64,
};

/** One submission: a program and the stdin of each test to run it on. */
export const Submission = z.object({
  language: z.string().min(1),
  code: z.string(),
  /** Extra files put in the work directory before the run: relative path → bytes (base64). */
  files: z.record(z.string(), z.string()).default({}),
  /** Files to read back from the work directory after the last test (relative paths). */
  fetchFiles: z.array(z.string()).default([]),
  tests: z.array(z.object({ stdin: z.string() })),
  limits: Limits.partial().default({}),
  compileLimits: Limits.partial().default({}),
});
export type SubmissionInput = z.input<typeof Submission>;
export type Submission = z.infer<typeof Submission>;

export interface SubmissionResult {
  /** Present for compiled languages, and for Python when the source does not parse. */
  compile?: ExecResult;
  /** One per test that ran, in order; fewer than tests when compilation failed or the run was stopped. */
  tests: ExecResult[];
  /** Contents (base64) of the requested fetch files that existed. */
  files: Record<string, string>;
}

export const HarnessMessage = z.discriminatedUnion("t", [
  z.object({ t: z.literal("ready"), pid: z.number() }),
  z.object({
    t: z.literal("compile"),
    result: ExecResult,
    /** What the compile produced (build-relative path → base64), for the compile cache. */
    artifacts: z.record(z.string(), z.string()).optional(),
  }),
  z.object({ t: z.literal("test"), i: z.number().int().nonnegative(), result: ExecResult }),
  z.object({ t: z.literal("done"), files: z.record(z.string(), z.string()) }),
]);
export type HarnessMessage = z.infer<typeof HarnessMessage>;
