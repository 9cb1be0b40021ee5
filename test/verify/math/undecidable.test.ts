// Issue 12 items 5 and 6: no answer is accepted that cannot be decided, and no input hangs,
// crashes or slows the verifier. Property tests (fast-check) with fixed seeds.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Reward } from "../../../src/core/schemas.ts";
import { createMathVerifier } from "../../../src/verify/math/index.ts";

const v = createMathVerifier();
const BUDGET_MS = 50;
// The budget is cooperative; allow for a busy shared machine on top of it.
const SLACK_MS = 250;

function run(gold: string, response: string, budgetMs = 1000): Reward {
  const r = v.verify(
    { id: 1, domain: "math", reference: { answer: gold } as never, response },
    { timeBudgetMs: budgetMs },
  );
  assert.ok(!(r instanceof Promise));
  return r;
}

// Golds with their value, so a "different gold" is one with another value.
const GOLDS: readonly (readonly [string, number])[] = [
  ["0", 0],
  ["1", 1],
  ["-1", -1],
  ["42", 42],
  ["43", 43],
  ["\\frac{1}{2}", 0.5],
  ["0.7", 0.7],
  ["\\pi", Math.PI],
  ["\\sqrt{2}", Math.SQRT2],
  ["e", Math.E],
  ["-123456", -123456],
  ["10^{-20}", 1e-20],
];

// Terms whose value no double evaluation pins down: the reduced argument has no correct digit.
const unpinned = fc.oneof(
  fc
    .tuple(fc.constantFrom("\\sin", "\\cos", "\\tan", "\\sec", "\\cot"), fc.integer({ min: 17, max: 300 }))
    .map(([f, k]) => `${f}(10^{${k}})`),
  // Cancellation far below the rounding of its operands: √(10^{2k}+1) − 10^k ≈ 10^{-k}/2.
  fc.integer({ min: 20, max: 150 }).map((k) => `(\\sqrt{10^{${2 * k}}+1}-10^{${k}})10^{${k}}`),
  fc.integer({ min: 20, max: 300 }).map((k) => `e^{10^{${k}}}`),
);

// [response, value of the gold it was built from (undefined: the term alone)].
type Built = [string, number | undefined];
const built = fc
  .tuple(fc.constantFrom(...GOLDS), unpinned, fc.integer({ min: 0, max: 5 }))
  .map(([[gold, value], t, shape]): Built => {
    const shapes: Built[] = [
      [t, undefined],
      [`${gold}+${t}`, value],
      [`${gold}-${t}`, value],
      [`(${gold})\\cdot(1+${t})`, value],
      [`(${gold})(${t})`, value],
      [`${gold}+10^{-30}${t}`, value],
    ];
    return shapes[shape]!;
  });

test("no expression built from a gold with a term that is not pinned down passes for a different gold", () => {
  fc.assert(
    fc.property(built, fc.constantFrom(...GOLDS), ([resp, origin], [gold, value]) => {
      if (origin === value) return; // the same gold: not what this property is about
      const r = run(gold, `\\boxed{${resp}}`);
      assert.notEqual(r.verdict, "correct", `${resp} accepted for ${gold}`);
    }),
    { numRuns: 400, seed: 12 },
  );
});

test("the issue's reward hacks are rejected with the reason, equal values are accepted", () => {
  for (const gold of ["\\frac{1}{2}", "0.7", "-1"]) {
    const r = run(gold, "\\boxed{\\sin(10^{300})}");
    assert.equal(r.verdict, "incorrect", gold);
    assert.match(String(r.details?.["reason"]), /undecidable/);
  }
  for (const gold of ["42", "43"])
    assert.equal(run(gold, "\\boxed{42+\\sin(10^{300})}").verdict, "incorrect");
  for (const gold of ["0", "42", "\\pi", "\\sqrt{2}", "-123456", "\\frac{1}{3}"]) {
    assert.equal(run(gold, "\\boxed{\\tan(10^{300})}").verdict, "incorrect", gold);
  }
  assert.equal(run("(1+x)^{100000}", "\\boxed{(x+1)^{100000}}").verdict, "correct");
  assert.equal(run("1000000!", "\\boxed{1000000\\cdot 999999!}").verdict, "correct");
  assert.equal(run("0", "\\boxed{\\sqrt{2}\\cdot\\sqrt{2}-2}").verdict, "correct");
  assert.equal(run("\\pi", "\\boxed{\\frac{\\tan(\\pi/4)}{1}\\pi}").verdict, "correct");
});

