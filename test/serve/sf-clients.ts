// SandboxFusion's clients as they are, for the tests: the bytes they send and the way they
// read our answers. Transcribed (as data and rules, not code we run) from
//   verl-project/verl 1dda039 verl/utils/reward_score/sandbox_fusion/utils.py
//     (call_sandbox_api: json.dumps of 8 fields; retries only 504; _process_single_case)
//   bytedance/SandboxFusion 469de08 scripts/client/src/sandbox_fusion/{client,models}.py
//     (pydantic models; requests/aiohttp `json=request.dict()`, so unset fields are null)
import { z } from "zod";
import { pyDumps } from "../fixtures/python.ts";

/** verl's call_sandbox_api payload, field order and all. */
export function verlBody(a: {
  code: string;
  stdin: string | null;
  timeout: number;
  memoryMb?: number;
  language?: string;
}): string {
  return pyDumps({
    compile_timeout: a.timeout,
    run_timeout: a.timeout,
    code: a.code,
    stdin: a.stdin,
    memory_limit_MB: a.memoryMb ?? 1024,
    language: a.language ?? "python",
    files: {},
    fetch_files: [],
  });
}

/** The SDK's RunCodeRequest(...).dict(): pydantic defaults filled in, stdin null when unset. */
export function sdkRunCodeBody(a: {
  code: string;
  language: string;
  stdin?: string;
  run_timeout?: number;
  compile_timeout?: number;
}): string {
  return pyDumps({
    compile_timeout: a.compile_timeout ?? 10,
    run_timeout: a.run_timeout ?? 10,
    code: a.code,
    stdin: a.stdin ?? null,
    language: a.language,
    files: {},
    fetch_files: [],
  });
}

/** The SDK's SubmitRequest(...).dict(), TestConfig's unset fields as null. */
export function sdkSubmitBody(a: {
  dataset: string;
  id: number | string;
  completion: string;
  config: Record<string, unknown>;
}): string {
  const config = {
    dataset_type: null,
    language: null,
    locale: null,
    is_fewshot: null,
    compile_timeout: null,
    run_timeout: null,
    custom_extract_logic: null,
    provided_data: null,
    extra: {},
    ...a.config,
  };
  return pyDumps({ dataset: a.dataset, id: a.id, completion: a.completion, config });
}

// The SDK's pydantic models, strict where pydantic is: a required str may not be null,
// enums are closed. RunCodeResponse(**json) / EvalResult(**json) must accept our answers.
const CommandRunStatus = z.enum(["Finished", "TimeLimitExceeded", "Error"]);
export const SdkCommandRunResult = z.object({
  status: CommandRunStatus,
  execution_time: z.number().nullable().optional(),
  return_code: z.number().int().nullable().optional(),
  stdout: z.string().nullable().optional(),
  stderr: z.string().nullable().optional(),
});
export const SdkRunCodeResponse = z.object({
  status: z.enum(["Success", "Failed", "SandboxError"]),
  message: z.string(),
  compile_result: SdkCommandRunResult.nullable().optional(),
  run_result: SdkCommandRunResult.nullable().optional(),
  executor_pod_name: z.string().nullable().optional(),
  files: z.record(z.string(), z.string()).optional(),
});
export const SdkEvalResult = z.object({
  id: z.union([z.number().int(), z.string()]),
  accepted: z.boolean(),
  extracted_code: z.string(),
  full_code: z.string().nullable().optional(),
  test_code: z.string().nullable().optional(),
  tests: z.array(
    z.object({
      passed: z.boolean(),
      exec_info: SdkRunCodeResponse,
      test_info: z.record(z.string(), z.unknown()).nullable().optional(),
    }),
  ),
  extracted_type: z.enum(["fenced", "incomplete_fenced", "heuristic", "empty"]).nullable().optional(),
  extra: z.record(z.string(), z.unknown()).nullable().optional(),
});

type Json = Record<string, unknown>;

/** verl's _process_single_case classification of one answer: true/false or -1..-4. */
export function verlScore(resp: Json, expected: string | null): boolean | number {
  const compile = resp["compile_result"] as Json | null | undefined;
  const run = resp["run_result"] as Json | null | undefined;
  const status = resp["status"];
  if (status === "SandboxError") return -1;
  if (status === "Failed") {
    const cs = compile?.["status"];
    if (
      compile &&
      (cs === "Error" || cs === "TimeLimitExceeded" || (cs === "Finished" && compile["return_code"] !== 0))
    )
      return -4;
    if (run) {
      const rs = run["status"];
      if (rs === "TimeLimitExceeded") return -3;
      if (rs === "Error" || (rs === "Finished" && run["return_code"] !== 0)) return -2;
      return -1;
    }
    return -1;
  }
  if (status === "Success") {
    if (run && run["status"] === "Finished") {
      const out = String(run["stdout"] ?? "");
      return expected === null || out.replace(/\n+$/, "") === expected.replace(/\n+$/, "");
    }
    return -1;
  }
  return -1;
}
