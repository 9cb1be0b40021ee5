import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Reward, type Rollout } from "../../../src/core/schemas.ts";
import { FAMILIES, getFamily } from "../../../src/tasks/index.ts";
import { createLogicVerifier } from "../../../src/verify/logic/index.ts";
import { VerifyPool } from "../../../src/verify/pool.ts";
import { VerifierRegistry } from "../../../src/verify/registry.ts";

const verifier = createLogicVerifier();
const verify = (r: Rollout): Reward => {
  const out = verifier.verify(r);
  assert.ok(!(out instanceof Promise), "the logic verifier is synchronous");
  return Reward.parse(out);
};

test("dispatches by meta.family or reference.family, whatever the task's declared domain", () => {
  const task = getFamily("arithmetic")?.generate(3, 0);
  assert.ok(task);
  assert.equal(task.domain, "math");
  const r = verify({ ...task, domain: "logic", response: String(task.reference?.answer) });
  assert.equal(r.verdict, "correct");
  assert.equal(r.source, "rtv:logic");
  assert.deepEqual(r.details, { family: "arithmetic", format: "bare" });
  const { meta: _meta, ...noMeta } = task;
  assert.equal(verify({ ...noMeta, response: String(task.reference?.answer) }).verdict, "correct");
});

test("records that cannot be judged are data errors (never a reward of 0) naming the field", () => {
  const base = { id: "x", domain: "logic", response: "1" };
  const noFamily = verify({ ...base, reference: { answer: "1" } });
  assert.equal(noFamily.verdict, "error");
  assert.equal(noFamily.error?.code, "bad_reference");
  assert.match(String(noFamily.error?.message), /meta\.family/);
  const unknown = verify({ ...base, meta: { family: "chess" }, reference: { answer: "1" } });
  assert.equal(unknown.error?.code, "bad_reference");
  assert.match(String(unknown.error?.message), /unknown task family 'chess'/);
  assert.equal(verify({ ...base, meta: { family: "maze" } }).error?.code, "no_reference");
  const badRef = verify({ ...base, meta: { family: "maze" }, reference: { answer: "R", grid: "S.E" } });
  assert.equal(badRef.error?.code, "bad_reference");
  assert.match(String(badRef.error?.message), /maze: reference\.grid/);
});

test("no extractable answer is incorrect (not an error), with the reason", () => {
  const task = getFamily("sorting")?.generate(1, 0);
  assert.ok(task);
  const r = verify({ ...task, response: "<answer>1 2 3" });
  assert.equal(r.verdict, "incorrect");
  assert.equal(r.details?.["reason"], "unclosed_answer_tag");
});

test("partialCredit: false turns family partial credit into incorrect", () => {
  const task = {
    id: 1,
    domain: "logic",
    meta: { family: "fractions" },
    reference: { answer: "1/2", expression: "1/4+1/4" },
  };
  assert.equal(verify({ ...task, response: "2/4" }).verdict, "partial");
  const strict = createLogicVerifier({ partialCredit: false }).verify({ ...task, response: "2/4" }) as Reward;
  assert.equal(strict.verdict, "incorrect");
});

test("the registry serves domain logic, and the worker pool verifies every family", async () => {
  const registry = new VerifierRegistry();
  assert.ok((await registry.domains()).includes("logic"));
  assert.equal((await registry.get("logic"))?.source, "rtv:logic");
  const pool = new VerifyPool({ workers: 2, batchSize: 16 });
  try {
    await pool.ready();
    const rollouts: Rollout[] = [];
    for (const f of FAMILIES) {
      for (let s = 0; s < 10; s++) {
        const t = f.generate(s, 4);
        rollouts.push({
          ...t,
          id: `${t.id}/ok`,
          domain: "logic",
          response: `<answer>${t.reference?.answer}</answer>`,
        });
        rollouts.push({
          ...t,
          id: `${t.id}/bad`,
          domain: "logic",
          response: `<answer>${f.wrongAnswers(t.reference, s)[0]}</answer>`,
        });
      }
    }
    const rewards = await pool.verify(rollouts);
    rewards.forEach((r, i) => {
      assert.equal(r.id, rollouts[i]?.id);
      assert.equal(r.verdict, String(r.id).endsWith("/ok") ? "correct" : "incorrect", JSON.stringify(r));
    });
  } finally {
    await pool.close();
  }
});

const main = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });

test("datascale tasks generate is byte-identical per seed and feeds datascale verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "ds-tasks-"));
  const a = join(dir, "a.jsonl");
  const b = join(dir, "b.jsonl");
  for (const out of [a, b]) {
    const r = cli([
      "tasks",
      "generate",
      "--family",
      "all",
      "--n",
      "68",
      "--seed",
      "9",
      "--difficulty",
      "3.5",
      "--out",
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
  const text = readFileSync(a, "utf8");
  assert.equal(text, readFileSync(b, "utf8"));
  const tasks = text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Rollout);
  assert.equal(tasks.length, 68);
  assert.equal(new Set(tasks.map((t) => t.meta?.["family"])).size, FAMILIES.length);
  const other = cli([
    "tasks",
    "generate",
    "--family",
    "all",
    "--n",
    "68",
    "--seed",
    "10",
    "--difficulty",
    "3.5",
  ]);
  assert.notEqual(other.stdout, text);

  const rollouts = join(dir, "rollouts.jsonl");
  writeFileSync(
    rollouts,
    tasks
      .map((t, i) =>
        JSON.stringify({
          ...t,
          domain: "logic",
          response: i % 2 === 0 ? `\\boxed{${t.reference?.answer}}` : "no idea",
        }),
      )
      .join("\n"),
  );
  const v = cli(["verify", "--in", rollouts, "--workers", "1"]);
  assert.equal(v.status, 0, v.stderr);
  const rewards = v.stdout
    .trim()
    .split("\n")
    .map((l) => Reward.parse(JSON.parse(l)));
  rewards.forEach((r, i) => {
    assert.equal(r.verdict, i % 2 === 0 ? "correct" : "incorrect", JSON.stringify(r));
  });
});

test("datascale tasks: list, and clear errors for bad options", () => {
  const list = cli(["tasks", "list"]);
  assert.equal(list.status, 0);
  assert.equal(list.stdout.trim().split("\n").length, FAMILIES.length);
  const json = cli(["tasks", "list", "--json"])
    .stdout.trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { domain: string });
  assert.ok(json.every((f) => ["math", "code", "logic"].includes(f.domain)));
  const unknown = cli(["tasks", "generate", "--family", "chess", "--n", "1"]);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown task family 'chess'/);
  assert.match(
    cli(["tasks", "generate", "--family", "maze", "--n", "1", "--difficulty", "12"]).stderr,
    /--difficulty.*\[0, 10\]/,
  );
  assert.match(
    cli(["tasks", "generate", "--family", "maze", "--n=-3"]).stderr,
    /--n must be a non-negative integer/,
  );
  assert.match(cli(["tasks", "generate", "--family", "maze", "--n", "2", "--seed", "x"]).stderr, /--seed/);
  assert.equal(cli(["tasks", "generate", "--n", "2"]).status, 2);
});
