// The code verifier (RTV `code`): extract the solution, build one program for all tests,
// run it in one sandbox, compare, and score. An infrastructure failure (sandbox error,
// no isolation, time budget spent) is an `error` reward, never a silent 0.
//
// Threads: `datascale verify` constructs verifiers inside worker threads. Each verifier
// owns its own Sandbox (a few warm sandboxes, created on first use), so every worker has
// a small per-thread pool; the sandboxes die with their thread (bwrap --die-with-parent).
import { z } from "zod";
import { DataScaleError, errorMessage, formatZodError } from "../../core/errors.ts";
import { errorReward, invalidReward } from "../../core/rewards.ts";
import type { Reward, Rollout } from "../../core/schemas.ts";
import { findRunner } from "../../sandbox/runners/index.ts";
import { Sandbox, type SandboxOptions } from "../../sandbox/sandbox.ts";
import type { ExecResult, Limits } from "../../sandbox/types.ts";
import type { Verifier, VerifyOptions } from "../types.ts";
import { CompareOptions, outputsMatch, valuesMatch } from "./compare.ts";
import { assertPassed, buildProgram, readCallResult, type Style } from "./drivers.ts";
import { extractSolution } from "./extract.ts";

export const SOURCE = "rtv:code";

export type TestVerdict = "AC" | "WA" | "TLE" | "MLE" | "OLE" | "RE" | "CE" | "SKIP";

const TestCase = z.looseObject({
  input: z.string().optional(),
  output: z.string().optional(),
  args: z.array(z.unknown()).optional(),
  expected: z.unknown().optional(),
  code: z.string().optional(),
});

/** The fields of Task.reference this verifier reads (Reference in core is loose). */
export const CodeReference = z.looseObject({
  tests: z.array(TestCase).optional(),
  /** APPS/TACO/CodeContests ground truth, accepted when `tests` is absent. */
  inputs: z.array(z.unknown()).optional(),
  outputs: z.array(z.unknown()).optional(),
  fn_name: z.string().optional(),
  language: z.string().default("python"),
  entry: z.string().optional(),
  style: z.enum(["stdio", "call", "assert"]).optional(),
  compare: CompareOptions.partial().optional(),
  scoring: z.enum(["all", "fraction"]).optional(),
  limits: z
    .object({ timeMs: z.number().int().positive(), memoryMb: z.number().int().positive() })
    .partial()
    .optional(),
});
export type CodeReference = z.infer<typeof CodeReference>;

export interface CodeVerifierOptions {
  /** A sandbox to share (e.g. one per process); default: this verifier creates its own on first use. */
  sandbox?: Sandbox;
  /** Options for the sandbox this verifier creates; default concurrency 2, warm 1. */
  sandboxOptions?: SandboxOptions;
  /** `all` (DeepCoder: 1 only if every test passes) or `fraction` of tests passed. Default `all`. */
  scoring?: "all" | "fraction";
  /** Default comparison; a task's reference.compare overrides it. */
  compare?: Partial<CompareOptions>;
  /** Per-test limits; a task's reference.limits overrides time/memory. */
  limits?: Partial<Limits>;
  /** In `all` scoring, stop at the first failing test (the score is already 0). Default true. */
  stopOnFailure?: boolean;
  /** Accept an untagged fenced block when none is tagged with the language. Default true. */
  allowUntagged?: boolean;
}

interface NormalTest {
  input?: string | undefined;
  output?: string | undefined;
  args?: unknown[] | undefined;
  expected?: unknown;
  code?: string | undefined;
}

function normaliseTests(ref: CodeReference): { tests: NormalTest[]; style: Style } | { reason: string } {
  let tests: NormalTest[] | undefined = ref.tests;
  let style = ref.style;
  if (tests === undefined && ref.inputs !== undefined && ref.outputs !== undefined) {
    if (ref.inputs.length !== ref.outputs.length)
      return { reason: "reference.inputs and outputs differ in length" };
    const outs = ref.outputs;
    if (ref.fn_name !== undefined) {
      style ??= "call";
      tests = ref.inputs.map((a, i) => ({ args: Array.isArray(a) ? a : [a], expected: outs[i] }));
    } else {
      tests = ref.inputs.map((inp, i) => ({ input: String(inp), output: String(outs[i]) }));
    }
  }
  if (tests === undefined || tests.length === 0) return { reason: "reference.tests is missing or empty" };
  style ??= tests[0]?.code !== undefined ? "assert" : tests[0]?.args !== undefined ? "call" : "stdio";
  for (const [i, t] of tests.entries()) {
    if (style === "stdio" && (t.input === undefined || t.output === undefined)) {
      return { reason: `reference.tests[${i}]: stdio tests need input and output` };
    }
    if (style === "call" && (t.args === undefined || !("expected" in t))) {
      return { reason: `reference.tests[${i}]: call tests need args and expected` };
    }
    if (style === "assert" && t.code === undefined)
      return { reason: `reference.tests[${i}]: assert tests need code` };
  }
  return { tests, style };
}

function judge(
  r: ExecResult,
  style: Style,
  test: NormalTest,
  marker: string,
  compare: CompareOptions,
): TestVerdict {
  switch (r.status) {
    case "time_limit":
      return "TLE";
    case "memory_limit":
      return "MLE";
    case "output_limit":
      return "OLE";
    case "compile_error":
      return "CE";
    case "runtime_error":
      if (style === "assert" && /AssertionError|ERR_ASSERTION|Assertion .* failed/.test(r.stderr))
        return "WA";
      return "RE";
    case "sandbox_error":
      throw new DataScaleError("sandbox_error", r.stderr);
    case "ok":
      break;
  }
  if (style === "stdio") return outputsMatch(r.stdout, test.output ?? "", compare) ? "AC" : "WA";
  if (style === "call") {
    const got = readCallResult(r.stdout, marker);
    if (got === undefined) return "RE";
    return valuesMatch(got.value, test.expected, compare) ? "AC" : "WA";
  }
  return assertPassed(r.stdout, marker) ? "AC" : "RE";
}

