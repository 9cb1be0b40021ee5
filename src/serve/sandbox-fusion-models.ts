// The SandboxFusion models and their mapping from our sandbox results (routes in
// sandbox-fusion.ts). SandboxFusion-compatible code execution (`POST /run_code`, `POST /submit`, `GET /v1/ping`),
// so verl's sandbox path (reward.sandbox_fusion.url=http://host:port/run_code) and
// SandboxFusion's own SDK (scripts/client: run_code, submit, submit_safe) run on our
// sandbox. The models are SandboxFusion's, field for field (sandbox/server/sandbox_api.py,
// sandbox/runners/types.py, sandbox/datasets/types.py at bytedance/SandboxFusion 469de08):
// unset fields may be sent as null (the SDK's pydantic `.dict()` does), timeouts are
// wall-clock seconds, `memory_limit_MB` ≤ 0 means no client limit (we apply a server cap).
// Overload is refused at once with 504, the one status verl's client retries.
import { z } from "zod";
import { findRunner, RUNNERS } from "../sandbox/runners/index.ts";
import type { RunOptions } from "../sandbox/sandbox.ts";
import type { ExecResult, SubmissionInput, SubmissionResult } from "../sandbox/types.ts";

/** What the routes need from a sandbox (the Sandbox class, or anything shaped like it). */
export interface SubmissionRunner {
  runSubmission(input: SubmissionInput, options?: RunOptions): Promise<SubmissionResult>;
  /** Submissions that may run at once; more requests than this are refused with 504. */
  readonly concurrency: number;
}

/** SandboxFusion's language name → our runner, where they differ. */
const SF_TO_RUNNER: Record<string, string> = { nodejs: "javascript" };

/** Our runner for a SandboxFusion (or our own) language name, if we run it. */
export function runnerFor(language: string): string | undefined {
  return findRunner(SF_TO_RUNNER[language] ?? language)?.language;
}

/** SandboxFusion names of the languages we run (what /run_code accepts). */
export function supportedSfLanguages(): string[] {
  return RUNNERS.map(
    (r) => Object.keys(SF_TO_RUNNER).find((k) => SF_TO_RUNNER[k] === r.language) ?? r.language,
  );
}

const nullable = <T extends z.ZodType>(t: T) => t.nullish();

export const RunCodeRequest = z.object({
  compile_timeout: nullable(z.number().nonnegative()).transform((v) => v ?? 10),
  run_timeout: nullable(z.number().nonnegative()).transform((v) => v ?? 10),
  memory_limit_MB: nullable(z.number().int()).transform((v) => v ?? -1),
  code: z.string(),
  stdin: nullable(z.string()).transform((v) => v ?? null),
  language: z.string().min(1),
  /** path → base64; null values are skipped, as SandboxFusion's restore_files does. */
  files: nullable(z.record(z.string(), z.string().nullable())).transform((v) => v ?? {}),
  fetch_files: nullable(z.array(z.string())).transform((v) => v ?? []),
});
export type RunCodeRequest = z.infer<typeof RunCodeRequest>;

export const CommandRunStatus = z.enum(["Finished", "Error", "TimeLimitExceeded"]);
export const RunStatus = z.enum(["Success", "Failed", "SandboxError"]);

export const CommandRunResult = z.object({
  status: CommandRunStatus,
  execution_time: z.number().nullable(),
  return_code: z.number().int().nullable(),
  stdout: z.string().nullable(),
  stderr: z.string().nullable(),
});
export type CommandRunResult = z.infer<typeof CommandRunResult>;

export const RunCodeResponse = z.object({
  status: RunStatus,
  message: z.string(),
  compile_result: CommandRunResult.nullable(),
  run_result: CommandRunResult.nullable(),
  executor_pod_name: z.string().nullable(),
  files: z.record(z.string(), z.string()),
});
export type RunCodeResponse = z.infer<typeof RunCodeResponse>;

