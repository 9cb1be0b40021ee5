// SandboxFusion-compatible code execution (`POST /run_code`, `GET /v1/ping`), so verl's
// built-in sandbox path (reward.sandbox_fusion.url=http://host:port/run_code) runs on our
// sandbox with no Python on the verl side. Request and response follow SandboxFusion's
// RunCodeRequest / RunCodeResponse. verl retries only HTTP 504, so overload answers 504.
// Routes are schema-first on the shared app (serve/app.ts); /run_code draws on the "sandbox"
// admission pool, so overload is refused before its body is parsed.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { HttpError } from "../core/errors.ts";
import type { Reward, Rollout } from "../core/schemas.ts";
import { findRunner, RUNNERS } from "../sandbox/runners/index.ts";
import type { ExecResult, SubmissionInput, SubmissionResult } from "../sandbox/types.ts";
import { sendError } from "./http-errors.ts";
import type { ZodTypeProvider } from "./schema.ts";

/** What the route needs from a sandbox (the Sandbox class, or anything shaped like it). */
export interface SubmissionRunner {
  runSubmission(input: SubmissionInput): Promise<SubmissionResult>;
}

/** SandboxFusion's language names that differ from ours. */
const SF_ALIASES: Record<string, string> = { nodejs: "javascript" };

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
  // A program killed for memory or output has no exit code of its own; report a non-zero one.
  const code =
    r.exitCode ?? (r.status === "ok" ? 0 : r.status === "time_limit" ? null : 128 + (r.signal ?? 9));
  return { status, execution_time: r.wallMs / 1000, return_code: code, stdout: r.stdout, stderr: r.stderr };
}

export function toRunCodeResponse(result: SubmissionResult): Record<string, unknown> {
  const compile = result.compile === undefined ? null : toSf(result.compile);
  const ran = result.tests[0];
  const run = ran === undefined ? null : toSf(ran);
  const execs = [compile, run].filter((e): e is SfExec => e !== null);
  const sandboxFailed = execs.some((e) => e.status === "Error");
  const status = sandboxFailed
    ? "SandboxError"
    : run === null || execs.some((e) => e.status === "TimeLimitExceeded" || e.return_code !== 0)
      ? "Failed"
      : "Success";
  return {
    status,
    message: sandboxFailed ? [result.compile, ran].find((e) => e?.status === "sandbox_error")?.stderr : "",
    compile_result: compile,
    run_result: run,
    executor_pod_name: null,
    files: result.files,
  };
}

/** `/submit` with the problem in `config.provided_data`: CommonOJ tests or a HumanEval-style check program. */
export const SubmitRequest = z.object({
  dataset: z.string().default("provided"),
  id: z.union([z.string(), z.number()]).default(0),
  completion: z.string(),
  config: z.looseObject({
    language: z.string().default("python"),
    run_timeout: z.number().positive().optional(),
    provided_data: z.looseObject({
      test: z.union([
        z.array(
          z.object({ input: z.object({ stdin: z.string() }), output: z.object({ stdout: z.string() }) }),
        ),
        z.string(),
      ]),
      entry_point: z.string().optional(),
    }),
  }),
});
export type SubmitRequest = z.infer<typeof SubmitRequest>;

/** The code verifier, as /submit needs it. */
export type CodeVerify = (rollout: Rollout) => Promise<Reward>;

export function submitToRollout(req: SubmitRequest): Rollout {
  const { config } = req;
  const language = SF_ALIASES[config.language] ?? config.language;
  const data = config.provided_data;
  const reference =
    typeof data.test === "string"
      ? {
          style: "assert" as const,
          tests: [{ code: data.test }],
          ...(data.entry_point ? { entry: data.entry_point } : {}),
        }
      : {
          style: "stdio" as const,
          tests: data.test.map((t) => ({ input: t.input.stdin, output: t.output.stdout })),
        };
  return {
    id: req.id,
    domain: "code",
    response: req.completion,
    reference: {
      ...reference,
      language,
      scoring: "fraction",
      ...(config.run_timeout !== undefined
        ? { limits: { timeMs: Math.round(config.run_timeout * 1000) } }
        : {}),
    },
  };
}

export function toEvalResult(req: SubmitRequest, reward: Reward): Record<string, unknown> {
  const verdicts = (reward.details?.["tests"] as string[] | undefined) ?? [];
  const data = req.config.provided_data;
  const tests = typeof data.test === "string" ? [{ code: data.test }] : data.test;
  return {
    id: req.id,
    accepted: reward.verdict === "correct",
    extracted_code: null,
    full_code: null,
    test_code: typeof data.test === "string" ? data.test : null,
    tests: tests.map((t, i) => ({
      passed: verdicts[i] === "AC",
      exec_info: { status: verdicts[i] ?? "SKIP" },
      test_info: t,
    })),
    extracted_type: reward.details?.["language"] ?? null,
    extra: { score: reward.score, verdict: reward.verdict, details: reward.details ?? {} },
  };
}

export function registerSandboxFusion(
  app: FastifyInstance,
  sandbox: SubmissionRunner,
  options: { maxConcurrent?: number; verifyCode?: CodeVerify } = {},
): void {
  const maxConcurrent = options.maxConcurrent ?? 256;
  app.admission.definePool("sandbox", maxConcurrent, "maxConcurrent");
  const routes = app.withTypeProvider<ZodTypeProvider>();
  app.get("/v1/ping", async () => "pong");
  routes.post(
    "/run_code",
    {
      schema: { body: RunCodeRequest },
      config: { admission: { pool: "sandbox", units: 1, overloadStatus: 504 } },
    },
    async (req, reply) => {
      const b = req.body;
      const runner = findRunner(SF_ALIASES[b.language] ?? b.language);
      if (runner === undefined) {
        const supported = RUNNERS.map((r) => (r.language === "javascript" ? "nodejs" : r.language));
        throw new HttpError(
          400,
          "bad_request",
          `language: '${b.language}' is not supported (supported: ${supported.join(", ")})`,
        );
      }
      const result = await sandbox.runSubmission({
        language: runner.language,
        code: b.code,
        files: b.files,
        fetchFiles: b.fetch_files,
        tests: [{ stdin: b.stdin ?? "" }],
        limits: {
          timeMs: Math.round(b.run_timeout * 1000),
          ...(b.memory_limit_MB > 0 ? { memoryMb: b.memory_limit_MB } : {}),
        },
        compileLimits: { timeMs: Math.round(b.compile_timeout * 1000) },
      });
      return reply.send(toRunCodeResponse(result));
    },
  );
  const verifyCode = options.verifyCode;
  if (verifyCode === undefined) return;
  routes.post("/submit", { schema: { body: SubmitRequest } }, async (req, reply) => {
    const reward = await verifyCode(submitToRollout(req.body));
    if (reward.verdict === "error")
      return sendError(reply, 503, reward.error?.code ?? "error", reward.error?.message ?? "", 1);
    return reply.send(toEvalResult(req.body, reward));
  });
}
