import assert from "node:assert/strict";
import { test } from "node:test";
import { extractAnswer, MAX_RESPONSE_CHARS, stripFence, unwrapText } from "../../src/tasks/answer.ts";
import { parseRat, ratToString } from "../../src/tasks/rational.ts";
import { Rng } from "../../src/tasks/rng.ts";

const text = (r: string): string | undefined => {
  const e = extractAnswer(r);
  return e.ok ? e.text : undefined;
};

test("the last <answer> tag wins over boxed and answer: lines", () => {
  assert.equal(text("<answer>1</answer> then <answer> 2 </answer>"), "2");
  assert.equal(text("\\boxed{9} Answer: 8 <answer>7</answer>"), "7");
  assert.deepEqual(extractAnswer("<answer>7</answer>"), { ok: true, text: "7", format: "tag" });
});

test("reasoning inside <think> is ignored, even when it contains answer tags", () => {
  assert.equal(text("<think>maybe <answer>3</answer></think>\n5"), "5");
  assert.equal(text("<think>Answer: 3</think>Answer: 4"), "4");
});

test("\\boxed{} with nested braces; unclosed markers are not answers", () => {
  assert.equal(text("so \\boxed{\\frac{1}{2}} done"), "\\frac{1}{2}");
  assert.equal(text("\\boxed{1} and \\boxed{2}"), "2");
  assert.deepEqual(extractAnswer("\\boxed{12"), { ok: false, reason: "unclosed_boxed" });
  assert.deepEqual(extractAnswer("<answer>12"), { ok: false, reason: "unclosed_answer_tag" });
});

test("answer: and 'the answer is' take the rest of the text, trailing period dropped", () => {
  assert.equal(text("Work...\nFinal answer: 42."), "42");
  assert.equal(text("The answer is 42"), "42");
  assert.equal(text("answer: 1\nmore text\nanswer: 2"), "2");
  // Strict: anything after the marker is part of the answer, so this is not "42".
  assert.equal(text("The answer is 42 because 6*7"), "42 because 6*7");
});

test("a bare response is the answer; empty and huge responses are not", () => {
  assert.equal(text("  19\n"), "19");
  assert.deepEqual(extractAnswer("   "), { ok: false, reason: "empty_response" });
  assert.deepEqual(extractAnswer("1".repeat(MAX_RESPONSE_CHARS + 1)), {
    ok: false,
    reason: "response_too_long",
  });
});

test("fences, quotes and \\text are unwrapped", () => {
  assert.equal(stripFence("```\n1\n2\n```"), "1\n2");
  assert.equal(stripFence("```text\nhi\n```"), "hi");
  assert.equal(unwrapText('"abc"'), "abc");
  assert.equal(unwrapText("\\text{yes}"), "yes");
});

test("parseRat accepts exact number forms and nothing around them", () => {
  const v = (s: string): string | undefined => {
    const r = parseRat(s);
    return r && ratToString(r.value);
  };
  assert.equal(v("42"), "42");
  assert.equal(v("-7"), "-7");
  assert.equal(v("+3"), "3");
  assert.equal(v("0.75"), "3/4");
  assert.equal(v("-.5"), "-1/2");
  assert.equal(v("6/8"), "3/4");
  assert.equal(parseRat("6/8")?.reduced, false);
  assert.equal(parseRat("3/4")?.reduced, true);
  assert.equal(v("\\frac{3}{4}"), "3/4");
  assert.equal(v("-\\dfrac{3}{4}"), "-3/4");
  assert.equal(v("$12$"), "12");
  assert.equal(v("1,234,567"), "1234567");
  assert.equal(v("123456789012345678901234567890"), "123456789012345678901234567890");
  for (const bad of ["x=5", "5 apples", "1,23", "3/0", "1e3", "0x10", "", "five", "1..2"]) {
    assert.equal(parseRat(bad), undefined, bad);
  }
});

test("Rng is deterministic per (seed, stream), in range, and roughly uniform", () => {
  const a = new Rng(42, "x");
  const b = new Rng(42, "x");
  const c = new Rng(42, "y");
  const seqA = Array.from({ length: 50 }, () => a.u32());
  assert.deepEqual(
    seqA,
    Array.from({ length: 50 }, () => b.u32()),
  );
  assert.notDeepEqual(
    seqA,
    Array.from({ length: 50 }, () => c.u32()),
  );
  assert.notDeepEqual(
    seqA,
    Array.from({ length: 50 }, () => new Rng(43, "x").u32()),
  );
  // Seeds above 2^32 are distinct from their low 32 bits.
  assert.notEqual(new Rng(2 ** 32 + 5).u32(), new Rng(5).u32());
  const r = new Rng(7);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 60_000; i++) {
    const x = r.int(1, 6);
    assert.ok(x >= 1 && x <= 6);
    counts[x - 1] = (counts[x - 1] as number) + 1;
  }
  for (const k of counts) assert.ok(Math.abs(k - 10_000) < 500, `non-uniform: ${counts}`);
  assert.throws(() => new Rng(-1), /seed/);
  assert.throws(() => r.int(3, 2), /lo <= hi/);
  assert.equal(new Rng(1).bigDigits(20).toString().length, 20);
});

test("markdown answer lines and a box inside the answer tag are unwrapped", () => {
  assert.equal(text("**Answer:** 42"), "42");
  assert.equal(text("**Final Answer**: 42"), "42");
  assert.equal(text("<answer>\\boxed{42}</answer>"), "42");
  assert.equal(text("<answer>$\\boxed{\\frac{1}{2}}$</answer>"), "\\frac{1}{2}");
  // Only a box that is the whole answer is unwrapped.
  assert.equal(text("<answer>\\boxed{1}+\\boxed{2}</answer>"), "\\boxed{1}+\\boxed{2}");
  assert.equal(text("<answer>see \\boxed{4}</answer>"), "see \\boxed{4}");
});
