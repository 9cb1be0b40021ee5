// SandboxFusion-compatible code execution (`POST /run_code`, `POST /submit`, `GET /v1/ping`)
// for verl's sandbox path and SandboxFusion's SDK; the models and their semantics are in
// sandbox-fusion-models.ts, /submit's dataset classes in sandbox-fusion-datasets.ts.
import type { FastifyInstance } from "fastify";
import { HttpError } from "../core/errors.ts";
import { EvalResult, judgeSubmission, SubmitRequest } from "./sandbox-fusion-datasets.ts";
import {
  limitsFor,
  RunCodeRequest,
  RunCodeResponse,
  runnerFor,
  type SandboxFusionOptions,
  type SubmissionRunner,
  supportedSfLanguages,
  toRunCodeResponse,
} from "./sandbox-fusion-models.ts";
import type { ZodTypeProvider } from "./schema.ts";

export * from "./sandbox-fusion-models.ts";

/**
 * Registers /v1/ping, /run_code and /submit on the shared app (serve/app.ts): zod body and
 * response schemas, errors through the shared helper, and the "sandbox" admission pool of
 * `sandbox.concurrency` slots, decided before the body is parsed — a request that finds
 * every slot busy is refused at once with 504 (verl retries exactly that), never queued
 * into the client's read timeout.
 */
export function registerSandboxFusion(
  app: FastifyInstance,
  sandbox: SubmissionRunner,
  options: SandboxFusionOptions = {},
): void {
  app.admission.definePool("sandbox", sandbox.concurrency, "--sandbox-slots");
  const admission = { pool: "sandbox", units: 1, overloadStatus: 504 as const };
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // FastAPI returns the string "pong" as JSON: clients call .json() on it.
  app.get("/v1/ping", async (_req, reply) => reply.type("application/json").send('"pong"'));
  routes.post(
    "/run_code",
    { schema: { body: RunCodeRequest, response: { 200: RunCodeResponse } }, config: { admission } },
    async (req) => {
      const b = req.body;
      const language = runnerFor(b.language);
      if (language === undefined) {
        throw new HttpError(
          400,
          "bad_request",
          `language: '${b.language}' is not supported here (supported: ${supportedSfLanguages().join(", ")})`,
        );
      }
      const files = Object.fromEntries(
        Object.entries(b.files).filter((e): e is [string, string] => typeof e[1] === "string"),
      );
      const result = await sandbox.runSubmission({
        language,
        code: b.code,
        files,
        fetchFiles: b.fetch_files,
        tests: [{ stdin: b.stdin ?? "" }],
        limits: limitsFor(b.run_timeout, b.memory_limit_MB, options),
        compileLimits: limitsFor(b.compile_timeout, -1, options),
      });
      return toRunCodeResponse(result, language);
    },
  );
  routes.post(
    "/submit",
    { schema: { body: SubmitRequest, response: { 200: EvalResult } }, config: { admission } },
    async (req) => judgeSubmission(req.body, sandbox, options),
  );
}
