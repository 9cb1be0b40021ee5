// /run_code, /submit and /v1/ping against the real sandbox, driven with the exact bytes
// verl's client and SandboxFusion's SDK send (nulls included), and read as they read them:
// the SDK's pydantic models must accept every answer, and verl's classification must give
// the score SandboxFusion itself would. Per language, with compiles shared through the
// sandbox's compile cache (the same program is sent several times, as verl does).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { probeIsolation } from "../../src/sandbox/isolation.ts";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import { createApp } from "../../src/serve/app.ts";
import { registerSandboxFusion } from "../../src/serve/sandbox-fusion.ts";
import { stdioMatches } from "../../src/serve/sandbox-fusion-datasets.ts";
import {
  SdkEvalResult,
  SdkRunCodeResponse,
  sdkRunCodeBody,
  sdkSubmitBody,
  verlBody,
  verlScore,
} from "./sf-clients.ts";

const report = probeIsolation();
const skip = report.bwrap.works ? false : `bubblewrap unusable here: ${report.bwrap.error}`;
let sandbox: Sandbox | undefined;
let app: FastifyInstance;
let base = "";

before(async () => {
  if (skip) return;
  sandbox = new Sandbox({ concurrency: 4, warm: 1 });
  app = createApp();
  registerSandboxFusion(app, sandbox, { memoryCapMb: 1024 });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
});
after(async () => {
  if (skip) return;
  await app.close();
  await sandbox?.close();
});

