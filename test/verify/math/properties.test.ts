// Property tests: the verifier never throws, always answers within its budget with a valid
// Reward, is symmetric on scalar expressions, and accepts rewritings of an expression.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Reward } from "../../../src/core/schemas.ts";
import { createMathVerifier } from "../../../src/verify/math/index.ts";

const v = createMathVerifier();
const BUDGET_MS = 50;
// The budget is cooperative; allow for GC and timer granularity on top of it.
const SLACK_MS = 250;

/** CPU milliseconds `f` takes: wall time on a loaded shared machine says more about the neighbours. */
function cpuMs(f: () => void): number {
  const start = process.cpuUsage();
  f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function run(gold: string, response: string): Reward {
  const r = v.verify(
    { id: 1, domain: "math", reference: { answer: gold }, response },
    { timeBudgetMs: BUDGET_MS },
  );
  assert.ok(!(r instanceof Promise));
  return r;
}

const TOKENS = [
  "\\frac",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  "^",
  "_",
  "\\sqrt",
  "x",
  "y",
  "1",
  "2",
  "0",
  "9999999999",
  "\\boxed{",
  "\\pi",
  "e",
  "i",
  "!",
  "\\left(",
  "\\right)",
  "\\begin{pmatrix}",
  "\\end{pmatrix}",
  "&",
  "\\\\",
  "=",
  "<",
  "\\le",
  ",",
  "\\infty",
  "\\%",
  "\\cup",
  "$",
  "\\text{",
  "cm",
  "\\{",
  "\\}",
  "-",
  "+",
  "\\cdot",
  "/",
  ".",
  "\\pm",
  "|",
  "\\sin",
  "\\log_",
  "10^{",
  "The answer is ",
  "**",
  "<answer>",
  "</answer>",
  " ",
  "\n",
  "Final Answer: ",
  "\\ln",
];
const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((a) => a.join(""));

test("never throws and always returns a valid Reward within budget (random strings)", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.string({ unit: "binary" }), soup),
      fc.oneof(soup, fc.string()),
      (resp, gold) => {
        let r: Reward | undefined;
        const ms = cpuMs(() => {
          r = run(gold.trim() === "" ? "1" : gold, resp);
        });
        Reward.parse(r);
        assert.ok(ms < BUDGET_MS + SLACK_MS, `${ms} ms`);
      },
    ),
    { numRuns: 400 },
  );
});

test("never throws and returns within budget on adversarial shapes", () => {
  const adversarial = fc.oneof(
    fc.integer({ min: 1, max: 3000 }).map((n) => `\\boxed{${"{".repeat(n)}1${"}".repeat(n)}}`),
    fc.integer({ min: 1, max: 3000 }).map((n) => `$${"(".repeat(n)}x${")".repeat(n)}$`),
    fc.integer({ min: 1, max: 20 }).map((n) => `\\boxed{${"2^{".repeat(n)}99${"}".repeat(n)}}`),
    fc.integer({ min: 100, max: 200_000 }).map((n) => `\\boxed{${"7".repeat(n)}}`),
    fc.integer({ min: 1, max: 10_000_000 }).map((n) => `\\boxed{${n}!}`),
    fc.integer({ min: 1, max: 5000 }).map((n) => "\\boxed{".repeat(n)),
    fc.integer({ min: 1, max: 5000 }).map((n) => "$\\[".repeat(n)),
    fc
      .tuple(
        fc.constantFrom(
          "\\(",
          "\\[",
          "$",
          "<answer>",
          "final answer is ",
          "I hope it is correct ",
          "1 ",
          "**a",
          "answer: ",
        ),
        fc.integer({ min: 1000, max: 100_000 }),
      )
      .map(([unit, n]) => unit.repeat(n)),
    fc
      .integer({ min: 1, max: 400 })
      .map((n) => `\\boxed{${Array.from({ length: n }, (_, i) => `x_{${i}}`).join("+")}}`),
  );
  fc.assert(
    fc.property(adversarial, fc.constantFrom("1", "x", "\\frac{1}{2}", "(1,2)"), (resp, gold) => {
      let r: Reward | undefined;
      const ms = cpuMs(() => {
        r = run(gold, resp);
      });
      Reward.parse(r);
      assert.ok(ms < BUDGET_MS + SLACK_MS, `${resp.slice(0, 40)}…: ${ms} ms`);
    }),
    { numRuns: 150 },
  );
});

