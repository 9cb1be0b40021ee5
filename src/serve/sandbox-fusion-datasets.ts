// SandboxFusion's `/submit` for problems the client provides in `config.provided_data`
// (we hold no dataset tables): CommonOJ (stdin/stdout cases), HumanEval (a test program,
// MultiPL-E shapes included) and MBPP (`test_list` asserts). Semantics follow
// bytedance/SandboxFusion at 469de08: sandbox/datasets/{common_oj,humaneval,mbpp}.py,
// sandbox/utils/testing.py (check_stdio_test_case), sandbox/server/online_judge_api.py
// (which class judges a dataset). Differences are deliberate and in docs/integrations.md.
import { z } from "zod";
import { formatZodError, HttpError } from "../core/errors.ts";
import type { SubmissionResult } from "../sandbox/types.ts";
import { defaultExtract, extractFreeform } from "./sandbox-fusion-extract.ts";
import {
  limitsFor,
  RunCodeResponse,
  runnerFor,
  type SandboxFusionOptions,
  type SubmissionRunner,
  toRunCodeResponse,
} from "./sandbox-fusion-models.ts";

/** A request that cannot be judged as sent: 400 naming the field. */
const bad = (message: string) => new HttpError(400, "bad_request", message);

export const TestConfig = z.object({
  dataset_type: z.string().nullish(),
  language: z.string().nullish(),
  locale: z.string().nullish(),
  is_fewshot: z.boolean().nullish(),
  compile_timeout: z.number().nonnegative().nullish(),
  run_timeout: z.number().nonnegative().nullish(),
  custom_extract_logic: z.string().nullish(),
  provided_data: z
    .union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))])
    .nullish(),
  extra: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((v) => v ?? {}),
});
export type TestConfig = z.infer<typeof TestConfig>;

export const SubmitRequest = z.object({
  dataset: z.string(),
  id: z.union([z.number().int(), z.string()]),
  completion: z.string(),
  config: TestConfig,
});
export type SubmitRequest = z.infer<typeof SubmitRequest>;

export const EvalTestCase = z.object({
  passed: z.boolean(),
  exec_info: RunCodeResponse,
  test_info: z.record(z.string(), z.unknown()).nullable(),
});
export type EvalTestCase = z.infer<typeof EvalTestCase>;

export const EvalResult = z.object({
  id: z.union([z.number().int(), z.string()]),
  accepted: z.boolean(),
  extracted_code: z.string(),
  full_code: z.string().nullable(),
  test_code: z.string().nullable(),
  tests: z.array(EvalTestCase),
  extracted_type: z.enum(["fenced", "incomplete_fenced", "heuristic", "empty"]).nullable(),
  extra: z.record(z.string(), z.unknown()).nullable(),
});
export type EvalResult = z.infer<typeof EvalResult>;

/** HumanEvalDataset.run_lang_map: dataset id → the language it runs as. */
const HUMANEVAL_RUN: Record<string, string> = {
  humaneval_python: "python",
  humaneval_cpp: "cpp",
  humaneval_typescript: "typescript",
  humaneval_bash: "bash",
  humaneval_csharp: "csharp",
  humaneval_go: "go_test",
  humaneval_java: "java",
  humaneval_lua: "lua",
  humaneval_javascript: "nodejs",
  humaneval_php: "php",
  humaneval_perl: "perl",
  humaneval_racket: "racket",
  humaneval_r: "R",
  humaneval_rust: "rust",
  humaneval_scala: "scala",
  humaneval_swift: "swift",
  humaneval_ruby: "ruby",
  humaneval_d: "D_ut",
  humaneval_julia: "julia",
  shadow_humaneval_python: "python",
  evoeval: "python",
};
/** HumanEvalDataset.extract_lang_map where it differs from run_lang_map. */
const HUMANEVAL_EXTRACT: Record<string, string> = {
  ...HUMANEVAL_RUN,
  humaneval_go: "go",
  humaneval_js: "js",
  humaneval_r: "r",
  humaneval_d: "d",
};
/** Datasets whose freeform completions are judged as whole functions (evaluate_single's list). */
const FUNC_CODE_DATASETS = new Set([
  "humaneval_python",
  "humaneval_typescript",
  "humaneval_go",
  "humaneval_form_go",
  "evoeval",
  "humaneval_perl",
  "humaneval_racket",
  "humaneval_lua",
  "humaneval_julia",
  "humaneval_d",
  "humaneval_javascript",
  "humaneval_php",
  "humaneval_r",
  "humaneval_ruby",
]);

