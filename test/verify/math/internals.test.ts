// The building blocks: exact arithmetic limits, error-bounded numerics, the parser's shapes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { show } from "../../../src/verify/math/ast.ts";
import { Budget, MathLimitError } from "../../../src/verify/math/budget.ts";
import { evalNum } from "../../../src/verify/math/evaluate.ts";
import { extractCandidates } from "../../../src/verify/math/extract.ts";
import { normalizeAnswer } from "../../../src/verify/math/normalize.ts";
import { parseMath } from "../../../src/verify/math/parse.ts";
import { intRoot, q, qPowInt, qToNumber } from "../../../src/verify/math/rational.ts";

const budget = (): Budget => new Budget(1000);
const parse = (s: string): string => show(parseMath(normalizeAnswer(s), budget()));

test("integer roots are exact and refuse non-perfect powers", () => {
  assert.equal(intRoot(10n ** 40n, 2), 10n ** 20n);
  assert.equal(intRoot(27n, 3), 3n);
  assert.equal(intRoot(26n, 3), undefined);
  assert.equal(intRoot(2n ** 200n + 1n, 2), undefined);
});

test("powers beyond the bit limit are refused instead of computed", () => {
  assert.deepEqual(qPowInt(q(2n), 99n, 64_000), q(2n ** 99n));
  assert.equal(qPowInt(q(3n), 10n ** 9n, 64_000), undefined);
  assert.deepEqual(qPowInt(q(-1n), 10n ** 12n + 1n, 64_000), q(-1n));
});

test("huge rationals convert to the nearest double without overflowing to NaN", () => {
  const big = q(10n ** 400n + 1n, 10n ** 399n);
  assert.ok(Math.abs(qToNumber(big) - 10) < 1e-12);
  assert.equal(qToNumber(q(1n, 10n ** 400n)), 0);
});

test("numeric evaluation carries an error bound that covers rounding but not real differences", () => {
  const b = budget();
  const zeroish = evalNum(parseMath("\\sqrt{2}\\cdot\\sqrt{2}-2", b), new Map(), b);
  assert.ok(Math.abs(zeroish.re) <= 64 * zeroish.err, `${zeroish.re} vs err ${zeroish.err}`);
  const tiny = evalNum(parseMath("\\frac{1}{3^{50}\\pi}-\\frac{1}{3^{49}\\pi}", b), new Map(), b);
  assert.ok(Math.abs(tiny.re) > 64 * tiny.err);
});

test("the parser reads answer-shaped LaTeX", () => {
  assert.equal(parse("2\\frac{1}{2}"), "(2+(1/2))");
  assert.equal(parse("-2\\frac{1}{3}"), "-(2+(1/3))");
  assert.equal(parse("\\frac12"), "(1/2)");
  assert.equal(parse("\\sin^2 x"), "(sin(x)^2)");
  assert.equal(parse("\\log_2 8"), "logb(8,2)");
  assert.equal(parse("1,234,567"), "1234567");
  assert.equal(parse("(12,102)"), "(12, 102)");
  assert.equal(parse("[1, \\infty)"), "[1, oo)");
  assert.equal(parse("x \\in (0, 1]"), "x in (0, 1]");
  assert.equal(parse("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}"), "[[1, 2], [3, 4]]");
  assert.equal(parse("12 \\text{ cm}^2"), "12");
  assert.equal(parse("30^\\circ"), "30");
  assert.equal(parse("1.5e-3"), "3/2000");
});

test("parser limits are MathLimitErrors", () => {
  assert.throws(() => parseMath("9".repeat(500), budget()), MathLimitError);
  assert.throws(() => parseMath(`${"(".repeat(300)}1${")".repeat(300)}`, budget()), MathLimitError);
});

test("extraction prefers the Minerva closing line, joins adjacent boxes and reads tail math", () => {
  const opts = { strategies: ["minerva", "boxed", "last_math"] as const, boxed: "last" as const };
  const c = (s: string) => extractCandidates(s, opts, 50_000).map((x) => `${x.strategy}:${x.text}`);
  assert.deepEqual(
    c("so $\\boxed{255}$. Final Answer: The final answer is $10,455$. I hope it is correct."),
    ["minerva:10,455", "boxed:255", "last_math:10,455"],
  );
  assert.equal(c("\\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}")[0], "boxed:-2, 1");
  assert.deepEqual(c("So the distance is \\sqrt{17}."), ["last_math:\\sqrt{17}"]);
});
