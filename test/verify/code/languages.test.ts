// The code verifier in every sandbox language: reference.language picks the runner and the
// fence tag; stdio tests work for all of them, call/assert drivers for Python, JavaScript,
// TypeScript (and assert for C++); other styles are `invalid` with a reason, never a 0.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Rollout } from "../../../src/core/schemas.ts";
import { RUNNERS } from "../../../src/sandbox/runners/index.ts";
import { Sandbox } from "../../../src/sandbox/sandbox.ts";
import { CodeVerifier } from "../../../src/verify/code/verifier.ts";

const STDIO = RUNNERS.filter((r) => r.language !== "go_test");
let sandbox: Sandbox;
let verifier: CodeVerifier;
let n = 0;
const rollout = (reference: Record<string, unknown>, response: string): Rollout => ({
  id: `l${++n}`,
  domain: "code",
  reference,
  response,
});
const TESTS = [
  { input: "1 2\n", output: "3\n" },
  { input: "40 2\n", output: "42\n" },
];

// a + b from stdin; the first fence tag each runner lists.
const SUM: Record<string, string> = {
  python: "a, b = map(int, input().split())\nprint(a + b)",
  javascript:
    'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
  typescript:
    'import { readFileSync } from "node:fs";\nconst [a, b]: number[] = readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
  cpp: "#include <iostream>\nint main(){ long long a, b; std::cin >> a >> b; std::cout << a + b << std::endl; }",
  go: 'package main\nimport "fmt"\nfunc main() { var a, b int; fmt.Scan(&a, &b); fmt.Println(a + b) }',
  java: "import java.util.*;\npublic class Main { public static void main(String[] x) { Scanner s = new Scanner(System.in); long a = s.nextLong(), b = s.nextLong(); System.out.println(a + b); } }",
  rust: 'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!("{}", v[0] + v[1]); }',
  bash: "read a b\necho $((a + b))",
  perl: "my ($a, $b) = split ' ', <STDIN>; print $a + $b, \"\\n\";",
};

before(() => {
  sandbox = new Sandbox({ concurrency: 2, warm: 1 });
  verifier = new CodeVerifier({ sandbox, limits: { timeMs: 4000, memoryMb: 256 } });
});
after(() => sandbox.close());

describe("stdio tests in every language the sandbox runs", () => {
  it("every runner has a program here", () => {
    // go_test builds a _test.go file: its verdict is the test binary's exit, not stdout.
    assert.deepEqual(Object.keys(SUM).sort(), STDIO.map((r) => r.language).sort());
  });
  for (const runner of STDIO) {
    it(`${runner.language}: correct is 1; a wrong program is 0`, async () => {
      const code = SUM[runner.language] as string;
      const tag = runner.fenceTags[0];
      const good = await verifier.verify(
        rollout({ tests: TESTS, language: runner.language }, `\`\`\`${tag}\n${code}\n\`\`\``),
      );
      assert.equal(good.verdict, "correct", JSON.stringify(good.details ?? good.error));
      const wrong = code
        .replace("a + b", "a - b")
        .replace("v[0] + v[1]", "v[0] - v[1]")
        .replace("$a + $b", "$a - $b");
      const bad = await verifier.verify(
        rollout({ tests: TESTS, language: runner.language }, `\`\`\`${tag}\n${wrong}\n\`\`\``),
      );
      assert.equal(bad.verdict, "incorrect", JSON.stringify(bad.details));
    });
  }
});

describe("other test styles", () => {
  it("TypeScript function-call and assertion tests (an ES-module solution included)", async () => {
    const fn = "export function add(a: number, b: number): number {\n  return a + b;\n}";
    const call = await verifier.verify(
      rollout(
        { language: "typescript", entry: "add", tests: [{ args: [1, 2], expected: 3 }] },
        `\`\`\`ts\n${fn}\n\`\`\``,
      ),
    );
    assert.equal(call.verdict, "correct", JSON.stringify(call.details));
    const asserted = await verifier.verify(
      rollout(
        { language: "typescript", tests: [{ code: "assert.equal(add(2, 2), 4);" }] },
        `\`\`\`ts\n${fn}\n\`\`\``,
      ),
    );
    assert.equal(asserted.verdict, "correct", JSON.stringify(asserted.details));
  });

  it("function-call tests in Go are a data error with a reason (the task cannot be run)", async () => {
    const r = await verifier.verify(
      rollout(
        { language: "go", entry: "f", tests: [{ args: [1], expected: 1 }] },
        "```go\nfunc f(x int) int { return x }\n```",
      ),
    );
    assert.equal(r.verdict, "error");
    assert.equal(r.error?.code, "bad_reference");
    assert.match(r.error?.message ?? JSON.stringify(r), /not supported for go/);
  });
});
