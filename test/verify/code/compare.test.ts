import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CompareOptions,
  couldStillMatch,
  outputsMatch,
  valuesMatch,
} from "../../../src/verify/code/compare.ts";
import { extractSolution, fencedBlocks } from "../../../src/verify/code/extract.ts";

const lines = CompareOptions.parse({});
const float = CompareOptions.parse({ mode: "float" });
const exact = CompareOptions.parse({ mode: "exact" });

describe("output comparison", () => {
  it("lines mode tolerates whitespace runs, CRLF and trailing blank lines only", () => {
    assert.ok(outputsMatch("1  2\r\n3 \n\n", "1 2\n3", lines));
    assert.ok(!outputsMatch("1 2 3", "1 2\n3", lines), "line structure matters");
    assert.ok(!outputsMatch("2 1", "1 2", lines), "order matters (no APPS set fallback)");
    assert.ok(!outputsMatch("1\n2", "1\n2\n3", lines), "missing lines are detected (unlike zip)");
    assert.ok(!outputsMatch("0.5000001", "0.5", lines));
  });

  it("float mode compares numbers within tolerance but integers exactly", () => {
    assert.ok(outputsMatch("0.3333333", "0.33333333333", float));
    assert.ok(outputsMatch("1e3 x", "1000.0 x", float));
    assert.ok(!outputsMatch("0.34", "0.3333", float));
    assert.ok(!outputsMatch("100000000000000001", "100000000000000000", float), "big integers are exact");
    assert.ok(!outputsMatch("abc", "abd", float));
    assert.ok(outputsMatch("nan inf", "NaN Infinity", float));
  });

  it("lines mode: blank lines in the middle count, at the end they do not, lone CR breaks lines", () => {
    assert.ok(!outputsMatch("1\n\n2", "1\n2", lines));
    assert.ok(outputsMatch("1\r2\r", "1\n2", lines));
    assert.ok(outputsMatch("", "\n\n", lines));
    assert.ok(!outputsMatch("", "x", lines));
    assert.ok(outputsMatch("a\u00a0b", "a b", lines), "JavaScript's whitespace, as before");
  });

  it("a cut-off output could still match only if it is the start of an accepted one", () => {
    assert.ok(couldStillMatch("1 2\n3", "1 2\n34\n", lines), "cut inside a token");
    assert.ok(couldStillMatch("1   2 \n34\n   \n\n", "1 2\n34", lines), "whitespace padding");
    assert.ok(!couldStillMatch("1 2\n35", "1 2\n34\n", lines), "a wrong character");
    assert.ok(!couldStillMatch("1 2\n34 \n", "1 2\n345\n", lines), "a token ended by a space is complete");
    assert.ok(!couldStillMatch("1 2\n34\nx", "1 2\n34\n", lines), "a line beyond the expected ones");
    assert.ok(couldStillMatch("0.33333333333", "0.333333", float), "more digits of a close number");
    assert.ok(!couldStillMatch("0.33333333333", "0.333333", lines));
    assert.ok(couldStillMatch("ab", "abc", exact));
    assert.ok(!couldStillMatch("abcd", "abc", exact));
  });

  it("exact mode is byte-for-byte", () => {
    assert.ok(outputsMatch("a\n", "a\n", exact));
    assert.ok(!outputsMatch("a", "a\n", exact));
    assert.ok(!outputsMatch("a  b\n", "a b\n", exact));
  });

  it("function-call values compare deeply, with float tolerance only in float mode", () => {
    assert.ok(valuesMatch([1, { a: [2, "x"] }], [1, { a: [2, "x"] }], lines));
    assert.ok(!valuesMatch([1, 2], [2, 1], lines));
    assert.ok(!valuesMatch({ a: 1 }, { a: 1, b: 2 }, lines));
    assert.ok(!valuesMatch(0.1 + 0.2, 0.3, lines));
    assert.ok(valuesMatch(0.1 + 0.2, 0.3, float));
    assert.ok(!valuesMatch(null, 0, float));
  });
});

describe("solution extraction", () => {
  it("CRLF responses, a closing fence after code, empty blocks, inline triple backticks", () => {
    assert.deepEqual(extractSolution("```python\r\nprint(1)\r\n```\r\n", ["python"]), {
      ok: true,
      code: "print(1)",
      tag: "python",
    });
    assert.deepEqual(
      fencedBlocks("```py\nx = 1\n    return x```\n").map((b) => b.code),
      ["x = 1\n    return x"],
    );
    assert.deepEqual(
      fencedBlocks("```\n```").map((b) => b.code),
      [""],
    );
    assert.deepEqual(fencedBlocks("use ```x``` inline\n```py\ny\n```"), [{ code: "y", tag: "py" }]);
    const cut = extractSolution("```python\nprint(1)\n", ["python"]);
    assert.ok(!cut.ok && /never closed/.test(cut.reason));
  });

  it("takes the last block in the target language", () => {
    const r = extractSolution(
      "First try:\n```python\nprint(1)\n```\nSome JS:\n```js\nconsole.log(2)\n```\nFinal:\n```python\nprint(3)\n```\nDone.",
      ["python", "py"],
    );
    assert.deepEqual(r, { ok: true, code: "print(3)", tag: "python" });
  });

  it("falls back to an untagged block, unless told not to", () => {
    const text = "```\nprint(1)\n```";
    assert.equal(extractSolution(text, ["python"]).ok, true);
    const r = extractSolution(text, ["python"], { allowUntagged: false });
    assert.equal(r.ok, false);
  });

  it("no block, or only other languages, is a reason", () => {
    const none = extractSolution("print(1)", ["python"]);
    assert.deepEqual(none, { ok: false, reason: "no fenced code block in the response" });
    const other = extractSolution("```cpp\nint main(){}\n```", ["python"]);
    assert.ok(!other.ok && /no code block in python \(found: cpp\)/.test(other.reason));
  });

  it("reads tildes, longer fences and indented fences", () => {
    const blocks = fencedBlocks(
      "~~~py\na\n~~~\n````python title\nb\n```\nstill b\n````\n  ```python\n  c\n  ```",
    );
    assert.deepEqual(
      blocks.map((b) => [b.tag, b.code]),
      [
        ["py", "a"],
        ["python", "b\n```\nstill b"],
        ["python", "  c"],
      ],
    );
  });
});