/** The dataset ids SandboxFusion's registry binds to each class we implement. */
const REGISTRY: Record<string, string> = {
  code_contests: "CommonOJDataset",
  mbpp: "MBPPDataset",
  ...Object.fromEntries(Object.keys(HUMANEVAL_RUN).map((k) => [k, "HumanEvalDataset"])),
};
const CLASSES = new Set(["CommonOJDataset", "HumanEvalDataset", "MBPPDataset"]);

/** IMPORT_HELPER (sandbox/utils/helpers.py) for the languages we run, minus headers and jars we do not ship. */
const IMPORT_HELPER: Record<string, string[]> = {
  python: [
    "import math",
    "import re",
    "import sys",
    "import copy",
    "import datetime",
    "import itertools",
    "import collections",
    "import heapq",
    "import statistics",
    "import functools",
    "import hashlib",
    "import numpy",
    "import numpy as np",
    "import string",
    "from typing import *",
    "from collections import *",
  ],
  cpp: [
    "using namespace std;",
    ...[
      "optional",
      "cassert",
      "stdlib.h",
      "algorithm",
      "cmath",
      "math.h",
      "numeric",
      "stdio.h",
      "vector",
      "set",
      "map",
      "queue",
      "stack",
      "list",
      "deque",
      "string",
      "climits",
      "cstring",
      "iostream",
      "sstream",
      "fstream",
    ].map((h) => `#include<${h}>`),
  ],
  java: [
    "import java.util.*;",
    "import java.lang.reflect.*;",
    "import java.security.*;",
    "import java.math.*;",
    "import java.io.*;",
    "import java.util.stream.*;",
  ],
  go: ['import ("fmt")'],
};

const END_TOKENS: Record<string, string[]> = {
  cpp: ["\n}"],
  typescript: ["\n}"],
  perl: ["\n}"],
  go: ["\n}"],
  js: ["\n}"],
};

function classFor(req: SubmitRequest): string {
  const registered = REGISTRY[req.dataset];
  if (registered !== undefined) return registered;
  const type = req.config.dataset_type;
  if (type === undefined || type === null)
    throw bad(`no eval class found for dataset ${req.dataset} (set config.dataset_type)`);
  if (!CLASSES.has(type)) {
    throw bad(
      `config.dataset_type: eval class ${type} is not supported here (supported: ${[...CLASSES].join(", ")})`,
    );
  }
  return type;
}

/** get_row_by_id_in_table over provided_data: a dict, with the columns the class reads. */
function row(req: SubmitRequest, columns: readonly string[]): Record<string, unknown> {
  const data = req.config.provided_data;
  if (data === undefined || data === null)
    throw bad("config.provided_data is required: this server holds no dataset tables");
  if (Array.isArray(data)) throw bad("config.provided_data: should be a dict with str -> str | int");
  for (const c of columns) {
    if (!(c in data)) throw bad(`config.provided_data.${c} is missing`);
  }
  return { ...data };
}

/** ensure_json: a column given as a JSON string is parsed. */
function ensureJson(value: unknown, field: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch (e) {
    throw bad(`${field}: not valid JSON (${e instanceof Error ? e.message : e})`);
  }
}

const GeneralStdioTest = z.object({
  input: z.record(z.string(), z.string()),
  output: z.record(z.string(), z.string()),
});

function truncateStr(s: string, max = 1000, placeholder = "..."): string {
  if (s.length <= max) return s;
  const keep = Math.floor((max - placeholder.length) / 2);
  return s.slice(0, keep) + placeholder + s.slice(-keep);
}

function isFloat(s: string): boolean {
  return s.trim() !== "" && Number.isFinite(Number(s.trim().replace(/^([+-]?)inf(inity)?$/i, "$1Infinity")));
}

