// conformance:code on small sets written here in HumanEval's and MBPP's formats (the real
// data is fetched at run time and never committed): canonicals run in each set's style, a
// failing canonical is reported with its reason, mutants change the AST and fail, the JSON
// line is printed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import { CodeVerifier } from "../../src/verify/code/verifier.ts";
import { runSet } from "./code.ts";
import { fenced, loadHumanEval, loadMbpp, mutants } from "./code-sets.ts";

const HUMANEVAL = [
  {
    task_id: "Test/0",
    prompt:
      'def below(xs: list, t: int) -> bool:\n    """True if every x < t. >>> below([1], 2)\n    True"""\n',
    canonical_solution: "    for x in xs:\n        if x >= t:\n            return False\n    return True\n",
    test: "def check(candidate):\n    assert candidate([1, 2], 3) is True\n    assert candidate([1, 3], 3) is False\n    assert candidate([4], 5) is True\n",
    entry_point: "below",
  },
  {
    task_id: "Test/1",
    prompt: "def add(a, b):\n",
    canonical_solution: "    # ``` in a comment, '<' in a string\n    s = '<'\n    return a + b\n",
    test: "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
    entry_point: "add",
  },
  {
    task_id: "Test/2",
    prompt: "def wrong():\n",
    canonical_solution: "    return 1\n",
    test: "def check(candidate):\n    assert candidate() == 2\n",
    entry_point: "wrong",
  },
];
const MBPP = [
  {
    task_id: 1,
    text: "Tree height.",
    code: "class Node:\r\n    def __init__(self, l=None):\r\n        self.l = l\r\ndef height(n):\r\n    return 0 if n is None else 1 + height(n.l)",
    test_setup_code: "root = Node(Node(Node()))",
    test_list: ["assert height(root) == 3", "assert height(None) == 0", "assert height(Node()) == 1"],
    challenge_test_list: ["assert height(Node(Node())) == 2"],
  },
  {
    task_id: 2,
    text: "Count below.",
    code: "def count_below(xs, t):\n    n = 0\n    for x in xs:\n        if x < t:\n            n += 1\n    return n",
    test_setup_code: "",
    test_list: [
      "assert count_below([1, 2, 3], 3) == 2",
      "assert count_below([3], 3) == 0",
      "assert count_below([], 1) == 0",
    ],
    challenge_test_list: [],
  },
];
const SANITIZED = [
  {
    source_file: "x",
    task_id: 3,
    prompt: "Square root.",
    code: "def root2(x):\n    return math.sqrt(x)",
    test_imports: ["import math"],
    test_list: ["assert root2(4) == 2.0", "assert root2(9) == 3.0"],
  },
];

let dir: string;
let sandbox: Sandbox;
let verifier: CodeVerifier;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "conformance-code-"));
  writeFileSync(
    join(dir, "he.jsonl.gz"),
    gzipSync(`${HUMANEVAL.map((r) => JSON.stringify(r)).join("\n")}\nnot json\n`),
  );
  writeFileSync(join(dir, "mbpp.jsonl"), `${MBPP.map((r) => JSON.stringify(r)).join("\n")}\n`);
  writeFileSync(join(dir, "sanitized.json"), JSON.stringify(SANITIZED, null, 2));
  sandbox = new Sandbox({ concurrency: 2, warm: 1 });
  verifier = new CodeVerifier({ sandbox });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("conformance:code", () => {
  it("loads each format, reports a bad line, and fences programs so they cannot close the fence", () => {
    const he = loadHumanEval(join(dir, "he.jsonl.gz"));
    assert.equal(he.problems.length, 3);
    assert.match(he.bad[0] ?? "", /he\.jsonl\.gz:4: not JSON/);
    assert.ok(fenced("x = '```'\n").startsWith("````python\n"));
    const testsOf = (l: { problems: { reference: Record<string, unknown> }[] }) =>
      (l.problems[0]?.reference.tests ?? []) as { code: string }[];
    assert.equal(testsOf(loadMbpp(join(dir, "mbpp.jsonl"))).length, 4, "challenge tests included");
    assert.equal(testsOf(loadMbpp(join(dir, "mbpp.jsonl"), { challenge: false })).length, 3);
    assert.match(String(testsOf(loadMbpp(join(dir, "sanitized.json")))[0]?.code), /^import math\n/);
  });

  it("mutations leave strings and comments alone and always change the AST", () => {
    const he = loadHumanEval(join(dir, "he.jsonl.gz")).problems;
    const ms = mutants(he);
    const add = ms.filter((m) => m.problem.id === "Test/1");
    assert.deepEqual(
      add.map((m) => m.kind),
      ["return"],
      "no comparison or integer outside the comment and string",
    );
    assert.match(add[0]?.solution ?? "", /return not a \+ b/);
    const below = ms.filter((m) => m.problem.id === "Test/0").map((m) => m.change);
    assert.deepEqual(below, ["line 2: '>=' -> '>'", "line 4: 'return' -> 'return not'"]);
  });

  it("canonicals pass in each set's style, a failing one is reported with its reason, mutants fail", async () => {
    const he = await runSet("humaneval", "he", loadHumanEval(join(dir, "he.jsonl.gz")), verifier, {
      concurrency: 2,
      mutate: true,
    });
    assert.equal(he.canonical.passed, 2);
    assert.equal(he.canonical.failures[0]?.id, "Test/2");
    assert.match(he.canonical.failures[0]?.why ?? "", /incorrect \["WA"\].*AssertionError/);
    assert.deepEqual(he.mutated["boundary"], { mutants: 1, passed: 0, rate: 0, survivors: [] });
    assert.equal(he.mutated["return"]?.passed, 0);
    assert.equal(he.distinguished.allSurvive.length, 0);
    const mb = await runSet("mbpp", "mbpp", loadMbpp(join(dir, "mbpp.jsonl")), verifier, {
      concurrency: 2,
      mutate: true,
    });
    assert.equal(mb.canonical.rate, 1, JSON.stringify(mb.canonical.failures));
    // `x < t` -> `x <= t` survives none of count_below's tests; `1 +` -> `2 +` in height fails.
    assert.equal(mb.mutated["boundary"]?.passed, 0);
    assert.equal(mb.mutated["constant"]?.passed, 0);
  });

  it("the command prints the rates and one JSON line", () => {
    const r = spawnSync(
      process.execPath,
      [
        "test/conformance/code.ts",
        "--mbpp",
        join(dir, "sanitized.json"),
        "--no-mutants",
        "--concurrency",
        "1",
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /canonical: 1\/1 pass \(100\.0 %\)/);
    const last = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    assert.equal(last.bench, "conformance-code");
    assert.deepEqual(last.sets[0].canonical, 1);
  });
});