export class CodeVerifier implements Verifier {
  readonly domain = "code";
  readonly source = SOURCE;
  readonly #options: CodeVerifierOptions;
  #sandbox: Sandbox | undefined;

  constructor(options: CodeVerifierOptions = {}) {
    this.#options = options;
    this.#sandbox = options.sandbox;
  }

  #box(): Sandbox {
    this.#sandbox ??= new Sandbox({ concurrency: 2, warm: 1, ...this.#options.sandboxOptions });
    return this.#sandbox;
  }

  async verify(rollout: Rollout, options: VerifyOptions = {}): Promise<Reward> {
    try {
      return await this.#verify(rollout, options);
    } catch (e) {
      const code = e instanceof DataScaleError ? e.code : "verifier_crash";
      return errorReward(rollout.id, SOURCE, code, errorMessage(e));
    }
  }

  async #verify(rollout: Rollout, options: VerifyOptions): Promise<Reward> {
    const parsed = CodeReference.safeParse(rollout.reference ?? {});
    if (!parsed.success)
      return invalidReward(rollout.id, SOURCE, `reference: ${formatZodError(parsed.error)}`);
    const ref = parsed.data;
    const runner = findRunner(ref.language);
    if (runner === undefined)
      return invalidReward(rollout.id, SOURCE, `reference.language '${ref.language}' is not supported`);
    const norm = normaliseTests(ref);
    if ("reason" in norm) return invalidReward(rollout.id, SOURCE, norm.reason);
    const { tests, style } = norm;
    const extracted = extractSolution(rollout.response, runner.fenceTags, {
      allowUntagged: this.#options.allowUntagged,
    });
    if (!extracted.ok) return invalidReward(rollout.id, SOURCE, extracted.reason);
    const built = buildProgram(runner.language, style, extracted.code, tests, ref.entry ?? ref.fn_name);
    if (!built.ok) return invalidReward(rollout.id, SOURCE, built.reason);
    const { driven } = built;
    const compare = CompareOptions.parse({ ...this.#options.compare, ...ref.compare });
    const scoring = ref.scoring ?? this.#options.scoring ?? "all";
    const stopOnFailure = scoring === "all" && this.#options.stopOnFailure !== false;
    const verdicts: TestVerdict[] = [];
    const abort = new AbortController();
    let budgetTimer: NodeJS.Timeout | undefined;
    if (options.timeBudgetMs !== undefined)
      budgetTimer = setTimeout(() => abort.abort(), options.timeBudgetMs);
    let result: Awaited<ReturnType<Sandbox["runSubmission"]>>;
    try {
      result = await this.#box().runSubmission(
        {
          language: runner.language,
          code: driven.code,
          tests: driven.stdins.map((stdin) => ({ stdin })),
          limits: { ...this.#options.limits, ...ref.limits },
        },
        {
          signal: abort.signal,
          onTest: (i, r) => {
            const v = judge(r, style, tests[i] as NormalTest, driven.marker, compare);
            verdicts[i] = v;
            return !(stopOnFailure && v !== "AC");
          },
        },
      );
    } finally {
      clearTimeout(budgetTimer);
    }
    if (
      abort.signal.aborted &&
      verdicts.length < tests.length &&
      !verdicts.some((v) => v !== "AC" && stopOnFailure)
    ) {
      return errorReward(
        rollout.id,
        SOURCE,
        "time_budget",
        `time budget of ${options.timeBudgetMs} ms spent after ${verdicts.length}/${tests.length} tests`,
      );
    }
    const compile = result.compile;
    if (compile !== undefined && compile.status === "sandbox_error")
      throw new DataScaleError("sandbox_error", compile.stderr);
    const compileFailed = compile !== undefined && compile.status !== "ok";
    // Results the onTest callback did not see (the harness was lost mid-test).
    for (let i = verdicts.length; i < result.tests.length; i++) {
      verdicts[i] = judge(
        result.tests[i] as ExecResult,
        style,
        tests[i] as NormalTest,
        driven.marker,
        compare,
      );
    }
    const perTest: TestVerdict[] = tests.map((_, i) => (compileFailed ? "CE" : (verdicts[i] ?? "SKIP")));
    const passed = perTest.filter((v) => v === "AC").length;
    const all = passed === tests.length;
    const score = scoring === "all" ? (all ? 1 : 0) : passed / tests.length;
    const verdict = all ? "correct" : scoring === "fraction" && passed > 0 ? "partial" : "incorrect";
    const details: Record<string, unknown> = {
      language: runner.language,
      style,
      scoring,
      passed,
      total: tests.length,
      tests: perTest,
      wallMs: Math.round(result.tests.reduce((s, t) => s + t.wallMs, 0) + (compile?.wallMs ?? 0)),
    };
    if (compileFailed) details.compile = compile.stderr.slice(0, 2000);
    const firstBad = result.tests.findIndex((_, i) => perTest[i] !== "AC");
    const bad = firstBad >= 0 ? result.tests[firstBad] : undefined;
    if (bad !== undefined && bad.stderr !== "") details.stderr = bad.stderr.slice(-2000);
    return { id: rollout.id, score, verdict, source: SOURCE, details };
  }

  async close(): Promise<void> {
    if (this.#options.sandbox === undefined) await this.#sandbox?.close();
  }
}

export function createCodeVerifier(options?: CodeVerifierOptions): CodeVerifier {
  return new CodeVerifier(options);
}
