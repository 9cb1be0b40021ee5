// Property tests (issue 12, item 6): no response string hangs, crashes or slows the code
// verifier. Extraction and comparison are linear scans that check the budget as they go; the
// whole verifier answers hostile responses (megabytes, many or unclosed fences, lone
// surrogates, NUL bytes) within its budget with a valid Reward, and one that reaches the
// sandbox is judged as the program it is, never a sandbox_error.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Reward } from "../../../src/core/schemas.ts";
import { Sandbox } from "../../../src/sandbox/sandbox.ts";
import { CompareOptions, couldStillMatch, outputsMatch } from "../../../src/verify/code/compare.ts";
import { extractSolution, scanFences } from "../../../src/verify/code/extract.ts";
import { CodeVerifier } from "../../../src/verify/code/verifier.ts";

const TAGS = ["python", "py", "python3"];
// Cooperative budgets on a shared machine: generous, but far below what a quadratic scan of
// these inputs takes (the regex this replaced needed ~1000 s for 1 MB of unclosed fences).
const MB_BUDGET_MS = 3000;

const PIECES = [
  "```",
  "````",
  "~~~",
  "```python",
  "```py\n",
  "```\n",
  "\n",
  "\r\n",
  "\r",
  " ",
  "\t",
  "`",
  "~",
  "print(1)",
  "python",
  "\u0000",
  "\ud800",
  "\udc00",
  "\ud83d\ude00",
  "é",
  "\u2028",
  "x```",
];
// Any UTF-16 code units, lone surrogates included (fast-check's binary strings are slow to make).
const utf16 = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 80 })
  .map((units) => String.fromCharCode(...units));
const hostile = fc.array(fc.constantFrom(...PIECES), { maxLength: 200 }).map((a) => a.join(""));

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
}

describe("extraction", () => {
  it("never throws; a block it returns is text of the response", () => {
    fc.assert(
      fc.property(fc.oneof(hostile, utf16), (s) => {
        const r = extractSolution(s, TAGS);
        if (r.ok) assert.ok(s.includes(r.code.replace(/\r$/, "")), "the code is a substring of the response");
        else assert.ok(r.reason.length > 0);
      }),
      { numRuns: 1000 },
    );
  });

  it("after any text that leaves no fence open, a python block is found (the last tagged block wins)", () => {
    fc.assert(
      fc.property(hostile, (prefix) => {
        const block = "```python\nprint(42)\n```\n";
        const r = extractSolution(`${prefix}\n${block}`, TAGS);
        if (!scanFences(`${prefix}\n`).unclosed)
          assert.deepEqual(r, { ok: true, code: "print(42)", tag: "python" });
      }),
      { numRuns: 1000 },
    );
  });

  it("megabyte shapes finish within the budget", () => {
    const MB = 1 << 20;
    const shapes: Record<string, string> = {
      "unclosed fences": "```python\n".repeat(MB / 10),
      "spaces after a fence": `\`\`\`${" ".repeat(MB)}\``,
      "one line of backticks": "`".repeat(MB),
      "backtick lines": "`````\n".repeat(MB / 6),
      "closed blocks": "```python\nx\n```\n".repeat(MB / 16),
      "tildes and backticks": "~~~\n```\n".repeat(MB / 8),
      "NUL bytes": "\u0000".repeat(MB),
      "lone surrogates": "\ud800\n```".repeat(MB / 5),
      "CR only": "```python\rprint(1)\r```\r".repeat(MB / 24),
    };
    for (const [name, text] of Object.entries(shapes)) {
      const { value, ms } = timed(() =>
        extractSolution(text, TAGS, { deadline: performance.now() + MB_BUDGET_MS }),
      );
      assert.ok(ms < MB_BUDGET_MS, `${name}: ${ms.toFixed(0)} ms`);
      assert.equal(typeof value.ok, "boolean", name);
    }
  });

  it("the deadline is checked inside the scan", () => {
    assert.throws(
      () => scanFences("```\n".repeat(1 << 20), performance.now() - 1),
      (e: Error & { code?: string }) => e.code === "time_budget",
    );
  });
});

