// Limits of ours never score a program 0 (issue 12, item 7): the output cap follows the
// tests' expected size, an output a test could still accept is an `error` when our cap stops
// it (a wrong one is OLE), a chatty correct function is not judged by its prints, and a spent
// time budget says whether the wait for a sandbox or the tests themselves took it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { classifyError, settleFinal, statusOfClass } from "../../../src/core/errors.ts";
import { errorReward } from "../../../src/core/rewards.ts";
import type { Reward, Rollout } from "../../../src/core/schemas.ts";
import { Sandbox } from "../../../src/sandbox/sandbox.ts";
import { LIMIT_OUTPUT, LIMIT_TIME_BUDGET, outputPlan } from "../../../src/verify/code/limits.ts";
import { CodeVerifier } from "../../../src/verify/code/verifier.ts";

let sandbox: Sandbox;
let all: CodeVerifier;
let fraction: CodeVerifier;
let n = 0;

const MiB = 1 << 20;
const py = (code: string) => `\`\`\`python\n${code}\n\`\`\``;
const rollout = (reference: Record<string, unknown>, response: string): Rollout => ({
  id: `l${++n}`,
  domain: "code",
  reference,
  response,
});
const detail = (r: Reward) => JSON.stringify(r.error ?? r.details);

before(() => {
  sandbox = new Sandbox({ concurrency: 2, warm: 1 });
  const limits = { timeMs: 4000, memoryMb: 512 };
  all = new CodeVerifier({ sandbox, limits });
  fraction = new CodeVerifier({ sandbox, limits, scoring: "fraction" });
});
after(() => sandbox.close());

describe("output cap", () => {
  // 10 MiB of "1\n": above the 8 MiB default cap.
  const big = { tests: [{ input: "", output: "1\n".repeat(5 * MiB) }] };

  it("a correct program whose expected output exceeds the default cap passes", async () => {
    const r = await all.verify(rollout(big, py("import sys\nsys.stdout.write('1\\n' * (5 << 20))")));
    assert.equal(r.verdict, "correct", detail(r));
  });

  it("a wrong program flooding output is OLE, a wrong answer", async () => {
    const r = await all.verify(rollout(big, py("import sys\nwhile True: sys.stdout.write('2\\n' * 4096)")));
    assert.equal(r.verdict, "incorrect", detail(r));
    assert.deepEqual(r.details?.tests, ["OLE"]);
  });

  it("the right answer followed by endless whitespace is a limit of ours, not a 0", async () => {
    const ref = { tests: [{ input: "", output: "42\n" }] };
    const r = await all.verify(
      rollout(ref, py("import sys\nprint(42)\nwhile True: sys.stdout.write(' ' * 65536)")),
    );
    assert.equal(r.verdict, "error", detail(r));
    assert.equal(r.error?.code, LIMIT_OUTPUT);
    assert.match(String(r.error?.message), /could still be accepted/);
  });

  it("stderr flooding stops a correct program: a limit, unless another test failed outright", async () => {
    const flood = py("import sys\nn = int(input())\nprint(n)\nwhile n == 1: sys.stderr.write('x' * 65536)");
    const ok = { input: "2\n", output: "2\n" };
    const flooded = { input: "1\n", output: "1\n" };
    const r = await all.verify(rollout({ tests: [flooded, ok] }, flood));
    assert.equal(r.error?.code, LIMIT_OUTPUT, detail(r));
    const wrong = { input: "3\n", output: "4\n" };
    const r2 = await all.verify(rollout({ tests: [flooded, wrong] }, flood));
    assert.equal(r2.verdict, "incorrect", detail(r2));
    assert.deepEqual(r2.details?.tests, ["LIMIT", "WA"]);
    // A fraction cannot be known when one test was stopped by us.
    const r3 = await fraction.verify(rollout({ tests: [flooded, wrong] }, flood));
    assert.equal(r3.error?.code, LIMIT_OUTPUT, detail(r3));
  });

  it("an expected output the sandbox cannot hold is an error before anything runs", async () => {
    const huge = { tests: [{ input: "", output: "x".repeat(40 * MiB) }] };
    const r = await all.verify(rollout(huge, py("print('x' * (40 << 20))")));
    assert.equal(r.error?.code, LIMIT_OUTPUT, detail(r));
    assert.match(String(r.error?.message), /tmpfsBytes/);
  });

  it("the plan: max(default, 3 × expected + 1 MiB), bounded by the scratch space", () => {
    const tmpfs = 64 * MiB;
    const small = outputPlan({ stdinBytes: 10, expectedBytes: 100 }, {}, tmpfs);
    assert.deepEqual(small, { ok: true, limits: { stdoutBytes: 8 * MiB, fileBytes: 8 * MiB } });
    const mid = outputPlan({ stdinBytes: 0, expectedBytes: 3 * MiB }, {}, tmpfs);
    assert.deepEqual(mid, { ok: true, limits: { stdoutBytes: 10 * MiB, fileBytes: 10 * MiB } });
    const bounded = outputPlan({ stdinBytes: 0, expectedBytes: 10 * MiB }, {}, tmpfs);
    assert.ok(bounded.ok && bounded.limits.stdoutBytes === (31 * MiB) / 2);
    assert.equal(outputPlan({ stdinBytes: 31 * MiB, expectedBytes: 1 }, {}, tmpfs).ok, false);
    const configured = outputPlan({ stdinBytes: 0, expectedBytes: undefined }, { stdoutBytes: MiB }, tmpfs);
    assert.ok(configured.ok && configured.limits.stdoutBytes === MiB);
  });
});