/** check_stdio_test_case's comparison: line by line, stripped, case-blind, floats to 1e-5 relative. */
export function stdioMatches(stdout: string, expected: string): boolean {
  let got = stdout.trim().split("\n");
  let want = expected.trim().split("\n");
  if (got.length - want.length === 1 && got.at(-1) === "") got = got.slice(0, -1);
  if (want.length - got.length === 1 && want.at(-1) === "") want = want.slice(0, -1);
  if (got.length !== want.length) return false;
  return got.every((line, i) => {
    const a = line.toLowerCase().trim();
    const b = (want[i] ?? "").toLowerCase().trim();
    if (a === b) return true;
    if (!isFloat(a) || !isFloat(b)) return false;
    const x = Number(a);
    const y = Number(b);
    return Math.abs(x - y) / Math.max(Math.abs(y), 1e-10) < 1e-5;
  });
}

/** Our runner for a SandboxFusion language, or a 400 naming the field. */
function runLanguage(language: string, field: string): string {
  const ours = runnerFor(language);
  if (ours === undefined) throw bad(`${field}: language '${language}' is not supported here`);
  return ours;
}

function ensureNoSandboxError(result: SubmissionResult): void {
  const failed = [result.compile, ...result.tests].find((r) => r?.status === "sandbox_error");
  if (failed !== undefined) throw new HttpError(503, "sandbox_error", `sandbox failure: ${failed.stderr}`, 1);
}

const COMPILE_LANGUAGES = new Set(["cpp", "go", "java"]);

async function commonOj(req: SubmitRequest, sandbox: SubmissionRunner, options: SandboxFusionOptions) {
  const language = req.config.language;
  if (language === undefined || language === null)
    throw bad("config.language field must exist for CommonOJDataset, got None");
  const lang = runLanguage(language, "config.language");
  const data = row(req, ["test"]);
  const parsed = z.array(GeneralStdioTest).safeParse(ensureJson(data["test"], "config.provided_data.test"));
  if (!parsed.success) throw bad(`config.provided_data.test: ${formatZodError(parsed.error)}`);
  const cases = parsed.data;
  for (const [i, c] of cases.entries()) {
    if (c.input["stdin"] === undefined || c.output["stdout"] === undefined)
      throw bad(`config.provided_data.test[${i}]: needs input.stdin and output.stdout`);
  }
  if (req.config.custom_extract_logic != null)
    throw bad("config.custom_extract_logic: executing client Python on the server is not supported");
  const code = defaultExtract(req.completion, language);
  const runAll = req.config.extra["run_all_cases"] === true;
  const fullCase = req.config.extra["return_full_case"] === true;
  const runTimeout = req.config.run_timeout || (COMPILE_LANGUAGES.has(language) ? 10 : 20);
  const passed: boolean[] = [];
  const result = await sandbox.runSubmission(
    {
      language: lang,
      code,
      tests: cases.map((c) => ({ stdin: c.input["stdin"] ?? "" })),
      limits: limitsFor(runTimeout, -1, options),
      compileLimits: limitsFor(req.config.compile_timeout || 10, -1, options),
    },
    {
      onTest: (i, r) => {
        const ok = r.status === "ok" && stdioMatches(r.stdout, cases[i]?.output["stdout"] ?? "");
        passed[i] = ok;
        return ok || runAll;
      },
    },
  );
  ensureNoSandboxError(result);
  const shown = runAll ? cases.length : Math.min(cases.length, Math.max(1, result.tests.length));
  const tests: EvalTestCase[] = [];
  for (let i = 0; i < shown; i++) {
    const c = cases[i] as z.infer<typeof GeneralStdioTest>;
    const ok = passed[i] === true;
    const info = ok && !fullCase ? truncated(c) : c;
    tests.push({ passed: ok, exec_info: toRunCodeResponse(result, lang, i), test_info: info });
  }
  return evalResult(req, tests.length === cases.length && tests.every((t) => t.passed), code, tests);
}

function truncated(c: z.infer<typeof GeneralStdioTest>): Record<string, unknown> {
  const map = (o: Record<string, string>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, truncateStr(v)]));
  return { input: map(c.input), output: map(c.output) };
}

