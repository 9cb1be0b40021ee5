// SandboxFusion's extraction patterns are matched by linear scans; these tests hold the scans
// to the regexes they replace (SandboxFusion's own patterns, run here as the oracle on small
// inputs) and show they stay linear on the inputs that made the regexes quadratic.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { defaultExtract, extractFenced, extractFreeform } from "../../src/serve/sandbox-fusion-extract.ts";

const FENCED = /```([^\n]*)\n([\s\S]*?)\n\s*```/g;
const PYTHON = /(?:^(?:import|from|#)[^\n]+\n)*^(?:def|class) [^\n]+\n(?:\s+[^\n]+\n)+/gm;

const nonEmptyLines = (text: string) =>
  `${text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .join("\n")}\n`;

const PIECES = ["```", "```py", "```python\n", "\n", " ", "\t", "\r", "\u2028", "a", "x = 1", "`", "``"];
const PY_PIECES = [
  "def f():",
  "class C:",
  "def ",
  "import os",
  "import",
  "from x import y",
  "#",
  "# c",
  "  ",
  "\t",
  "\u00a0",
  "return 1",
  "\n",
  "\n",
  "x",
];
const soup = (pieces: string[]) =>
  fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(""));

test("the fenced scan gives exactly the regex's matches", () => {
  fc.assert(
    fc.property(soup(PIECES), (text) => {
      const want = [...text.matchAll(FENCED)].map((m) => m[2] ?? "");
      assert.deepEqual(
        extractFenced(text).map((b) => b.code),
        want,
      );
    }),
    { numRuns: 3000 },
  );
});

test("the python heuristic scan gives exactly the regex's matches", () => {
  // On text without fences the heuristic decides, so the public functions show its matches:
  // every one (extractFreeform joins them) and the first (defaultExtract).
  fc.assert(
    fc.property(soup(PY_PIECES), (text) => {
      const want = [...nonEmptyLines(text).matchAll(PYTHON)].map((m) => m[0]);
      const all = extractFreeform(text, "python", false);
      assert.equal(all.code, want.join("\n\n"), JSON.stringify(text));
      assert.equal(all.type, want.length > 0 ? "heuristic" : "empty");
      assert.equal(defaultExtract(text, "python"), want[0] ?? "");
    }),
    { numRuns: 3000 },
  );
});

test("hostile completions are extracted in linear time (the regexes took minutes per megabyte)", () => {
  for (const unit of ["a```\n", "#a\n", "```py\n", "import x\n", "\n```", " ```\n"]) {
    const text = unit.repeat(Math.ceil(1_000_000 / unit.length));
    const start = process.cpuUsage();
    defaultExtract(text, "python");
    extractFreeform(text, "cpp", false);
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000;
    assert.ok(ms < 2_000, `${JSON.stringify(unit)} × 1 MB: ${ms.toFixed(0)} ms of CPU`);
  }
});
