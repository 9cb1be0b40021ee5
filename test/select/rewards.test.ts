import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Task } from "../../src/core/schemas.ts";
import { exactMatchReward, loadRewardFn } from "../../src/select/rewards.ts";
import { selectPrompts } from "../../src/select/select.ts";

const root = await mkdtemp(join(tmpdir(), "ds-select-rw-"));
after(() => rm(root, { recursive: true, force: true }));
const echo = fileURLToPath(new URL("../verify/fixtures/echo-verifier.ts", import.meta.url));

test("exact-match scores 1/0 and marks a missing reference invalid (not a silent 0)", async () => {
  const r = await exactMatchReward([
    { id: 1, domain: "qa", reference: { answer: 42 }, response: " 42 " },
    { id: 2, domain: "qa", reference: { answer: "x" }, response: "y" },
    { id: 3, domain: "qa", response: "y" },
  ]);
  assert.deepEqual(
    r.map((x) => [x.score, x.verdict]),
    [
      [1, "correct"],
      [0, "incorrect"],
      [0, "invalid"],
    ],
  );
});

test("the verifier registry reward: plugin verifiers score, a throw is an error verdict, no verifier is invalid", async () => {
  const { rewardFn: fn } = await loadRewardFn("verifiers", [echo]);
  const r = await fn([
    { id: "a", domain: "echo", reference: { answer: "1" }, response: "1" },
    { id: "b", domain: "echo", reference: { answer: "1" }, response: "throw" },
    { id: "c", domain: "nowhere", response: "1" },
  ]);
  assert.deepEqual(
    r.map((x) => x.verdict),
    ["correct", "error", "invalid"],
  );
  assert.match(r[1]!.error!.message, /boom/);
  await assert.rejects(loadRewardFn(join(root, "missing.ts")), /--reward .*missing\.ts/);
});

test("records without pre-generated responses are sampled through the SampleFn", async () => {
  const dir = join(root, "sample");
  await mkdir(dir, { recursive: true });
  const pool = join(dir, "pool.jsonl");
  const recs = Array.from({ length: 10 }, (_, i) => ({
    id: i,
    domain: "qa",
    prompt: `q${i}`,
    reference: { answer: "ok" },
  }));
  await writeFile(pool, recs.map((r) => JSON.stringify(r)).join("\n"));
  const asked: number[] = [];
  // The policy answers prompt i correctly in i of 4 samples (capped): lower ids are harder.
  const sample = async (tasks: readonly Task[], k: number) => {
    asked.push(tasks.length);
    return tasks.map((t) => Array.from({ length: k }, (_, j) => (j < Number(t.id) ? "ok" : "no")));
  };
  const res = await selectPrompts({
    pool,
    out: join(dir, "out.jsonl"),
    runDir: join(dir, "run"),
    resume: false,
    reward: exactMatchReward,
    sample,
    samples: 4,
    keep: 0.2,
    normalisation: "zscore",
    unfiltered: [],
    batchPrompts: 4,
  });
  assert.deepEqual(asked, [4, 4, 2]);
  assert.equal(res.report.kept, 2);
  const out = (await readFile(join(dir, "out.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { id: number });
  assert.deepEqual(
    out.map((r) => r.id),
    [0, 1],
  );
});

test("without a policy, a record lacking K responses is reported bad and the rest are scored", async () => {
  const dir = join(root, "nopolicy");
  await mkdir(dir, { recursive: true });
  const pool = join(dir, "pool.jsonl");
  const recs = [
    { id: 1, domain: "qa", prompt: "q", reference: { answer: "ok" }, responses: ["ok", "no"] },
    { id: 2, domain: "qa", prompt: "q", reference: { answer: "ok" }, responses: ["no"] },
  ];
  await writeFile(pool, recs.map((r) => JSON.stringify(r)).join("\n"));
  const logs: string[] = [];
  const res = await selectPrompts({
    pool,
    out: join(dir, "out.jsonl"),
    runDir: join(dir, "run"),
    resume: false,
    reward: exactMatchReward,
    samples: 2,
    keep: 1,
    normalisation: "zscore",
    unfiltered: [],
    log: (l) => logs.push(l),
  });
  assert.equal(res.report.kept, 1);
  assert.equal(res.report.badLines, 1);
  assert.ok(
    logs.some((l) => l.includes(`${pool}:2: needs 2 responses, has 1`)),
    logs.join("\n"),
  );
});

test("a reward config file gives the hybrid router (here: a route to a plugin verifier, YAML)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sel-cfg-"));
  const path = join(dir, "reward.yaml");
  await writeFile(
    path,
    `routes:\n  - match: { domain: echo }\n    reward: { type: rtv }\nverify:\n  workers: 1\n  plugins: [${JSON.stringify(echo)}]\n`,
  );
  const loaded = await loadRewardFn(path);
  try {
    const r = await loaded.rewardFn([
      { id: "a", domain: "echo", reference: { answer: "1" }, response: "1" },
      { id: "b", domain: "other", response: "1" },
    ]);
    assert.deepEqual(
      r.map((x) => [x.verdict, x.source]),
      [
        ["correct", "test:echo"],
        ["error", "router"],
      ],
    );
  } finally {
    await loaded.close();
  }
});
