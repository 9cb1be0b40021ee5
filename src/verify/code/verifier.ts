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
import { findRunner, type Runner } from "../../sandbox/runners/index.ts";
import { Sandbox, type SandboxOptions } from "../../sandbox/sandbox.ts";
import type { ExecResult, Limits, SubmissionResult } from "../../sandbox/types.ts";
import type { Verifier, VerifyOptions } from "../types.ts";
import { CompareOptions, couldStillMatch, outputsMatch, valuesMatch } from "./compare.ts";
import { assertPassed, buildProgram, type Driven, readCallResult, type Style } from "./drivers.ts";
import { extractSolution } from "./extract.ts";
import { LIMIT_OUTPUT, LIMIT_TIME_BUDGET, outputPlan, type TestSizes } from "./limits.ts";

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

/** What the program's stdout had to be, bytes (undefined: assertion tests do not say). */
function testSizes(tests: readonly NormalTest[], style: Style, stdins: readonly string[]): TestSizes {
  let stdinBytes = 0;
  for (const s of stdins) stdinBytes = Math.max(stdinBytes, Buffer.byteLength(s));
  if (style === "assert") return { stdinBytes, expectedBytes: undefined };
  let expectedBytes = 0;
  for (const t of tests) {
    const want = style === "stdio" ? (t.output ?? "") : (JSON.stringify(t.expected) ?? "");
    expectedBytes = Math.max(expectedBytes, Buffer.byteLength(want));
  }
  return { stdinBytes, expectedBytes };
}

/**
 * One test's verdict. `LIMIT`: a limit of ours (the output cap, or RLIMIT_FSIZE hit by stderr
 * or a file) stopped a program whose stdout could still have been accepted — for function-call
 * and assertion tests stdout is never judged, so any output limit is ours.
 */