async function post(
  path: string,
  body: string,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** What the SDK's run_code does with an answer: non-200 raises, else RunCodeResponse(**json). */
async function sdkRunCode(body: string) {
  const r = await post("/run_code", body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const parsed = SdkRunCodeResponse.safeParse(r.json);
  assert.ok(parsed.success, `the SDK's RunCodeResponse rejects ${JSON.stringify(r.json)}`);
  return parsed.data;
}

// A program per language: doubles the integer on stdin; `crash` variants exit non-zero.
const DOUBLE: Record<string, { ok: string; crash: string; broken?: string }> = {
  python: { ok: "print(int(input()) * 2)", crash: "import sys\nsys.exit(3)" },
  nodejs: {
    ok: 'console.log(Number(require("fs").readFileSync(0, "utf8")) * 2)',
    crash: "process.exit(3)",
  },
  typescript: {
    ok: 'const n: number = Number(require("fs").readFileSync(0, "utf8"));\nconsole.log(n * 2);',
    crash: "process.exit(3 as number);",
  },
  cpp: {
    ok: "#include <iostream>\nint main(){ long long n; std::cin >> n; std::cout << n * 2 << std::endl; }",
    crash: "int main(){ return 3; }",
    broken: "int main( { return 0; }",
  },
  go: {
    ok: 'package main\nimport "fmt"\nfunc main() { var n int; fmt.Scan(&n); fmt.Println(n * 2) }',
    crash: 'package main\nimport "os"\nfunc main() { os.Exit(3) }',
    broken: "package main\nfunc main() { undefined() }",
  },
  java: {
    ok: "import java.util.*;\npublic class Main { public static void main(String[] a) { System.out.println(new Scanner(System.in).nextLong() * 2); } }",
    crash: "public class Main { public static void main(String[] a) { System.exit(3); } }",
    broken: "public class Main { public static void main(String[] a) { int x = ; } }",
  },
  rust: {
    ok: 'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); let n: i64 = s.trim().parse().unwrap(); println!("{}", n * 2); }',
    crash: "fn main() { std::process::exit(3); }",
    broken: 'fn main() { let x: i32 = "no"; }',
  },
  bash: { ok: "read n\necho $((n * 2))", crash: "exit 3" },
  perl: { ok: 'my $n = <STDIN>; print $n * 2, "\\n";', crash: "exit 3;" },
};

describe("/run_code in every language, as verl and the SDK send and read it", { skip }, () => {
  for (const [language, p] of Object.entries(DOUBLE)) {
    test(language, async () => {
      // The SDK: success with stdin, twice (the second compile comes from the cache).
      for (const stdin of ["21", "-4"]) {
        const r = await sdkRunCode(sdkRunCodeBody({ code: p.ok, language, stdin }));
        assert.equal(r.status, "Success", JSON.stringify(r));
        assert.equal(r.run_result?.status, "Finished");
        assert.equal(r.run_result?.return_code, 0);
        assert.equal(r.run_result?.stdout?.trim(), String(Number(stdin) * 2));
        assert.equal(typeof r.run_result?.execution_time, "number");
        if (p.broken !== undefined) assert.equal(r.compile_result?.return_code, 0);
        else assert.equal(r.compile_result ?? null, null);
      }
      // verl: the same bytes call_sandbox_api sends, and its verdicts.
      const ok = await post("/run_code", verlBody({ code: p.ok, stdin: "5", timeout: 10, language }));
      assert.equal(verlScore(ok.json, "10\n"), true);
      assert.equal(verlScore(ok.json, "11"), false);
      const crash = await post("/run_code", verlBody({ code: p.crash, stdin: null, timeout: 10, language }));
      assert.equal(crash.json["status"], "Failed");
      assert.equal((crash.json["run_result"] as { return_code: number }).return_code, 3);
      assert.equal(verlScore(crash.json, "x"), -2);
      if (p.broken !== undefined) {
        const broken = await post(
          "/run_code",
          verlBody({ code: p.broken, stdin: "", timeout: 10, language }),
        );
        assert.equal(verlScore(broken.json, "x"), -4);
        assert.equal(broken.json["run_result"], null);
        const compile = broken.json["compile_result"] as { status: string; return_code: number };
        assert.equal(compile.status, "Finished");
        assert.notEqual(compile.return_code, 0);
      }
    });
  }
});

describe("/run_code semantics", { skip }, () => {
  test("run_timeout is wall-clock seconds: a sleeping program is TimeLimitExceeded, no return code", async () => {
    const code = "import time\ntime.sleep(5)\nprint('late')";
    const r = await post("/run_code", verlBody({ code, stdin: "", timeout: 1 }));
    const run = r.json["run_result"] as { status: string; return_code: null; execution_time: number };
    assert.equal(run.status, "TimeLimitExceeded");
    assert.equal(run.return_code, null);
    assert.ok(run.execution_time >= 0.9 && run.execution_time < 3, `execution_time ${run.execution_time}`);
    assert.equal(verlScore(r.json, "late"), -3);
  });

  test("a Python syntax error is a failed run (SandboxFusion has no Python compile step)", async () => {
    const r = await post("/run_code", verlBody({ code: "a=b\nif", stdin: "", timeout: 5 }));
    assert.equal(r.json["compile_result"], null);
    const run = r.json["run_result"] as { return_code: number; stderr: string };
    assert.equal(run.return_code, 1);
    assert.match(run.stderr, /SyntaxError/);
    assert.equal(verlScore(r.json, ""), -2);
  });

  test("memory_limit_MB ≤ 0 is no client limit under the server cap; a positive one is enforced", async () => {
    const code = "x = bytearray(300 * 1024 * 1024)\nprint(len(x))";
    const free = await post("/run_code", verlBody({ code, stdin: "", timeout: 10, memoryMb: -1 }));
    assert.equal(free.json["status"], "Success", JSON.stringify(free.json));
    const tight = await post("/run_code", verlBody({ code, stdin: "", timeout: 10, memoryMb: 128 }));
    assert.equal(tight.json["status"], "Failed");
    assert.match(String((tight.json["run_result"] as { stderr: string }).stderr), /MemoryError/);
    const capped = "x = bytearray(1500 * 1024 * 1024)\nprint(len(x))";
    const over = await post("/run_code", verlBody({ code: capped, stdin: "", timeout: 10, memoryMb: 0 }));
    assert.equal(over.json["status"], "Failed", "the 1024 MB cap of this test server holds");
  });

  test("a signal-killed program has return_code -signal, as asyncio reports it", async () => {
    const code = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)";
    const r = await sdkRunCode(sdkRunCodeBody({ code, language: "python" }));
    assert.equal(r.run_result?.return_code, -11);
  });

  test("nulls for every unset field, files and fetch_files round-trip", async () => {
    const body = JSON.stringify({
      code: "print(open('in.txt').read().upper(), end='')\nopen('out.txt', 'w').write('done')",
      language: "python",
      stdin: null,
      compile_timeout: null,
      run_timeout: null,
      memory_limit_MB: null,
      files: { "in.txt": Buffer.from("hi").toString("base64"), "skipped.txt": null },
      fetch_files: ["out.txt", "absent.txt"],
    });
    const r = await sdkRunCode(body);
    assert.equal(r.run_result?.stdout, "HI");
    assert.deepEqual(r.files, { "out.txt": Buffer.from("done").toString("base64") });
  });

  test("/v1/ping answers JSON, as clients .json() it; unknown languages are a 400 naming the field", async () => {
    const ping = await fetch(`${base}/v1/ping`);
    assert.match(ping.headers.get("content-type") ?? "", /application\/json/);
    assert.equal(await ping.json(), "pong");
    const bad = await post("/run_code", sdkRunCodeBody({ code: "x", language: "cobol" }));
    assert.equal(bad.status, 400);
    assert.match(
      String((bad.json["error"] as { message: string }).message),
      /^language: 'cobol' is not supported/,
    );
  });
});

describe("/submit as the SDK sends it", { skip }, () => {
  const sum = "```python\na, b = map(int, input().split())\nprint(a + b)\n```";

  test("CommonOJ: tests given as a JSON string are parsed and judged; EvalResult parses", async () => {
    const cases = [
      { input: { stdin: "1 2\n" }, output: { stdout: "3\n" } },
      { input: { stdin: "20 2\n" }, output: { stdout: "22" } },
    ];
    const r = await post(
      "/submit",
      sdkSubmitBody({
        dataset: "code_contests",
        id: 7,
        completion: sum,
        config: { language: "python", provided_data: { test: JSON.stringify(cases) } },
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const e = SdkEvalResult.parse(r.json);
    assert.equal(e.accepted, true);
    assert.equal(e.id, 7);
    assert.equal(e.extracted_code, "a, b = map(int, input().split())\nprint(a + b)");
    assert.deepEqual(
      e.tests.map((t) => [t.passed, t.exec_info.status, t.exec_info.run_result?.stdout]),
      [
        [true, "Success", "3\n"],
        [true, "Success", "22\n"],
      ],
    );
  });

  test("CommonOJ in Go through dataset_type: stops at the first failing case, as SandboxFusion", async () => {
    const go =
      '```go\npackage main\nimport "fmt"\nfunc main() { var a, b int; fmt.Scan(&a, &b); fmt.Println(a - b) }\n```';
    const cases = [
      { input: { stdin: "5 5" }, output: { stdout: "0" } },
      { input: { stdin: "1 2" }, output: { stdout: "3" } },
      { input: { stdin: "9 1" }, output: { stdout: "8" } },
    ];
    const r = await post(
      "/submit",
      sdkSubmitBody({
        dataset: "my_contest",
        id: "a",
        completion: go,
        config: { dataset_type: "CommonOJDataset", language: "go", provided_data: { test: cases } },
      }),
    );
    const e = SdkEvalResult.parse(r.json);
    assert.equal(e.accepted, false);
    assert.deepEqual(
      e.tests.map((t) => t.passed),
      [true, false],
    );
    assert.equal(e.tests[1]?.exec_info.run_result?.stdout, "-1\n");
    assert.equal(e.tests[0]?.exec_info.compile_result?.return_code, 0);
  });

  test("HumanEval in Go (MultiPL-E shape) runs as go_test: the test binary's exit is the verdict", async () => {
    const row = {
      name: "HumanEval_0_add",
      language: "go_test.go",
      prompt: 'package add_test\n\nimport (\n    "testing"\n)\n\nfunc add(a int, b int) int {\n',
      // MultiPL-E's Go tests compare with fmt.Sprintf (IMPORT_HELPER adds the fmt import).
      tests:
        'func TestAdd(t *testing.T) {\n  if fmt.Sprintf("%v", add(2, 3)) != fmt.Sprintf("%v", 5) { t.Fatal("bad") }\n}\n',
      stop_tokens: ["\nfunc", "struct", "\n// "],
    };
    const submit = (completion: string) =>
      post(
        "/submit",
        sdkSubmitBody({ dataset: "humaneval_go", id: 0, completion, config: { provided_data: row } }),
      );
    const good = SdkEvalResult.parse((await submit("    return a + b\n}\n")).json);
    assert.equal(good.accepted, true, JSON.stringify(good));
    const bad = SdkEvalResult.parse((await submit("    return a - b\n}\n")).json);
    assert.equal(bad.accepted, false);
    assert.match(bad.tests[0]?.exec_info.run_result?.stdout ?? "", /FAIL/);
  });

  test("HumanEval (Python shape): prompt + completion + test + check(entry_point)", async () => {
    const data = {
      task_id: "HumanEval/0",
      prompt: "def add(a, b):\n",
      test: "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
      entry_point: "add",
    };
    const good = await post(
      "/submit",
      sdkSubmitBody({
        dataset: "humaneval_python",
        id: 0,
        completion: "    return a + b\n",
        config: { provided_data: data },
      }),
    );
    const e = SdkEvalResult.parse(good.json);
    assert.equal(e.accepted, true, JSON.stringify(good.json));
    assert.match(e.full_code ?? "", /check\(add\)$/);
    // Any dataset id with dataset_type: check() is still called (SandboxFusion would accept anything here).
    const wrong = await post(
      "/submit",
      sdkSubmitBody({
        dataset: "my_humaneval",
        id: 1,
        completion: "    return a - b\n",
        config: { dataset_type: "HumanEvalDataset", provided_data: data },
      }),
    );
    assert.equal(SdkEvalResult.parse(wrong.json).accepted, false);
  });

  test("MBPP: test_setup_code + the first fenced block + the asserts", async () => {
    const data = {
      id: 2,
      content: "Write a function to square a number.",
      labels: JSON.stringify({ test_setup_code: "" }),
      test_list: JSON.stringify(["assert square(3) == 9", "assert square(0) == 0"]),
    };
    const r = await post(
      "/submit",
      sdkSubmitBody({
        dataset: "mbpp",
        id: 2,
        completion: "[BEGIN]\n```python\ndef square(x):\n    return x * x\n```\n[DONE]",
        config: { provided_data: data },
      }),
    );
    const e = SdkEvalResult.parse(r.json);
    assert.equal(e.accepted, true, JSON.stringify(r.json));
    assert.equal(e.tests.length, 1);
  });

  test("bad submissions are 400s naming the field", async () => {
    const noClass = await post(
      "/submit",
      sdkSubmitBody({ dataset: "mine", id: 1, completion: sum, config: { provided_data: { test: [] } } }),
    );
    assert.equal(noClass.status, 400);
    assert.match(JSON.stringify(noClass.json), /no eval class found for dataset mine/);
    const noData = await post(
      "/submit",
      sdkSubmitBody({ dataset: "code_contests", id: 1, completion: sum, config: { language: "python" } }),
    );
    assert.equal(noData.status, 400);
    assert.match(JSON.stringify(noData.json), /config\.provided_data/);
    const badJson = await post(
      "/submit",
      sdkSubmitBody({
        dataset: "code_contests",
        id: 1,
        completion: sum,
        config: { language: "python", provided_data: { test: "[{" } },
      }),
    );
    assert.equal(badJson.status, 400);
    assert.match(JSON.stringify(badJson.json), /config\.provided_data\.test: not valid JSON/);
  });
});

test("check_stdio_test_case's comparison: stripped lines, case-blind, floats to 1e-5", () => {
  assert.ok(stdioMatches("YES\n", "yes"));
  assert.ok(stdioMatches("1.000001\n2\n", "1.0000001\n2"));
  assert.ok(!stdioMatches("1.1", "1.0"));
  assert.ok(!stdioMatches("1\n2\n3", "1\n2"));
});

test("more requests than sandbox slots: 504 at once with Retry-After (verl retries 504)", {
  skip,
}, async () => {
  const one = new Sandbox({ concurrency: 1, warm: 1 });
  const small = createApp();
  registerSandboxFusion(small, one);
  const url = await small.listen({ host: "127.0.0.1", port: 0 });
  try {
    const send = () =>
      fetch(`${url}/run_code`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: verlBody({ code: "import time\ntime.sleep(1.5)", stdin: null, timeout: 5 }),
      });
    const first = send();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const second = await send();
    assert.equal(second.status, 504);
    assert.ok(Date.now() - t0 < 1000, "refused at once, not queued");
    assert.equal(second.headers.get("retry-after"), "1");
    assert.equal(((await second.json()) as { error: { code: string } }).error.code, "overloaded");
    assert.equal((await first).status, 200);
  } finally {
    await small.close();
    await one.close();
  }
});