test("a decimal is an approximation only as the value rounded or cut at its last written place", () => {
  assert.equal(run("1", "\\boxed{0.999999}").verdict, "incorrect");
  assert.equal(run("1", "\\boxed{1.000001}").verdict, "incorrect");
  assert.equal(run("\\frac{1}{3}", "\\boxed{0.333333}").verdict, "correct");
  assert.equal(run("\\frac{2}{3}", "\\boxed{0.666666}").verdict, "correct");
  assert.equal(run("\\frac{2}{3}", "\\boxed{0.666667}").verdict, "correct");
  assert.equal(run("\\frac{1}{3}", "\\boxed{0.333}").verdict, "incorrect"); // too few digits
  // Property: a decimal one unit (in its last place) away from an integer or a simple fraction
  // never passes for it, at any number of places from 6 to 14.
  const decimal = (units: bigint, k: number): string => {
    const neg = units < 0n;
    const digits = (neg ? -units : units).toString().padStart(k + 1, "0");
    return `${neg ? "-" : ""}${digits.slice(0, -k)}.${digits.slice(-k)}`;
  };
  fc.assert(
    fc.property(
      fc.integer({ min: -1000, max: 1000 }),
      fc.constantFrom(1n, 2n, 4n, 5n, 8n),
      fc.integer({ min: 6, max: 14 }),
      fc.constantFrom(-1n, 1n),
      (n, d, k, side) => {
        const scale = 10n ** BigInt(k);
        const exact = (BigInt(n) * scale) / d; // n/d is a terminating decimal at k ≥ 6 places
        const text = decimal(exact + side, k);
        const gold = d === 1n ? String(n) : `\frac{${n}}{${d}}`;
        assert.equal(run(gold, `\boxed{${text}}`).verdict, "incorrect", `${text} for ${gold}`);
      },
    ),
    { numRuns: 200, seed: 6 },
  );
});

// Hostile inputs: each must end within the budget with a schema-valid Reward.
const hostile = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => "1".repeat(n)),
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => `<answer>${"!".repeat(n)}`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `<answer>5${"!".repeat(n)}</answer>`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `\\boxed{3${"!".repeat(n)}}`),
  fc.integer({ min: 1, max: 100_000 }).map((n) => `${"{".repeat(n)}1${"}".repeat(n)}`),
  fc.integer({ min: 1, max: 100_000 }).map((n) => `$${"\\sqrt{".repeat(n)}2${"}".repeat(n)}$`),
  fc.constantFrom(
    "\\boxed{10^{10^{10}}}",
    "\\boxed{10^{10^{10^{10}}}}",
    "\\boxed{(10^{10})!}",
    "\\boxed{\\sin(10^{10^{10}})}",
    "\\boxed{2^{2^{2^{2^{2}}}}}",
    "\\boxed{\\frac{1}{10^{10^{10}}}}",
  ),
  fc
    .tuple(
      fc.constantFrom(
        "!",
        "1,",
        ". ",
        "$",
        "\\$",
        "**",
        "####",
        "#### 1\n",
        "$1$ or ",
        "答",
        "。",
        "\\overline{",
        "\\text{",
        "I hope it is correct. ",
        "final answer is ",
        "\\boxed{",
        "\uD800",
        "\uDC00",
        "\uD83D",
      ),
      fc.integer({ min: 10_000, max: 200_000 }),
      fc.constantFrom("", "x", "}", "$", "1", "\uDFFF"),
    )
    .map(([unit, n, tail]) => unit.repeat(Math.ceil(n / unit.length)) + tail),
  // Invalid UTF-16: lone surrogates inside an otherwise ordinary answer.
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => `The answer is $\\boxed{${s}\uD800}$ \uDC00`),
);

test("no hostile input hangs, crashes or slows the verifier (megabytes, nesting, towers, regex traps, lone surrogates)", () => {
  fc.assert(
    fc.property(hostile, fc.constantFrom("1", "x", "\\frac{1}{2}", "(1,2)"), (resp, gold) => {
      const t = performance.now();
      const r = run(gold, resp, BUDGET_MS);
      const ms = performance.now() - t;
      Reward.parse(r);
      assert.ok(
        ms < BUDGET_MS + SLACK_MS,
        `${JSON.stringify(resp.slice(0, 40))}… (${resp.length} chars): ${ms} ms`,
      );
    }),
    { numRuns: 120, seed: 66 },
  );
});

test("a hostile gold is an error naming the field or a verdict, never a hang", () => {
  for (const gold of [
    "!".repeat(100_000),
    "\uD800".repeat(10_000),
    `${"{".repeat(50_000)}1`,
    "10^{10^{10}}",
  ]) {
    const t = performance.now();
    const r = run(gold, "\\boxed{1}", BUDGET_MS);
    Reward.parse(r);
    assert.ok(performance.now() - t < BUDGET_MS + SLACK_MS);
  }
});

test("a scaled-down unpinned term is not 'within rounding of zero'", () => {
  for (const gold of ["0", "10^{-11}", "\\frac{1}{2}\\cdot 10^{-11}"]) {
    assert.equal(run(gold, "\\boxed{10^{-11}\\sin(10^{300})}").verdict, "incorrect", gold);
    assert.equal(run(gold, "\\boxed{10^{-11}\\cos(10^{20})}").verdict, "incorrect", gold);
  }
});
