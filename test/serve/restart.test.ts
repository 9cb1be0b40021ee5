// A server killed mid-batch loses nothing a client does not retry: the killed process's
// connections fail (a connection error, which OpenRLHF's clients retry like any exception,
// 5 tries 1 s apart), nothing was acknowledged, and the retried request is scored in full
// by the processes the primary starts in the dead ones' place. The server holds no state a
// retry needs, so the retry is the same request.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const plugin = fileURLToPath(new URL("../verify/fixtures/echo-verifier.ts", import.meta.url));

function children(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

async function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d;
      const m = /reward server on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

/**
 * OpenRLHF's request_api_wrapper, in TypeScript: any failure is retried after a pause (OpenRLHF:
 * 5 tries, 1 s apart). Here up to 15 s, because replacing both processes on a loaded CI
 * machine (Node start, verifier threads loading) can take longer than OpenRLHF's 5 s.
 */
async function postWithRetries(
  url: string,
  body: unknown,
  tries: number,
): Promise<{ text: string; failures: string[] }> {
  const failures: string[] = [];
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (res.ok) return { text: await res.text(), failures };
      failures.push(`HTTP ${res.status}`);
    } catch (e) {
      failures.push(String((e as Error & { cause?: { code?: string } }).cause?.code ?? e));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up after ${tries} tries: ${failures.join(", ")}`);
}

test("server processes killed mid-request: the client's retry is answered in full by their replacements", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ds-restart-"));
  const config = join(dir, "reward.json");
  // "hang" keeps the batch in flight until the watchdog's hard limit (4 × 100 ms + 1 s).
  writeFileSync(
    config,
    JSON.stringify({
      routes: [{ match: { domain: "echo" }, reward: { type: "rtv" } }],
      defaultDomain: "echo",
      verify: { plugins: [plugin], timeBudgetMs: 100 },
    }),
  );
  const primary = spawn(
    process.execPath,
    [main, "serve-reward", "--config", config, "--port", "0", "--processes", "2", "--no-run-code"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  try {
    const url = await started(primary);
    const body = {
      query: ["q ok", "q hang", "q no"],
      prompts: ["q ", "q ", "q "],
      labels: ["ok", "ok", "ok"],
    };
    const answer = postWithRetries(`${url}/openrlhf`, body, 60);
    await new Promise((r) => setTimeout(r, 300));
    const before = children(primary.pid as number);
    assert.equal(before.length, 2);
    for (const pid of before) process.kill(pid, "SIGKILL");
    const { text, failures } = await answer;
    assert.ok(failures.length >= 1, "the first try died with its server process");
    assert.ok(
      failures.every((f) => !f.startsWith("HTTP")),
      `only connection errors: ${failures}`,
    );
    // Scored in full by the replacements: the hostile sample is a final invalid 0.0, the others as usual.
    assert.equal(
      text,
      '{"rewards":[1.0,0.0,0.0],"scores":[1.0,0.0,0.0],"extra_logs":{"correct":[1.0,0.0,0.0],"invalid":[0.0,1.0,0.0]}}',
    );
    const after = children(primary.pid as number);
    assert.equal(after.length, 2);
    assert.ok(after.every((p) => !before.includes(p)));
    // /metrics from whichever process answers is the sum over both.
    const pids = new Set<number>();
    for (let i = 0; i < 12; i++)
      pids.add(((await (await fetch(`${url}/health`)).json()) as { pid: number }).pid);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /datascale_requests_total\{route="\/health",status="200"\} 12\n/);
    assert.match(metrics, /datascale_queue_units\{pool="rollouts"\} 0\n/);
    assert.ok([...pids].every((p) => after.includes(p)));
  } finally {
    primary.kill("SIGTERM");
    await new Promise((r) => primary.once("exit", r));
  }
});