function evalResult(
  req: SubmitRequest,
  accepted: boolean,
  extracted: string,
  tests: EvalTestCase[],
  fullCode: string | null = null,
): EvalResult {
  return {
    id: req.id,
    accepted,
    extracted_code: extracted,
    full_code: fullCode,
    test_code: null,
    tests,
    extracted_type: null,
    extra: null,
  };
}

function stopTokenTrim(s: string, stopTokens: unknown, excepts = ["\n\n"]): string {
  if (!Array.isArray(stopTokens)) return s;
  let out = s;
  for (const st of stopTokens) {
    if (typeof st !== "string" || excepts.includes(st)) continue;
    if (st.startsWith("re:")) {
      let re: RegExp;
      try {
        re = new RegExp(st.slice(3).trim());
      } catch (e) {
        throw bad(`config.provided_data.stop_tokens: ${st}: ${e instanceof Error ? e.message : e}`);
      }
      const m = re.exec(out);
      if (m !== null) out = out.slice(0, m.index);
    } else {
      const i = out.indexOf(st);
      if (i !== -1) out = out.slice(0, i);
    }
  }
  return out;
}

function stopAfterStopToken(s: string, language: string): string {
  let out = s;
  for (const et of END_TOKENS[language] ?? []) {
    const i = out.indexOf(et);
    if (i !== -1) out = out.slice(0, i) + et;
  }
  return out;
}

function removeMain(code: string, language: string): string {
  const token =
    language === "d" ? "void main" : language === "csharp" ? "public static void Main" : undefined;
  if (token === undefined) return code;
  const i = code.indexOf(token);
  return i === -1 ? code : code.slice(0, i);
}

/** postprocess_full_code for Go: one package clause and the imports gathered at the top. */
function postprocessGo(code: string): string {
  const packages = new Set([...code.matchAll(/package\s+(\w+)/g)].map((m) => m[1]));
  let body = code.replace(/package\s+(\w+)/g, "");
  const single = [...body.matchAll(/import\s+("\w+")/g)].map((m) => m[1] as string);
  const multi = [...body.matchAll(/import\s+\(([\s\S]*?)\)/g)].flatMap((m) =>
    (m[1] ?? "").split("\n").map((x) => x.trim()),
  );
  const imports = new Set([...single, ...multi].filter((x) => x !== ""));
  body = body.replace(/import\s+("\w+")/g, "").replace(/import\s+\(([\s\S]*?)\)/g, "");
  return `${[...packages].map((p) => `package ${p}`).join("\n")}\n\n${[...imports].map((i) => `import ${i}`).join("\n")}\n\n${body}`;
}

async function runOne(
  sandbox: SubmissionRunner,
  language: string,
  code: string,
  compileS: number,
  runS: number,
  options: SandboxFusionOptions,
): Promise<RunCodeResponse> {
  const lang = runLanguage(language, "language");
  const result = await sandbox.runSubmission({
    language: lang,
    code,
    tests: [{ stdin: "" }],
    limits: limitsFor(runS, -1, options),
    compileLimits: limitsFor(compileS, -1, options),
  });
  ensureNoSandboxError(result);
  return toRunCodeResponse(result, lang);
}

