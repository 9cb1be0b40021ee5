// Behaviour of the verifier beyond the labelled set: limits, budgets, options, registry.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Reward } from "../../../src/core/schemas.ts";
import { createMathVerifier } from "../../../src/verify/math/index.ts";
import { VerifierRegistry } from "../../../src/verify/registry.ts";

const v = createMathVerifier();
function check(gold: string, response: string, budgetMs = 1000): Reward {
  const r = v.verify(
    { id: "t", domain: "math", reference: { answer: gold }, response },
    { timeBudgetMs: budgetMs },
  );
  assert.ok(!(r instanceof Promise), "verify must be synchronous");
  return r;
}

function timed(f: () => Reward): [Reward, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

test("details carry the extracted answer, the gold, the strategy and a reason", () => {
  const r = check("\\frac{1}{2}", "Some work... so the answer is $\\boxed{0.5}$.");
  assert.equal(r.verdict, "correct");
  assert.equal(r.score, 1);
  assert.equal(r.details?.["extracted"], "0.5");
  assert.equal(r.details?.["extraction"], "boxed");
  assert.equal(r.details?.["gold"], "\\frac{1}{2}");
  assert.equal(r.details?.["strategy"], "exact");
  assert.match(String(r.details?.["reason"]), /equivalent/);
});

test("a response without an answer is invalid, not incorrect", () => {
  const r = check("5", "I do not know how to do this problem.");
  assert.equal(r.verdict, "invalid");
  assert.equal(r.score, 0);
  assert.match(String(r.details?.["reason"]), /no answer/);
});

test("a missing or unparseable gold is an error naming the field", () => {
  const r = v.verify({ id: 1, domain: "math", response: "\\boxed{1}" });
  assert.equal(r instanceof Promise ? undefined : r.verdict, "error");
  const g = check("\\frac{1}{", "\\boxed{1}");
  assert.equal(g.verdict, "error");
  assert.equal(g.error?.code, "gold_unparseable");
  assert.match(g.error?.message ?? "", /reference\.answer/);
});

test("a million-digit number is refused quickly as invalid", () => {
  const [r, ms] = timed(() => check("5", `\\boxed{${"9".repeat(1_000_000)}}`));
  assert.equal(r.verdict, "invalid");
  assert.match(String(r.details?.["reason"]), /longer than|digits/);
  assert.ok(ms < 500, `${ms} ms`);
});

test("deep nesting is refused as invalid", () => {
  const deep = `${"(".repeat(5000)}1${")".repeat(5000)}`;
  const [r, ms] = timed(() => check("1", `The answer is $${deep}$`));
  assert.equal(r.verdict, "invalid");
  const inner = `${"{".repeat(500)}1${"}".repeat(500)}`;
  const r2 = check("1", `\\boxed{${inner}}`);
  assert.equal(r2.verdict, "invalid");
  assert.match(String(r2.details?.["reason"]), /nesting/);
  assert.ok(ms < 500, `${ms} ms`);
});

test("huge exponents and power towers end promptly (Math-Verify #65)", () => {
  for (const [gold, resp] of [
    ["5", "\\boxed{\\dfrac{5^{(5^{(5^{(5^5)})}-4)}-5}{16}}"],
    ["\\dfrac{5^{(5^{(5^{(5^5)})}-4)}-5}{16}", "\\boxed{5}"],
    ["2", "\\boxed{2^{2^{2^{2^{2^{100}}}}}}"],
    ["x", "\\boxed{x^{999999999}}"],
    ["1", "\\boxed{\\log(\\log(\\log(\\log(\\log(\\log(\\log(10^{10^{10}})))))))}"],
    ["1", "\\boxed{99999!}"],
  ] as const) {
    const [r, ms] = timed(() => check(gold, resp, 200));
    assert.ok(r.verdict === "incorrect" || r.verdict === "invalid", `${gold} vs ${resp}: ${r.verdict}`);
    assert.ok(ms < 400, `${resp}: ${ms} ms`);
  }
});

test("an exhausted time budget is an error verdict with code time_budget", () => {
  const gold = Array.from({ length: 60 }, (_, i) => `x^{${i}}\\sin(x+${i})`).join("+");
  const [r, ms] = timed(() => check(gold, `\\boxed{${gold}+y}`, 0.2));
  assert.equal(r.verdict, "error");
  assert.equal(r.error?.code, "time_budget");
  assert.ok(ms < 200, `${ms} ms`);
});

test("extraction strategies and box choice are configurable", () => {
  const response = "First $\\boxed{3}$, then correcting: $\\boxed{5}$. Answer: 7";
  const last = createMathVerifier();
  const first = createMathVerifier({ boxed: "first" });
  const answerFirst = createMathVerifier({ strategies: ["answer_colon", "boxed"] });
  const rollout = (gold: string) => ({ id: 1, domain: "math", reference: { answer: gold }, response });
  assert.equal((last.verify(rollout("5")) as Reward).verdict, "correct");
  assert.equal((first.verify(rollout("3")) as Reward).verdict, "correct");
  assert.equal((answerFirst.verify(rollout("7")) as Reward).verdict, "correct");
  const onlyTags = createMathVerifier({ strategies: ["answer_tag"] });
  assert.equal((onlyTags.verify(rollout("5")) as Reward).verdict, "invalid");
});

test("the decimal-approximation threshold is an option", () => {
  const loose = createMathVerifier({ equivalence: { minSignificantDigits: 3 } });
  const r = loose.verify({ id: 1, domain: "math", reference: { answer: "\\pi" }, response: "\\boxed{3.14}" });
  assert.equal((r as Reward).verdict, "correct");
  assert.equal(check("\\pi", "\\boxed{3.14}").verdict, "incorrect");
});

test("the registry serves the math verifier", async () => {
  const reg = new VerifierRegistry();
  assert.ok((await reg.domains()).includes("math"));
  const m = await reg.get("math");
  assert.equal(m?.source, "rtv:math");
  const r = await m!.verify({ id: 7, domain: "math", reference: { answer: 4 }, response: "2+2 = 4" });
  assert.equal(r.verdict, "correct");
  assert.equal(r.id, 7);
});

test("GSM8K: the closing '#### <answer>' line, currency and thousands separators stripped", () => {
  const solution =
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72";
  for (const [gold, response] of [
    ["72", solution],
    [solution, "She sold 72 clips altogether.\n#### 72"], // GSM8K's gold is its worked solution
    ["1200", "The total is 1,200 dollars.\n#### $1,200"],
    ["1200", "#### 1,200."],
    ["-5", "#### -$5"],
    ["18", "So 18 clips.\n#### 18 clips"],
    ["3.5", "#### **3.5**"],
    ["7", "First 3\n#### 3\nwait, correcting:\n#### 7"],
  ] as const) {
    const r = check(gold, response);
    assert.equal(r.verdict, "correct", `${JSON.stringify(gold)} vs ${JSON.stringify(response)}`);
    assert.equal(r.details?.["extraction"], "gsm8k");
  }
  for (const [gold, response] of [
    ["72", solution.replace("#### 72", "#### 73")],
    ["1200", "#### 1,20"],
    ["1200", "#### 12.00"],
    ["3", "#### 7\n</s>"], // a closing tag after the answer line does not hide it
  ] as const) {
    assert.equal(check(gold, response).verdict, "incorrect", `${gold} vs ${JSON.stringify(response)}`);
  }
  // A markdown heading is not a GSM8K answer line.
  for (const response of [
    "#### Step 1\nAdd the numbers.\n#### Result\nThe answer is 5.",
    "#### 2 Solve for x\nSo x = 5, and the answer is $\\boxed{5}$.",
  ]) {
    const heading = check("5", response);
    assert.equal(heading.verdict, "correct", response);
    assert.notEqual(heading.details?.["extraction"], "gsm8k");
  }
});
