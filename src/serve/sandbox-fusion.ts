// SandboxFusion-compatible code execution (`POST /run_code`), so verl's built-in sandbox
// path (reward.sandbox_fusion.url=http://host:port/run_code) runs on our sandbox with no
// Python on the verl side. Request and response follow SandboxFusion's RunCodeRequest /
// RunCodeResponse. verl retries only HTTP 504, so overload answers 504 here, not 429.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { formatZodError } from "../core/errors.ts";

/** What the route needs from a sandbox: compile (when the language needs it) and run once. */
export interface CodeRunner {
  readonly languages: readonly string[];
  run(request: CodeRunRequest): Promise<CodeRunResult>;
}
export interface CodeRunRequest {
  language: string;
  code: string;
  stdin: string;
  /** Extra files, path → bytes. */
  files: Record<string, Buffer>;
  fetchFiles: string[];
  compileTimeoutMs: number;
  runTimeoutMs: number;
  memoryLimitMb: number | undefined;
}
export type ExecStatus =
  | "ok"
  | "time_limit"
  | "memory_limit"
  | "output_limit"
  | "runtime_error"
  | "sandbox_error";
export interface ExecResult {
  status: ExecStatus;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}
export interface CodeRunResult {
  /** Present when the language compiles. */
  compile?: ExecResult;
  /** Absent when compilation failed. */
  run?: ExecResult;
  files: Record<string, Buffer>;
  /** A failure of the sandbox itself (not of the program). */
  sandboxError?: string;
}

/** SandboxFusion's language names → runner names. */
const LANGUAGE_ALIASES: Record<string, string> = {
  python: "python",
  python3: "python",
  cpp: "cpp",
  nodejs: "javascript",
  javascript: "javascript",
};

export const RunCodeRequest = z.object({
  code: z.string(),
  language: z.string().min(1),
  compile_timeout: z.number().positive().default(10),
  run_timeout: z.number().positive().default(10),
  memory_limit_MB: z.number().int().default(-1),
  stdin: z.string().nullable().default(null),
  files: z.record(z.string(), z.string()).default({}),
  fetch_files: z.array(z.string()).default([]),
});

interface SfExec {
  status: "Finished" | "Error" | "TimeLimitExceeded";
  execution_time: number;
  return_code: number | null;
  stdout: string;
  stderr: string;
}

function toSf(r: ExecResult): SfExec {
  const status =
    r.status === "time_limit" ? "TimeLimitExceeded" : r.status === "sandbox_error" ? "Error" : "Finished";
  // A program killed for memory or output has no exit code of its own; SandboxFusion reports a non-zero one.
  const code = r.exitCode ?? (r.status === "ok" ? 0 : r.status === "time_limit" ? null : 137);
  return { status, execution_time: r.wallMs / 1000, return_code: code, stdout: r.stdout, stderr: r.stderr };
}

export function toRunCodeResponse(result: CodeRunResult): Record<string, unknown> {
  const compile = result.compile === undefined ? null : toSf(result.compile);
  const run = result.run === undefined ? null : toSf(result.run);
  const execs = [compile, run].filter((e): e is SfExec => e !== null);
  const status =
    result.sandboxError !== undefined || execs.some((e) => e.status === "Error")
      ? "SandboxError"
      : execs.some((e) => e.status === "TimeLimitExceeded" || e.return_code !== 0) || run === null
        ? "Failed"
        : "Success";
  return {
    status,
    message: result.sandboxError ?? "",
    compile_result: compile,
    run_result: run,
    executor_pod_name: null,
    files: Object.fromEntries(Object.entries(result.files).map(([k, v]) => [k, v.toString("base64")])),
  };
}

export function registerSandboxFusion(
  app: FastifyInstance,
  runner: CodeRunner,
  options: { maxConcurrent?: number } = {},
): void {
  const maxConcurrent = options.maxConcurrent ?? 256;
  let inflight = 0;
  app.get("/v1/ping", async () => "pong");
  app.post("/run_code", async (req, reply) => {
    const body = RunCodeRequest.safeParse(req.body);
    if (!body.success)
      return reply.code(400).send({ error: { code: "bad_request", message: formatZodError(body.error) } });
    const b = body.data;
    const language = LANGUAGE_ALIASES[b.language];
    if (language === undefined || !runner.languages.includes(language)) {
      const supported = Object.keys(LANGUAGE_ALIASES).filter((k) =>
        runner.languages.includes(LANGUAGE_ALIASES[k] as string),
      );
      return reply.code(400).send({
        error: {
          code: "bad_request",
          message: `language: '${b.language}' is not supported (supported: ${supported.join(", ")})`,
        },
      });
    }
    if (inflight >= maxConcurrent) {
      reply.header("retry-after", "1");
      return reply.code(504).send({
        error: { code: "overloaded", message: `${inflight} runs in flight (limit ${maxConcurrent})` },
      });
    }
    inflight++;
    try {
      const result = await runner.run({
        language,
        code: b.code,
        stdin: b.stdin ?? "",
        files: Object.fromEntries(Object.entries(b.files).map(([k, v]) => [k, Buffer.from(v, "base64")])),
        fetchFiles: b.fetch_files,
        compileTimeoutMs: b.compile_timeout * 1000,
        runTimeoutMs: b.run_timeout * 1000,
        memoryLimitMb: b.memory_limit_MB > 0 ? b.memory_limit_MB : undefined,
      });
      return toRunCodeResponse(result);
    } finally {
      inflight--;
    }
  });
}
