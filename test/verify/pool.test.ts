import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { classifyError } from "../../src/core/errors.ts";
import { Reward, type Rollout } from "../../src/core/schemas.ts";
import { getFamily } from "../../src/tasks/index.ts";
import { VerifyPool } from "../../src/verify/pool.ts";
import { scoreStream } from "../../src/verify/score-stream.ts";

const plugin = fileURLToPath(new URL("./fixtures/echo-verifier.ts", import.meta.url));
const broken = fileURLToPath(new URL("./fixtures/broken-plugin.ts", import.meta.url));
const pool = new VerifyPool({
  workers: 2,
  plugins: [plugin],
  timeBudgetMs: 100,
  hardTimeoutMs: 400,
  batchSize: 8,
});
after(() => pool.close());

const echo = (id: number, response: string, answer = "ok"): Rollout => ({
  id,
  domain: "echo",
  response,
  reference: { answer },
});

test("rewards come back in input order, across batches and workers", async () => {
  await pool.ready();
  const rollouts = Array.from({ length: 500 }, (_, i) =>
    echo(i, i % 3 === 0 ? "ok" : i % 3 === 1 ? "no" : "slow"),
  );
  const rewards = await pool.verify(rollouts);
  assert.equal(rewards.length, 500);
  rewards.forEach((r, i) => {
    assert.equal(r.id, i);
    assert.equal(r.verdict, i % 3 === 0 ? "correct" : "incorrect");
    Reward.parse(r);
  });
});

test("an unknown domain is a data error naming the domain (never a reward of 0)", async () => {
  const [r] = await pool.verify([{ id: "x", domain: "chemistry", response: "H2O" }]);
  assert.equal(r?.verdict, "error");
  assert.equal(r?.error?.code, "unknown_domain");
  assert.equal(classifyError("unknown_domain"), "data");
  assert.match(String(r?.error?.message), /^domain: no verifier for 'chemistry'.*echo/);
});

test("a runaway verifier is killed: a final invalid verdict for it, the rest of its batch verified", async () => {
  const rollouts = [echo(1, "ok"), echo(2, "hang"), echo(3, "no"), echo(4, "ok")];
  const t0 = performance.now();
  const rewards = await pool.verify(rollouts);
  assert.ok(performance.now() - t0 < 5000);
  assert.deepEqual(
    rewards.map((r) => r.verdict),
    ["correct", "invalid", "incorrect", "correct"],
  );
  assert.equal(rewards[1]?.details?.["code"], "verifier_killed");
  assert.match(String(rewards[1]?.details?.["reason"]), /hard limit of \d+ ms on this response/);
  // The pool replaced the worker and keeps working.
  const again = await pool.verify([echo(5, "ok")]);
  assert.equal(again[0]?.verdict, "correct");
  assert.ok(pool.killed >= 1);
});

test("a worker that dies on a response gets one more try; dying twice is that sample's final verdict", async () => {
  const rewards = await pool.verify([echo(1, "ok"), echo(2, "die"), echo(3, "no")]);
  assert.deepEqual(
    rewards.map((r) => r.verdict),
    ["correct", "invalid", "incorrect"],
  );
  assert.equal(rewards[1]?.details?.["code"], "verifier_crash_repeated");
  assert.equal((await pool.verify([echo(4, "ok")]))[0]?.verdict, "correct");
});

test("a verifier that throws gives an error verdict with the cause, not a score of 0", async () => {
  const [r] = await pool.verify([echo(1, "throw")]);
  assert.equal(r?.verdict, "error");
  assert.deepEqual(r?.error, { code: "verifier_crash", message: "boom" });
});

test("a plugin without createVerifier fails ready() with a clear message", async () => {
  const bad = new VerifyPool({ workers: 1, plugins: [broken] });
  await assert.rejects(bad.ready(), /broken-plugin\.ts: does not export createVerifier/);
  await bad.close();
});

test("scoreStream writes one reward per input line, malformed lines named by line number", async () => {
  const lines = [
    JSON.stringify(echo(1, "ok")),
    "{oops",
    JSON.stringify({ id: 7, domain: "echo" }),
    JSON.stringify(echo(2, "no")),
  ].join("\n");
  const chunks: string[] = [];
  const out = new (await import("node:stream")).Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const summary = await scoreStream({
    input: Readable.from([lines]),
    output: out,
    rewardFn: pool.rewardFn,
    name: "r.jsonl",
    chunkSize: 2,
  });
  const rewards = chunks
    .join("")
    .trim()
    .split("\n")
    .map((l) => Reward.parse(JSON.parse(l)));
  assert.deepEqual(
    rewards.map((r) => [r.id, r.verdict]),
    [
      [1, "correct"],
      ["line:2", "invalid"],
      [7, "invalid"],
      [2, "incorrect"],
    ],
  );
  assert.match(String(rewards[1]?.details?.["reason"]), /^r\.jsonl:2: invalid JSON/);
  assert.match(String(rewards[2]?.details?.["reason"]), /^r\.jsonl:3: response:/);
  assert.equal(summary.total, 4);
  assert.equal(summary.byVerdict.invalid, 2);
  assert.equal(summary.byDomain["echo"]?.correct, 1);
});

test("datascale verify CLI end to end", () => {
  const dir = mkdtempSync(join(tmpdir(), "ds-verify-"));
  const input = join(dir, "in.jsonl");
  const output = join(dir, "out.jsonl");
  writeFileSync(input, `${[echo(1, "ok"), echo(2, "no")].map((r) => JSON.stringify(r)).join("\n")}\n`);
  const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const res = spawnSync(
    process.execPath,
    [main, "verify", "--in", input, "--out", output, "--plugin", plugin, "--workers", "1"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stderr, /scored 2 rollouts/);
  const rewards = readFileSync(output, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Reward);
  assert.deepEqual(
    rewards.map((r) => r.verdict),
    ["correct", "incorrect"],
  );
});

test("procedural tasks go to their family's checker whatever their curriculum domain", async () => {
  const family = getFamily("code_output");
  assert.ok(family);
  const task = family.generate(5, 2);
  assert.equal(task.domain, "code");
  const answer = String(task.reference?.answer);
  const builtin = new VerifyPool({ workers: 1 });
  try {
    const [right, wrong] = await builtin.verify([
      { ...task, response: `<answer>${answer}</answer>` },
      { ...task, response: `<answer>${answer}9</answer>` },
    ]);
    assert.equal(right?.verdict, "correct");
    assert.equal(right?.source, "rtv:logic");
    assert.equal(wrong?.verdict, "incorrect");
  } finally {
    await builtin.close();
  }
});