async function humanEval(req: SubmitRequest, sandbox: SubmissionRunner, options: SandboxFusionOptions) {
  const r = row(req, []);
  let checkEntry = false;
  if (!("tests" in r)) {
    // The original HumanEval (Python) shape: `test` defines check(candidate).
    if (typeof r["test"] !== "string")
      throw bad("config.provided_data: needs `tests` (MultiPL-E) or `test` (HumanEval)");
    r["tests"] = r["test"];
    r["language"] = "python";
    r["stop_tokens"] = ["re:\\n(?!\\s|\\n)(?=.|\\n)"];
    checkEntry = true;
  }
  if (typeof r["tests"] !== "string") throw bad("config.provided_data.tests: must be a string");
  const rowLanguage = typeof r["language"] === "string" ? r["language"] : "python";
  const language = (HUMANEVAL_EXTRACT[req.dataset] ?? rowLanguage).split(".")[0] as string;
  const tests = r["tests"] as string;
  let completion: string;
  let full: string;
  if (req.config.extra["is_freeform"] === true) {
    const func = FUNC_CODE_DATASETS.has(req.dataset) || rowLanguage === "go" || rowLanguage === "go_test";
    completion = func
      ? defaultExtract(req.completion, language)
      : stopTokenTrim(extractFreeform(req.completion, language, true).code, r["stop_tokens"]);
    completion = removeMain(completion, language);
    full = `${completion}\n${tests}`;
  } else {
    completion = stopAfterStopToken(stopTokenTrim(req.completion, r["stop_tokens"]), language);
    if (typeof r["prompt"] !== "string") throw bad("config.provided_data.prompt: must be a string");
    full = `${r["prompt"]}\n${completion}\n${tests}`;
  }
  full = `${(IMPORT_HELPER[language] ?? []).join("\n")}\n${full}`;
  // SandboxFusion appends check(entry_point) only for three dataset ids; any other id with
  // the HumanEval shape would accept every completion (check is defined, never called).
  // We call it whenever the row has that shape and names its entry point.
  const entry = r["entry_point"];
  if (checkEntry && typeof entry === "string" && entry !== "") full = `${full}\ncheck(${entry})`;
  if (req.dataset === "humaneval_java" || req.dataset === "humaneval_form_java" || rowLanguage === "java")
    full = full.replaceAll("class Problem", "class Main");
  if (language === "go") full = postprocessGo(full);
  const runAs = HUMANEVAL_RUN[req.dataset] ?? language;
  const result = await runOne(
    sandbox,
    runAs,
    full,
    req.config.compile_timeout || 20,
    req.config.run_timeout || 20,
    options,
  );
  const accepted = result.status === "Success";
  return evalResult(
    req,
    accepted,
    completion,
    [{ passed: accepted, exec_info: result, test_info: null }],
    full,
  );
}

async function mbpp(req: SubmitRequest, sandbox: SubmissionRunner, options: SandboxFusionOptions) {
  const r = row(req, ["id", "content", "labels", "test_list"]);
  const labels = ensureJson(r["labels"], "config.provided_data.labels");
  const testList = ensureJson(r["test_list"], "config.provided_data.test_list");
  if (!Array.isArray(testList) || !testList.every((t) => typeof t === "string"))
    throw bad("config.provided_data.test_list: must be a list of strings");
  const setup =
    typeof labels === "object" && labels !== null
      ? (labels as Record<string, unknown>)["test_setup_code"]
      : undefined;
  if (typeof setup !== "string") throw bad("config.provided_data.labels.test_setup_code: must be a string");
  let text = req.completion;
  if (text.includes("[DONE]")) text = text.slice(0, text.indexOf("[DONE]"));
  let completion = extractFreeform(text, "python", true).code;
  for (const st of ["\nassert", '\n"""']) {
    const i = completion.indexOf(st);
    if (i !== -1) completion = completion.slice(0, i);
  }
  let code = `${setup}\n${completion}`;
  if (code.includes("if __name__ ==")) code = code.slice(0, code.indexOf("if __name__ =="));
  const asserts = req.config.is_fewshot === true ? [testList.at(-1) as string] : (testList as string[]);
  const full = code + asserts.map((t) => `\n${t}\n`).join("");
  const result = await runOne(sandbox, "python", full, 10, req.config.run_timeout || 20, options);
  const accepted = result.status === "Success";
  return evalResult(req, accepted, code, [{ passed: accepted, exec_info: result, test_info: null }], full);
}

/** `/submit`: judges one completion by the dataset class SandboxFusion would pick. */
export async function judgeSubmission(
  req: SubmitRequest,
  sandbox: SubmissionRunner,
  options: SandboxFusionOptions,
): Promise<EvalResult> {
  const cls = classFor(req);
  if (cls === "CommonOJDataset") return commonOj(req, sandbox, options);
  if (cls === "HumanEvalDataset") return humanEval(req, sandbox, options);
  return mbpp(req, sandbox, options);
}
