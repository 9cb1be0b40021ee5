// The code_output family never runs Python to know the answer: it evaluates its own AST.
// This test proves that evaluator right by running the generated programs in python3 (our
// own generated programs, not model output, so no sandbox is needed).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { codeOutput } from "../../src/tasks/families/code-output.ts";

const python = spawnSync("python3", ["-c", "print(1)"], { encoding: "utf8" });
const hasPython = python.status === 0 && python.stdout.trim() === "1";

const RUNNER = `import sys, io, json, contextlib
out = []
for program in json.load(sys.stdin):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(program, {})
    out.append(buf.getvalue())
print(json.dumps(out))`;

test("generated programs print exactly what python3 prints", {
  skip: !hasPython && "python3 not installed",
}, () => {
  const programs: string[] = [];
  const expected: string[] = [];
  for (let d = 0; d <= 10; d += 0.5) {
    for (let seed = 0; seed < 40; seed++) {
      const t = codeOutput.generate(seed, d);
      programs.push(String(t.reference?.["program"]));
      expected.push(String(t.reference?.answer));
    }
  }
  const r = spawnSync("python3", ["-c", RUNNER], {
    input: JSON.stringify(programs),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  assert.equal(r.status, 0, r.stderr);
  const actual = JSON.parse(r.stdout) as string[];
  assert.equal(actual.length, programs.length);
  actual.forEach((out, i) => {
    assert.equal(out.replace(/\n$/, ""), expected[i], programs[i]);
  });
});

test("higher difficulty programs use loops, branches and lists", () => {
  const all = Array.from({ length: 60 }, (_, s) =>
    String(codeOutput.generate(s, 10).reference?.["program"]),
  ).join("\n");
  for (const construct of ["for i in range(", "if ", "else:", ".append(", "//", "%", "print(xs)"]) {
    assert.ok(all.includes(construct), construct);
  }
  const low = Array.from({ length: 60 }, (_, s) =>
    String(codeOutput.generate(s, 0).reference?.["program"]),
  ).join("\n");
  assert.ok(!low.includes("for ") && !low.includes("if "));
});
