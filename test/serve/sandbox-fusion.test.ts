// /run_code against the real sandbox, shaped as verl's sandbox_fusion client reads it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { probeIsolation } from "../../src/sandbox/isolation.ts";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import { createApp } from "../../src/serve/app.ts";
import { registerSandboxFusion } from "../../src/serve/sandbox-fusion.ts";
import { createCodeVerifier } from "../../src/verify/code/index.ts";

const report = probeIsolation();
const skip = report.bwrap.works ? false : `bubblewrap unusable here: ${report.bwrap.error}`;
let sandbox: Sandbox | undefined;
let app: FastifyInstance;
let base = "";

before(async () => {
  if (skip) return;
  sandbox = new Sandbox({ concurrency: 2, warm: 1 });
  app = createApp();
  const code = createCodeVerifier({ sandbox, scoring: "fraction", stopOnFailure: false });
  registerSandboxFusion(app, sandbox, { verifyCode: async (r) => code.verify(r, { timeBudgetMs: 30_000 }) });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
});
after(async () => {
  if (skip) return;
  await app.close();
  await sandbox?.close();
});

async function runCode(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/run_code`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test("python with stdin: Success, stdout, return code 0", { skip }, async () => {
  const { status, json } = await runCode({
    code: "print(sum(map(int, input().split())))",
    language: "python",
    stdin: "2 40\n",
  });
  assert.equal(status, 200);
  assert.equal(json["status"], "Success");
  const run = json["run_result"] as Record<string, unknown>;
  assert.equal(run["status"], "Finished");
  assert.equal(run["return_code"], 0);
  assert.equal(run["stdout"], "42\n");
  assert.equal(json["compile_result"], null);
});

test("a runtime error is Failed with a non-zero return code; a timeout is TimeLimitExceeded", {
  skip,
}, async () => {
  const crash = await runCode({ code: "raise SystemExit(3)", language: "python" });
  assert.equal(crash.json["status"], "Failed");
  assert.equal((crash.json["run_result"] as Record<string, unknown>)["return_code"], 3);
  const slow = await runCode({ code: "while True: pass", language: "python", run_timeout: 0.5 });
  assert.equal(slow.json["status"], "Failed");
  assert.equal((slow.json["run_result"] as Record<string, unknown>)["status"], "TimeLimitExceeded");
});

test("C++ compile errors come back in compile_result with no run", { skip }, async () => {
  const { json } = await runCode({ code: "int main( { return 0; }", language: "cpp" });
  assert.equal(json["status"], "Failed");
  const compile = json["compile_result"] as Record<string, unknown>;
  assert.notEqual(compile["return_code"], 0);
  assert.match(String(compile["stderr"]), /error/);
  assert.equal(json["run_result"], null);
});

test("nodejs is SandboxFusion's name for JavaScript; unknown languages are a 400 naming the field", {
  skip,
}, async () => {
  const js = await runCode({ code: "console.log(6 * 7)", language: "nodejs" });
  assert.equal((js.json["run_result"] as Record<string, unknown>)["stdout"], "42\n");
  const bad = await runCode({ code: "x", language: "cobol" });
  assert.equal(bad.status, 400);
  assert.match(
    String((bad.json["error"] as { message: string }).message),
    /^language: 'cobol' is not supported/,
  );
  const ping = await (await fetch(`${base}/v1/ping`)).text();
  assert.equal(ping, "pong");
});

test("/submit with CommonOJ provided_data judges every test", { skip }, async () => {
  const res = await fetch(`${base}/submit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      dataset: "mine",
      id: 7,
      completion: "```python\na, b = map(int, input().split())\nprint(a + b if a < 10 else a - b)\n```",
      config: {
        language: "python",
        provided_data: {
          test: [
            { input: { stdin: "1 2" }, output: { stdout: "3" } },
            { input: { stdin: "20 2" }, output: { stdout: "22" } },
          ],
        },
      },
    }),
  });
  assert.equal(res.status, 200);
  const json = (await res.json()) as { id: number; accepted: boolean; tests: { passed: boolean }[] };
  assert.equal(json.id, 7);
  assert.equal(json.accepted, false);
  assert.deepEqual(
    json.tests.map((t) => t.passed),
    [true, false],
  );
});

test("/submit with a HumanEval-style check program", { skip }, async () => {
  const res = await fetch(`${base}/submit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      completion: "```python\ndef add(a, b):\n    return a + b\n```",
      config: {
        language: "python",
        provided_data: { test: "assert add(2, 3) == 5\nassert add(-1, 1) == 0", entry_point: "add" },
      },
    }),
  });
  const json = (await res.json()) as { accepted: boolean };
  assert.equal(json.accepted, true);
});