function judge(
  r: ExecResult,
  style: Style,
  test: NormalTest,
  marker: string,
  compare: CompareOptions,
): Judged {
  switch (r.status) {
    case "time_limit":
      return "TLE";
    case "memory_limit":
      return "MLE";
    case "output_limit":
      if (style === "stdio" && !couldStillMatch(r.stdout, test.output ?? "", compare)) return "OLE";
      return "LIMIT";
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

type Judged = TestVerdict | "LIMIT";

interface Prepared {
  runner: Runner;
  tests: NormalTest[];
  style: Style;
  driven: Driven;
  compare: CompareOptions;
  scoring: "all" | "fraction";
  limits: Partial<Limits>;
}

interface Ran {
  result: SubmissionResult;
  verdicts: Judged[];
  /** The budget ran out before every test had a verdict; `runningMs`: how long the sandbox had run by then. */
  spent?: { runningMs: number | undefined };
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
    const deadline =
      options.timeBudgetMs === undefined ? undefined : performance.now() + options.timeBudgetMs;
    const prepared = this.#prepare(rollout, deadline);
    if ("reward" in prepared) return prepared.reward;
    const ran = await this.#run(prepared, options.timeBudgetMs);
    if (ran.spent !== undefined) {
      const { runningMs } = ran.spent;
      const done = `after ${ran.verdicts.length}/${prepared.tests.length} tests`;
      // Most of the budget spent running: the tests, within their own limits, need more time than
      // the budget gives — retrying cannot help. Otherwise the wait for a sandbox slot took it.
      if (runningMs !== undefined && runningMs >= (options.timeBudgetMs ?? 0) / 2) {
        return errorReward(
          rollout.id,
          SOURCE,
          LIMIT_TIME_BUDGET,
          `the tests ran ${Math.round(runningMs)} ms of the ${options.timeBudgetMs} ms time budget ${done}, ` +
            "within their own time limits: a limit of ours, not a verdict (raise verify.budgetsMs.code)",
        );
      }
      return errorReward(
        rollout.id,
        SOURCE,
        "time_budget",
        `time budget of ${options.timeBudgetMs} ms spent ${done} (waiting for a sandbox slot)`,
      );
    }
    return this.#score(rollout, prepared, ran);
  }

  /**
   * Parses the reference, extracts the solution and builds the program; or the reward that ends
   * it: a task we cannot run is a data error (never a 0 the policy would learn from), a response
   * with no program in it is `invalid`.
   */
  #prepare(rollout: Rollout, deadline: number | undefined): Prepared | { reward: Reward } {
    const invalid = (reason: string) => ({ reward: invalidReward(rollout.id, SOURCE, reason) });
    const badTask = (code: string, message: string) => ({
      reward: errorReward(rollout.id, SOURCE, code, message),
    });
    const parsed = CodeReference.safeParse(rollout.reference ?? {});
    if (!parsed.success)
      return badTask("bad_reference", formatZodError(parsed.error, { prefix: "reference" }));
    const ref = parsed.data;
    const runner = findRunner(ref.language);
    if (runner === undefined)
      return badTask("unknown_language", `reference.language: '${ref.language}' is not supported`);
    const norm = normaliseTests(ref);
    if ("reason" in norm) return badTask("bad_reference", norm.reason);
    const { tests, style } = norm;
    const extracted = extractSolution(rollout.response, runner.fenceTags, {
      allowUntagged: this.#options.allowUntagged,
      deadline,
    });
    if (!extracted.ok) return invalid(extracted.reason);
    const built = buildProgram(runner.language, style, extracted.code, tests, ref.entry ?? ref.fn_name);
    if (!built.ok) return badTask("bad_reference", built.reason);
    const { driven } = built;
    const configured = { ...this.#options.limits, ...ref.limits };
    const plan = outputPlan(testSizes(tests, style, driven.stdins), configured, this.#box().tmpfsBytes);
    if (!plan.ok) return { reward: errorReward(rollout.id, SOURCE, LIMIT_OUTPUT, plan.reason) };
    return {
      runner,
      tests,
      style,
      driven,
      compare: CompareOptions.parse({ ...this.#options.compare, ...ref.compare }),
      scoring: ref.scoring ?? this.#options.scoring ?? "all",
      limits: { ...configured, ...plan.limits },
    };
  }

  /** Runs every test in one sandbox, judging each as it arrives. */
  async #run(p: Prepared, budgetMs: number | undefined): Promise<Ran> {
    const stopOnFailure = p.scoring === "all" && this.#options.stopOnFailure !== false;
    const verdicts: Judged[] = [];
    const abort = new AbortController();
    let startedAt: number | undefined;
    const budgetTimer = budgetMs === undefined ? undefined : setTimeout(() => abort.abort(), budgetMs);
    let result: SubmissionResult;
    try {
      result = await this.#box().runSubmission(
        {
          language: p.runner.language,
          code: p.driven.code,
          tests: p.driven.stdins.map((stdin) => ({ stdin })),
          limits: p.limits,
        },
        {
          signal: abort.signal,
          onStart: () => {
            startedAt = performance.now();
          },
          onTest: (i, r) => {
            const v = judge(r, p.style, p.tests[i] as NormalTest, p.driven.marker, p.compare);
            verdicts[i] = v;
            // A test our limit stopped does not decide an all-or-nothing score: run on, a later
            // test may still fail outright.
            return !(stopOnFailure && v !== "AC" && v !== "LIMIT");
          },
        },
      );
    } finally {
      clearTimeout(budgetTimer);
    }
    const failed = stopOnFailure && verdicts.some((v) => v !== "AC" && v !== "LIMIT");
    if (abort.signal.aborted && verdicts.length < p.tests.length && !failed) {
      const runningMs = startedAt === undefined ? undefined : performance.now() - startedAt;
      return { result, verdicts, spent: { runningMs } };
    }
    return { result, verdicts };
  }

  #score(rollout: Rollout, p: Prepared, ran: Ran): Reward {
    const { result, verdicts } = ran;
    const { tests } = p;
    const compile = result.compile;
    if (compile !== undefined && compile.status === "sandbox_error")
      throw new DataScaleError("sandbox_error", compile.stderr);
    const compileFailed = compile !== undefined && compile.status !== "ok";
    // Results the onTest callback did not see (the harness was lost mid-test).
    for (let i = verdicts.length; i < result.tests.length; i++) {
      verdicts[i] = judge(
        result.tests[i] as ExecResult,
        p.style,
        tests[i] as NormalTest,
        p.driven.marker,
        p.compare,
      );
    }
    const perTest: Judged[] = tests.map((_, i) => (compileFailed ? "CE" : (verdicts[i] ?? "SKIP")));
    const passed = perTest.filter((v) => v === "AC").length;
    const limited = perTest.filter((v) => v === "LIMIT").length;
    const failedOutright = perTest.some((v) => v !== "AC" && v !== "LIMIT" && v !== "SKIP");
    const details: Record<string, unknown> = {
      language: p.runner.language,
      style: p.style,
      scoring: p.scoring,
      passed,
      total: tests.length,
      tests: perTest,
      wallMs: Math.round(result.tests.reduce((s, t) => s + t.wallMs, 0) + (compile?.wallMs ?? 0)),
    };
    // A limit of ours decides the score unless (all-or-nothing) another test failed outright.
    if (limited > 0 && (p.scoring === "fraction" || !failedOutright)) {
      const i = perTest.indexOf("LIMIT");
      const cap = p.limits.stdoutBytes ?? 0;
      return errorReward(
        rollout.id,
        SOURCE,
        LIMIT_OUTPUT,
        `test ${i} reached the output cap of ${cap} bytes (stdout, stderr or a file) while its stdout could still ` +
          `be accepted: a limit of ours, not a verdict (${passed}/${tests.length} tests passed)`,
      );
    }
    const all = passed === tests.length;
    const score = p.scoring === "all" ? (all ? 1 : 0) : passed / tests.length;
    const verdict = all ? "correct" : p.scoring === "fraction" && passed > 0 ? "partial" : "incorrect";
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
