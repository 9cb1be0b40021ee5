// Evaluation counts an `error` reward as neither correct nor incorrect: it is left out of
// the mean and reported, in the trainers' evaluateOnTasks and in the main job's gold figures.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorReward } from "../../src/core/rewards.ts";
import type { RewardFn } from "../../src/core/schemas.ts";
import { goldByDomain } from "../../src/experiment/policy.ts";
import { evaluateOnTasks } from "../../src/train/evaluate.ts";
import { arithmetic, tinyModel, tokenizer } from "./helpers.ts";

test("evaluateOnTasks leaves error rewards out of the mean and counts them", async () => {
  const tasks = arithmetic(6, 1);
  // Rollouts 0 and 3 error, 1 and 4 are correct, the rest incorrect.
  const reward: RewardFn = async (rollouts) =>
    rollouts.map((r, i) =>
      i % 3 === 0
        ? errorReward(r.id, "t", "judge_backend", "down")
        : i % 3 === 1
          ? { id: r.id, score: 1, verdict: "correct", source: "t" }
          : { id: r.id, score: 0.25, verdict: "incorrect", source: "t" },
    );
  const r = await evaluateOnTasks(tinyModel(2), tokenizer, tasks, reward, { maxTokens: 2 });
  assert.equal(r.errors, 2);
  assert.equal(r.n, 4);
  assert.equal(r.correct, 2);
  assert.equal(r.meanScore, (1 + 0.25 + 1 + 0.25) / 4, "the mean is over the scored rollouts");
  assert.equal(r.responses.length, 6);
});

test("goldByDomain: a NaN (error) score is in no mean, and is counted", () => {
  const tasks = arithmetic(4, 2).map((t, i) => ({ ...t, domain: i < 2 ? "math" : "logic" }));
  const g = goldByDomain(tasks, [1, Number.NaN, 0, 1]);
  assert.deepEqual(g, {
    overall: 2 / 3,
    byDomain: { logic: 0.5, math: 1 },
    n: 3,
    nByDomain: { logic: 2, math: 1 },
    errors: 1,
  });
  assert.deepEqual(goldByDomain(tasks.slice(0, 1), [Number.NaN]), {
    overall: 0,
    byDomain: {},
    n: 0,
    nByDomain: {},
    errors: 1,
  });
});