describe("function-call and assertion tests are not judged by their prints", () => {
  it("a correct function printing 20 MiB of debug output passes (Python and JavaScript)", async () => {
    const ref = { entry: "sq", tests: [{ args: [3], expected: 9 }] };
    const pyr = await all.verify(
      rollout(ref, py("def sq(x):\n    for _ in range(320): print('d' * 65536)\n    return x * x")),
    );
    assert.equal(pyr.verdict, "correct", detail(pyr));
    const js = await all.verify(
      rollout(
        { ...ref, language: "javascript" },
        "```js\nfunction sq(x) { for (let i = 0; i < 320; i++) console.log('d'.repeat(65536)); return x * x; }\n```",
      ),
    );
    assert.equal(js.verdict, "correct", detail(js));
    const asserted = await all.verify(
      rollout(
        { entry: "sq", tests: [{ code: "def check(f):\n    assert f(4) == 16" }] },
        py("def sq(x):\n    print('d' * (20 << 20))\n    return x * x"),
      ),
    );
    assert.equal(asserted.verdict, "correct", detail(asserted));
  });
});

describe("time budget", () => {
  it("tests that need more than the budget are a limit of ours, not a 0 and not a retry", async () => {
    const r = await all.verify(
      rollout(
        { tests: [1, 2, 3].map(() => ({ input: "", output: "3\n" })) },
        py("import time\ntime.sleep(0.4)\nprint(3)"),
      ),
      { timeBudgetMs: 600 },
    );
    assert.equal(r.verdict, "error");
    assert.equal(r.error?.code, LIMIT_TIME_BUDGET, detail(r));
  });

  it("a budget spent waiting for a sandbox slot is time_budget (the infrastructure's)", async () => {
    const one = new Sandbox({ concurrency: 1, warm: 1 });
    try {
      const v = new CodeVerifier({ sandbox: one });
      const ref = { tests: [{ input: "", output: "1\n" }] };
      const hog = v.verify(rollout(ref, py("import time\ntime.sleep(1.5)\nprint(1)")));
      await new Promise((res) => setTimeout(res, 100));
      const r = await v.verify(rollout(ref, py("print(1)")), { timeBudgetMs: 500 });
      assert.equal(r.error?.code, "time_budget", detail(r));
      assert.match(String(r.error?.message), /waiting for a sandbox slot/);
      assert.equal((await hog).verdict, "correct");
    } finally {
      await one.close();
    }
  });
});

describe("how a limit of ours is classified", () => {
  it("final but no verdict: stays an error (left out of training), 422 where only numbers can be sent", () => {
    for (const code of [LIMIT_OUTPUT, LIMIT_TIME_BUDGET]) {
      assert.equal(classifyError(code, "rtv:code"), "limit");
      assert.equal(statusOfClass("limit"), 422);
      const r = settleFinal(errorReward("x", "rtv:code", code, "cap"));
      assert.equal(r.verdict, "error", "not settled into an `invalid` 0");
    }
    assert.equal(classifyError("time_budget", "rtv:code"), "infrastructure", "waiting for a slot: retry");
  });
});