// Random scalar expressions over integers, x, y, π, e and √2, written in LaTeX.
const { expr } = fc.letrec<{ expr: string; leaf: string }>((tie) => ({
  leaf: fc.oneof(
    fc.integer({ min: 0, max: 20 }).map(String),
    fc.constantFrom("x", "y", "\\pi", "e", "\\sqrt{2}", "0.5"),
  ),
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("leaf"),
    fc.tuple(tie("expr"), tie("expr")).map(([a, b]) => `${a}+${b}`),
    fc.tuple(tie("expr"), tie("expr")).map(([a, b]) => `${a}-(${b})`),
    fc.tuple(tie("expr"), tie("expr")).map(([a, b]) => `(${a})(${b})`),
    fc.tuple(tie("expr"), fc.integer({ min: 1, max: 9 })).map(([a, n]) => `\\frac{${a}}{${n}}`),
    fc.tuple(tie("expr"), fc.integer({ min: 0, max: 3 })).map(([a, k]) => `(${a})^{${k}}`),
    tie("expr").map((a) => `\\sqrt{(${a})^2+1}`),
  ),
}));

const rewrite = fc.constantFrom(
  (a: string) => `\\frac{2(${a})}{2}`,
  (a: string) => `(${a})+0`,
  (a: string) => `1\\cdot(${a})`,
  (a: string) => `(${a})+x-x`,
  (a: string) => `\\frac{(${a})((${a})^2+1)}{(${a})^2+1}`,
);

test("a rewriting of an expression is accepted", () => {
  fc.assert(
    fc.property(expr, rewrite, (a, f) => {
      const r = run(a, `So the result is $\\boxed{${f(a)}}$.`);
      // `error` is tolerated only as budget noise on a busy machine; a rejection is a bug.
      assert.ok(
        r.verdict === "correct" || r.verdict === "error",
        `${a} vs ${f(a)}: ${JSON.stringify(r.details)}`,
      );
    }),
    { numRuns: 200 },
  );
});

test("equivalence is symmetric on scalar expressions", () => {
  fc.assert(
    fc.property(
      expr,
      fc.oneof(
        expr,
        fc.tuple(expr, rewrite).map(([a, f]) => f(a)),
      ),
      (a, b) => {
        const ab = run(a, `\\boxed{${b}}`);
        const ba = run(b, `\\boxed{${a}}`);
        if (ab.verdict === "error" || ba.verdict === "error") return; // budget noise on a busy machine
        assert.equal(ab.verdict === "correct", ba.verdict === "correct", `${a} vs ${b}`);
      },
    ),
    { numRuns: 300 },
  );
});

const TEMPLATES = [
  (b: string) => `Working through it, we get $\\boxed{${b}}$.`,
  (b: string) => `Some steps.\n\nFinal Answer: The final answer is $${b}$. I hope it is correct.`,
  (b: string) => `<think>steps</think>\n<answer>${b}</answer>`,
  (b: string) => `Therefore:\n\n**Answer:** $${b}$`,
  (b: string) => `Combining the cases, the value is $${b}$.`,
  (b: string) => `The final answer is \\(\\boxed{${b}}\\)`,
];

test("the verdict does not depend on how the answer is presented", () => {
  fc.assert(
    fc.property(
      expr,
      fc.oneof(
        expr,
        fc.tuple(expr, rewrite).map(([a, f]) => f(a)),
      ),
      fc.constantFrom(...TEMPLATES),
      (a, b, t) => {
        const bare = run(a, `\\boxed{${b}}`);
        const wrapped = run(a, t(b));
        if (bare.verdict === "error" || wrapped.verdict === "error") return; // budget noise on a busy machine
        assert.equal(
          wrapped.verdict,
          bare.verdict,
          `${a} vs ${JSON.stringify(t(b))}: ${JSON.stringify(wrapped.details)}`,
        );
      },
    ),
    { numRuns: 300 },
  );
});
