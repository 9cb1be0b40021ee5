// The code verifier end to end through the real sandbox: each test style and comparison
// mode with correct, partially correct, crashing, timing-out and non-compiling solutions.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Reward, Rollout } from "../../../src/core/schemas.ts";
import { Sandbox } from "../../../src/sandbox/sandbox.ts";
import { CodeVerifier } from "../../../src/verify/code/verifier.ts";
import { VerifyPool } from "../../../src/verify/pool.ts";

let sandbox: Sandbox;
let all: CodeVerifier;
let fraction: CodeVerifier;
let n = 0;

const fence = (lang: string, code: string) => `Here is my solution.\n\n\`\`\`${lang}\n${code}\n\`\`\`\n`;
const rollout = (reference: Record<string, unknown>, response: string): Rollout => ({
  id: `r${++n}`,
  domain: "code",
  reference,
  response,
});
const SUM_TESTS = [
  { input: "1 2\n", output: "3\n" },
  { input: "10 20\n", output: "30\n" },
  { input: "-5 5\n", output: "0\n" },
];

before(() => {
  sandbox = new Sandbox({ concurrency: 2, warm: 2 });
  const limits = { timeMs: 1000, memoryMb: 256 };
  all = new CodeVerifier({ sandbox, limits });
  fraction = new CodeVerifier({ sandbox, limits, scoring: "fraction" });
});
after(() => sandbox.close());

function tests(r: Reward): unknown {
  return r.details?.tests;
}

describe("stdin/stdout tests", () => {
  it("a correct python solution passes every test", async () => {
    const r = await all.verify(
      rollout({ tests: SUM_TESTS }, fence("python", "a, b = map(int, input().split())\nprint(a + b)")),
    );
    assert.equal(r.verdict, "correct");
    assert.equal(r.score, 1);
    assert.deepEqual(tests(r), ["AC", "AC", "AC"]);
  });

  it("a partially correct solution: 0 all-or-nothing (stopping early), a fraction otherwise", async () => {
    const code = fence("python", "a, b = map(int, input().split())\nprint(a + b if a > 0 else 1)");
    const r1 = await all.verify(rollout({ tests: SUM_TESTS }, code));
    assert.equal(r1.score, 0);
    assert.equal(r1.verdict, "incorrect");
    assert.deepEqual(tests(r1), ["AC", "AC", "WA"]);
    const swapped = [SUM_TESTS[2], SUM_TESTS[0], SUM_TESTS[1]];
    const r2 = await all.verify(rollout({ tests: swapped }, code));
    assert.deepEqual(tests(r2), ["WA", "SKIP", "SKIP"], "all-or-nothing stops at the first failure");
    const r3 = await fraction.verify(rollout({ tests: swapped }, code));
    assert.equal(r3.verdict, "partial");
    assert.ok(Math.abs(r3.score - 2 / 3) < 1e-9);
    assert.deepEqual(tests(r3), ["WA", "AC", "AC"]);
  });

  it("crash, timeout and memory blow-up give RE, TLE and MLE", async () => {
    const code = fence(
      "python",
      `n = int(input())
if n == 1: raise ValueError("boom")
if n == 2:
    while True: pass
if n == 3: x = bytearray(1 << 30)
print(n)`,
    );
    const ref = {
      tests: [1, 2, 3, 4].map((i) => ({ input: `${i}\n`, output: `${i}\n` })),
    };
    const r = await fraction.verify(rollout(ref, code));
    assert.deepEqual(tests(r), ["RE", "TLE", "MLE", "AC"]);
    assert.match(String(r.details?.stderr), /ValueError: boom/);
  });

  it("a python syntax error is a compile error for every test", async () => {
    const r = await all.verify(rollout({ tests: SUM_TESTS }, fence("python", "def f(:\n  pass")));
    assert.deepEqual(tests(r), ["CE", "CE", "CE"]);
    assert.equal(r.score, 0);
  });

  it("c++: correct, non-compiling, and float tolerance", async () => {
    const ok = await all.verify(
      rollout(
        { language: "cpp", tests: SUM_TESTS },
        fence("cpp", '#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}'),
      ),
    );
    assert.equal(ok.verdict, "correct", JSON.stringify(ok.details));
    const ce = await all.verify(
      rollout({ language: "cpp", tests: SUM_TESTS }, fence("cpp", "int main( { return 0 }")),
    );
    assert.deepEqual(tests(ce), ["CE", "CE", "CE"]);
    assert.match(String(ce.details?.compile), /error/);
    const third = fence("cpp", '#include <cstdio>\nint main(){ std::printf("%.9f\\n", 1.0/3); }');
    const exactRef = { language: "cpp", tests: [{ input: "", output: "0.333333\n" }] };
    assert.equal((await all.verify(rollout(exactRef, third))).score, 0);
    assert.equal((await all.verify(rollout({ ...exactRef, compare: { mode: "float" } }, third))).score, 1);
  });

  it("exact mode rejects what lines mode accepts", async () => {
    const code = fence("python", "print('3 ')");
    const ref = { tests: [{ input: "", output: "3\n" }] };
    assert.equal((await all.verify(rollout(ref, code))).score, 1);
    assert.equal((await all.verify(rollout({ ...ref, compare: { mode: "exact" } }, code))).score, 0);
  });

  it("javascript stdio", async () => {
    const r = await all.verify(
      rollout(
        { language: "javascript", tests: SUM_TESTS },
        fence(
          "javascript",
          "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number); console.log(a + b);",
        ),
      ),
    );
    assert.equal(r.verdict, "correct", JSON.stringify(r.details));
  });

  it("APPS/CodeContests ground truth {inputs, outputs} is accepted", async () => {
    const r = await all.verify(
      rollout(
        { inputs: ["2 3\n", "4 5\n"], outputs: ["6\n", "20\n"] },
        fence("python", "a, b = map(int, input().split())\nprint(a * b)"),
      ),
    );
    assert.equal(r.verdict, "correct");
  });
});

