// The sandbox API that POST /run_code will sit on: files in, files out, statuses.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { probeIsolation } from "../../src/sandbox/isolation.ts";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import { descendantsOf, hostProcessesMatching, SMALL } from "./helpers.ts";

let sandbox: Sandbox;
before(() => {
  sandbox = new Sandbox({ concurrency: 2, warm: 1 });
});
after(() => sandbox.close());

it("puts files in the work dir and fetches files back (SandboxFusion files/fetch_files)", async () => {
  const r = await sandbox.runSubmission({
    language: "python",
    code: "data = open('data/in.txt').read()\nopen('out.txt', 'w').write(data.upper())\nprint(len(data))",
    files: { "data/in.txt": Buffer.from("hello").toString("base64") },
    fetchFiles: ["out.txt", "missing.txt"],
    tests: [{ stdin: "" }],
    limits: SMALL,
  });
  assert.equal(r.tests[0]?.status, "ok", r.tests[0]?.stderr);
  assert.equal(r.tests[0]?.stdout, "5\n");
  assert.deepEqual(r.files, { "out.txt": Buffer.from("HELLO").toString("base64") });
});

it("reports exit codes, stderr, compile errors and unknown languages", async () => {
  const r = await sandbox.runSubmission({
    language: "python",
    code: "import sys\nsys.stderr.write('bad\\n')\nsys.exit(3)",
    tests: [{ stdin: "" }],
  });
  assert.equal(r.tests[0]?.status, "runtime_error");
  assert.equal(r.tests[0]?.exitCode, 3);
  assert.equal(r.tests[0]?.stderr, "bad\n");
  const ce = await sandbox.runSubmission({ language: "c++", code: "int main( {", tests: [{ stdin: "" }] });
  assert.equal(ce.compile?.status, "compile_error");
  assert.match(ce.compile?.stderr ?? "", /error/);
  assert.equal(ce.tests.length, 0);
  await assert.rejects(
    sandbox.runSubmission({ language: "cobol", code: "", tests: [] }),
    /language 'cobol' is not supported/,
  );
});

it("prints an uncaught exception as python3 itself does (C printer, sys.excepthook honoured)", async () => {
  const r = await sandbox.runSubmission({
    language: "python",
    code: [
      "import sys",
      "x = int(input())",
      "if x == 2:",
      "    sys.excepthook = lambda t, v, tb: print('hooked', t.__name__, file=sys.stderr)",
      "def f(k): return f(k + 1)",
      "if x == 1: f(0)",
      "print(10 // (x % 2))",
    ].join("\n"),
    tests: [{ stdin: "0" }, { stdin: "1" }, { stdin: "2" }],
    limits: SMALL,
  });
  const [zero, deep, hooked] = r.tests;
  assert.equal(zero?.status, "runtime_error");
  assert.equal(zero?.exitCode, 1);
  assert.match(
    zero?.stderr ?? "",
    /^Traceback \(most recent call last\):\n {2}File "\/build\/main\.py", line 7, in <module>\n/,
  );
  assert.match(
    zero?.stderr ?? "",
    /print\(10 \/\/ \(x % 2\)\)\n[\s\S]*ZeroDivisionError: integer division or modulo by zero\n$/,
  );
  assert.equal(deep?.status, "runtime_error");
  assert.match(
    deep?.stderr ?? "",
    /\[Previous line repeated \d+ more times\]\nRecursionError: maximum recursion depth exceeded\n$/,
  );
  assert.equal(hooked?.status, "runtime_error");
  assert.equal(hooked?.stderr, "hooked ZeroDivisionError\n");
});

it("finishes like python3: non-daemon threads are waited for, then atexit handlers run", async () => {
  const r = await sandbox.runSubmission({
    language: "python",
    code: [
      "import atexit, sys, threading",
      "atexit.register(print, 'atexit ran')",
      "sys.setrecursionlimit(10 ** 6)",
      "threading.stack_size(1 << 26)",
      "def depth(n): return 0 if n == 0 else 1 + depth(n - 1)",
      "def main(): print('deep', depth(int(input())))",
      "threading.Thread(target=main).start()",
    ].join("\n"),
    tests: [{ stdin: "50000" }],
    limits: SMALL,
  });
  assert.equal(r.tests[0]?.status, "ok", r.tests[0]?.stderr);
  assert.equal(r.tests[0]?.stdout, "deep 50000\natexit ran\n");
});

it("unsafe mode runs only when asked for, and still applies limits", async () => {
  const report = probeIsolation();
  const broken = { ...report, bwrap: { ...report.bwrap, works: false, error: "simulated" } };
  assert.throws(() => new Sandbox({}, broken), /refusing to run untrusted code/);
  const unsafe = new Sandbox({ unsafe: true, concurrency: 1, warm: 0 }, broken);
  try {
    assert.equal(unsafe.mode, "unsafe");
    const r = await unsafe.runSubmission({
      language: "python",
      code: "print(input(), flush=True)\nwhile True: pass",
      tests: [{ stdin: "x" }],
      limits: { timeMs: 300 },
    });
    assert.equal(r.tests[0]?.status, "time_limit");
    assert.equal(r.tests[0]?.stdout, "x\n");
  } finally {
    await unsafe.close();
  }
});

it("a dead zygote is an infrastructure error for its submissions, and the next one gets a new zygote", async () => {
  const own = new Sandbox({ concurrency: 2, warm: 1 });
  try {
    assert.equal(own.mode, "zygote");
    const ok = await own.runSubmission({ language: "python", code: "print(1)", tests: [{ stdin: "" }] });
    assert.equal(ok.tests[0]?.stdout, "1\n");
    const running = own.runSubmission({
      language: "python",
      code: "import time\ntime.sleep(5)",
      tests: [{ stdin: "" }],
      limits: { timeMs: 5000 },
    });
    await new Promise((r) => setTimeout(r, 300));
    // Kill the zygote's whole sandbox from the host, as an OOM killer might.
    const uid = own.report.uid ?? process.getuid?.() ?? 0;
    const mine = new Set(descendantsOf(process.pid, uid));
    const zygotes = hostProcessesMatching("--zygote").filter((p) => mine.has(p));
    assert.ok(zygotes.length > 0, "found this sandbox's zygote");
    for (const p of zygotes) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // already gone with its parent
      }
    }
    const lost = await running;
    assert.equal(lost.tests[0]?.status, "sandbox_error", "infrastructure, not the program's fault");
    const after = await own.runSubmission({ language: "python", code: "print(2)", tests: [{ stdin: "" }] });
    assert.equal(after.tests[0]?.stdout, "2\n", after.tests[0]?.stderr);
  } finally {
    await own.close();
  }
});