describe("comparison", () => {
  const modes = ["lines", "float", "exact"].map((mode) => CompareOptions.parse({ mode }));
  const token = fc.oneof(
    fc.constantFrom(
      "1",
      "-0",
      "1e5",
      "1.",
      ".5",
      "nan",
      "inf",
      "x",
      "",
      " ",
      "\n",
      "\r\n",
      "\t",
      "1".repeat(50),
    ),
    fc.string({ maxLength: 8 }),
  );
  const output = fc.array(token, { maxLength: 40 }).map((a) => a.join(" "));

  it("never throws; an output that matches could still match at every cut", () => {
    fc.assert(
      fc.property(output, output, fc.nat(), (got, want, cut) => {
        for (const o of modes) {
          const m = outputsMatch(got, want, o);
          assert.equal(typeof m, "boolean");
          if (m)
            assert.ok(couldStillMatch(got.slice(0, cut % (got.length + 1)), want, o), `${o.mode} cut ${cut}`);
          assert.ok(outputsMatch(want, want, o));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("pathological tokens (a million digits and a letter, whitespace floods) stay linear", () => {
    const digits = `${"1".repeat(1 << 20)}x`;
    const spaces = ` ${" ".repeat(1 << 20)}1`;
    for (const o of modes) {
      for (const [a, b] of [
        [digits, "1"],
        [spaces, "1"],
        ["1\n".repeat(1 << 18), "1\n".repeat(1 << 18).replaceAll("\n", " \r\n")],
      ] as const) {
        const { ms } = timed(() => [outputsMatch(a, b, o), couldStillMatch(a, b, o), outputsMatch(b, a, o)]);
        assert.ok(ms < MB_BUDGET_MS, `${o.mode}: ${ms.toFixed(0)} ms`);
      }
    }
  });
});

describe("the whole verifier", () => {
  let sandbox: Sandbox;
  let verifier: CodeVerifier;
  const ref = { tests: [{ input: "", output: "1\n" }] };
  before(() => {
    sandbox = new Sandbox({ concurrency: 2, warm: 1 });
    verifier = new CodeVerifier({ sandbox });
  });
  after(() => sandbox.close());

  it("responses with no usable block answer `invalid` within the budget", async () => {
    const samples = fc.sample(
      hostile.filter((s) => !s.includes("```py") && !/^```\s*$/m.test(s)),
      300,
    );
    samples.push("```python\n".repeat(100_000), `\`\`\`${" ".repeat(1 << 20)}\``, "\ud800".repeat(1 << 20));
    for (const response of samples) {
      const t = performance.now();
      const r = await verifier.verify(
        { id: "p", domain: "code", reference: ref, response },
        { timeBudgetMs: 5000 },
      );
      assert.ok(performance.now() - t < 5000 + 1000);
      Reward.parse(r);
      assert.notEqual(r.verdict, "error", JSON.stringify(r.error));
    }
  });

  it("hostile programs are judged as programs: NUL bytes, lone surrogates, a megabyte of code", async () => {
    const programs: [string, string][] = [
      ["```python\nprint(1)\u0000\n```", "incorrect"],
      ["```python\nprint(1) # \ud800\n```", "correct"],
      ["```python\nprint('\udc00')\n```", "incorrect"],
      [`\`\`\`python\n${"x = 1\n".repeat(180_000)}print(1)\n\`\`\``, "correct"],
      [`\`\`\`python\n${"@#$%^&*(\n".repeat(120_000)}\n\`\`\``, "incorrect"],
    ];
    for (const [response, want] of programs) {
      const r = await verifier.verify(
        { id: "h", domain: "code", reference: ref, response },
        { timeBudgetMs: 30_000 },
      );
      assert.equal(r.verdict, want, JSON.stringify(r.error ?? r.details).slice(0, 300));
    }
  });
});