describe("function-call tests", () => {
  const ref = {
    entry: "two_sum",
    tests: [
      { args: [[2, 7, 11, 15], 9], expected: [0, 1] },
      { args: [[3, 2, 4], 6], expected: [1, 2] },
    ],
  };

  it("python functions and Solution methods; prints do not confuse the result", async () => {
    const f = fence(
      "python",
      "def two_sum(nums, t):\n    print('debug', nums)\n    seen = {}\n    for i, x in enumerate(nums):\n        if t - x in seen: return [seen[t - x], i]\n        seen[x] = i",
    );
    assert.equal((await all.verify(rollout(ref, f))).verdict, "correct");
    const cls = fence(
      "python",
      "class Solution:\n    def two_sum(self, nums, t):\n        return [i for i in range(len(nums)) for j in range(i) if nums[i] + nums[j] == t and False] or [0, 1]",
    );
    assert.deepEqual(tests(await fraction.verify(rollout(ref, cls))), ["AC", "WA"]);
  });

  it("javascript functions; a missing entry is RE", async () => {
    const jsRef = { ...ref, language: "javascript" };
    const f = fence(
      "js",
      "function two_sum(nums, t) { const m = new Map(); for (let i = 0; i < nums.length; i++) { if (m.has(t - nums[i])) return [m.get(t - nums[i]), i]; m.set(nums[i], i); } }",
    );
    assert.equal((await all.verify(rollout(jsRef, f))).verdict, "correct");
    const missing = await fraction.verify(rollout(jsRef, fence("js", "function other() {}")));
    assert.deepEqual(tests(missing), ["RE", "RE"]);
  });

  it("function-call tests in c++ are a data error with a reason (the task cannot be run)", async () => {
    const r = await all.verify(
      rollout({ ...ref, language: "cpp" }, fence("cpp", "int two_sum(){return 0;}")),
    );
    assert.equal(r.verdict, "error");
    assert.equal(r.error?.code, "bad_reference");
    assert.match(String(r.error?.message), /not supported for cpp/);
  });
});

describe("assertion tests", () => {
  it("python HumanEval-style check(entry) and plain asserts", async () => {
    const ref = {
      entry: "add",
      tests: [
        { code: "def check(f):\n    assert f(1, 2) == 3\n    assert f(0, 0) == 0" },
        { code: "assert add(2, 2) == 4" },
      ],
    };
    assert.equal(
      (await all.verify(rollout(ref, fence("python", "def add(a, b): return a + b")))).verdict,
      "correct",
    );
    const wrong = await fraction.verify(
      rollout(ref, fence("python", "def add(a, b): return a * b if a else a + b")),
    );
    assert.deepEqual(tests(wrong), ["WA", "AC"]);
    const early = await fraction.verify(rollout(ref, fence("python", "import os\nos._exit(0)")));
    assert.deepEqual(tests(early), ["RE", "RE"], "exiting before the tests is not a pass");
  });

  it("javascript and c++ asserts", async () => {
    const js = await fraction.verify(
      rollout(
        {
          language: "javascript",
          tests: [{ code: "assert.equal(sq(3), 9)" }, { code: "assert.equal(sq(-2), 5)" }],
        },
        fence("javascript", "function sq(x) { return x * x; }"),
      ),
    );
    assert.deepEqual(tests(js), ["AC", "WA"]);
    const cpp = await fraction.verify(
      rollout(
        { language: "cpp", tests: [{ code: "assert(sq(3) == 9);" }, { code: "assert(sq(-2) == 5);" }] },
        fence("cpp", "int sq(int x) { return x * x; }"),
      ),
    );
    assert.deepEqual(tests(cpp), ["AC", "WA"]);
  });
});

describe("invalid input and infrastructure", () => {
  it("no code block, or none in the language, is invalid with a reason", async () => {
    const r = await all.verify(rollout({ tests: SUM_TESTS }, "print(1)"));
    assert.equal(r.verdict, "invalid");
    assert.equal(r.details?.reason, "no fenced code block in the response");
    const r2 = await all.verify(rollout({ tests: SUM_TESTS }, fence("rust", "fn main(){}")));
    assert.match(String(r2.details?.reason), /no code block in python \(found: rust\)/);
  });

  it("a bad reference is a data error naming the field, never a reward of 0", async () => {
    const r = await all.verify(rollout({ tests: [{ input: "1" }] }, fence("python", "print(1)")));
    assert.equal(r.verdict, "error");
    assert.equal(r.error?.code, "bad_reference");
    assert.match(String(r.error?.message), /tests\[0\]: stdio tests need input and output/);
    const r2 = await all.verify(rollout({ language: "cobol", tests: SUM_TESTS }, fence("cobol", "x")));
    assert.equal(r2.error?.code, "unknown_language");
    assert.match(String(r2.error?.message), /^reference\.language: 'cobol' is not supported/);
  });
});

describe("through datascale verify's worker threads", () => {
  it("the registry loads the code verifier in a worker and it runs sandboxes there", async () => {
    const pool = new VerifyPool({ workers: 1, timeBudgetMs: 20_000 });
    try {
      assert.ok((await pool.ready()).includes("code"));
      const rewards = await pool.verify([
        rollout({ tests: SUM_TESTS }, fence("python", "a, b = map(int, input().split())\nprint(a + b)")),
        rollout({ tests: SUM_TESTS }, fence("python", "print(0)")),
      ]);
      assert.deepEqual(
        rewards.map((r) => r.verdict),
        ["correct", "incorrect"],
      );
    } finally {
      await pool.close();
    }
  });
});