export interface SandboxFusionOptions {
  /** Per-run memory cap, MB: the limit when a client sends memory_limit_MB ≤ 0, and the most any run gets. Default 4096 (SandboxFusion's per-run cgroup). */
  memoryCapMb?: number;
  /** Longest run or compile timeout a client may ask for, seconds (larger ones are clamped). Default 300. */
  maxTimeoutS?: number;
}

export const DEFAULT_MEMORY_CAP_MB = 4096;
export const DEFAULT_MAX_TIMEOUT_S = 300;

/** The sandbox limits for a request's timeouts and memory (wall-clock, as SandboxFusion). */
export function limitsFor(
  timeoutS: number,
  memoryMb: number,
  options: SandboxFusionOptions,
): { timeMs: number; wallMs: number; memoryMb: number } {
  const cap = options.memoryCapMb ?? DEFAULT_MEMORY_CAP_MB;
  const ms = Math.max(1, Math.round(Math.min(timeoutS, options.maxTimeoutS ?? DEFAULT_MAX_TIMEOUT_S) * 1000));
  // timeMs = wallMs: the wall clock decides (SandboxFusion waits `run_timeout` seconds of
  // real time); the CPU-time poll at the same value only fires first for programs that
  // use several cores, which are over their time either way.
  return { timeMs: ms, wallMs: ms, memoryMb: memoryMb > 0 ? Math.min(memoryMb, cap) : cap };
}

function truncationNote(r: ExecResult): string {
  const parts = [r.stdoutTruncated ? "stdout" : "", r.stderrTruncated ? "stderr" : ""].filter(Boolean);
  return parts.length === 0
    ? ""
    : `\n[datascale sandbox: ${parts.join(" and ")} truncated at the output cap]\n`;
}

/** One of our results as SandboxFusion's CommandRunResult (what its run_command_bare returns). */
export function toCommandRunResult(r: ExecResult): CommandRunResult {
  const execution_time = r.wallMs / 1000;
  if (r.status === "sandbox_error")
    return { status: "Error", execution_time: null, return_code: null, stdout: null, stderr: r.stderr };
  if (r.status === "time_limit")
    return {
      status: "TimeLimitExceeded",
      execution_time,
      return_code: null,
      stdout: r.stdout,
      stderr: r.stderr,
    };
  // asyncio's returncode: the exit status, or -signal for a program killed by a signal.
  const return_code = r.exitCode ?? (r.signal !== null ? -r.signal : r.status === "ok" ? 0 : 1);
  return {
    status: "Finished",
    execution_time,
    return_code,
    stdout: r.stdout,
    stderr: r.stderr + truncationNote(r),
  };
}

/** SandboxFusion's parse_run_status over compile and run results. */
export function parseRunStatus(
  compile: CommandRunResult | null,
  run: CommandRunResult | null,
): { status: z.infer<typeof RunStatus>; message: string } {
  const outcomes = [compile, run].filter((c): c is CommandRunResult => c !== null);
  const error = outcomes.find((o) => o.status === "Error");
  if (error !== undefined) return { status: "SandboxError", message: error.stderr ?? "" };
  if (outcomes.some((o) => o.status === "TimeLimitExceeded")) return { status: "Failed", message: "" };
  if (outcomes.some((o) => o.return_code !== null && o.return_code !== 0))
    return { status: "Failed", message: "" };
  return { status: "Success", message: "" };
}

/**
 * A RunCodeResponse for test `i` of a submission. Python has no compile step in
 * SandboxFusion: a source that does not parse is a run that exits 1 with the traceback.
 */
export function toRunCodeResponse(result: SubmissionResult, language: string, i = 0): RunCodeResponse {
  let compile = result.compile === undefined ? null : toCommandRunResult(result.compile);
  let run = result.tests[i] === undefined ? null : toCommandRunResult(result.tests[i] as ExecResult);
  if (language === "python" && compile !== null) {
    if (run === null && compile.status === "Finished")
      run = { ...compile, return_code: compile.return_code || 1 };
    compile = null;
  }
  const { status, message } = parseRunStatus(compile, run);
  return {
    status,
    message,
    compile_result: compile,
    run_result: run,
    executor_pod_name: null,
    files: result.files,
  };
}
