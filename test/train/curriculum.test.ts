// The PPO/GRPO loop consumes a curriculum: with the paper's schedule, stage 1 steps see only
// math and code prompts, later steps see everything.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Rollout, Task } from "../../src/core/schemas.ts";
import { groupByDomain, sampleSchedule } from "../../src/schedule/sampler.ts";
import { paperSchedule } from "../../src/schedule/schedule.ts";
import { generateTasks } from "../../src/tasks/generate.ts";
import { cloneDecoder } from "../../src/train/models.ts";
import { DEFAULT_RL, trainRl } from "../../src/train/ppo.ts";
import { logicReward, tinyModel, tokenizer } from "./helpers.ts";

const pool: Task[] = [
  ...generateTasks({ family: "arithmetic", n: 8, seed: 1, difficulty: 0 }),
  ...generateTasks({ family: "code_output", n: 8, seed: 1, difficulty: 0 }),
  ...generateTasks({ family: "sorting", n: 8, seed: 1, difficulty: 0 }),
];

test("trainRl takes each step's prompts from the schedule: math and code first, then everything", async () => {
  const schedule = paperSchedule({ batchSize: 4, stage1Steps: 2, stage2Steps: 2, seed: 3 });
  const batches = [...sampleSchedule(schedule, groupByDomain(pool))];
  const seen: string[][] = [];
  const recording = async (rollouts: readonly Rollout[]) => {
    seen.push([...new Set(rollouts.map((r) => r.domain))].sort());
    return logicReward(rollouts);
  };
  const policy = tinyModel(4);
  await trainRl({
    policy,
    reference: cloneDecoder(policy),
    tokenizer,
    tasks: pool,
    promptsForStep: (step) => (batches[step] as (typeof batches)[number]).tasks,
    reward: recording,
    options: {
      ...DEFAULT_RL,
      algorithm: "grpo",
      steps: 4,
      promptsPerStep: 4,
      rolloutsPerPrompt: 2,
      maxResponseTokens: 3,
    },
  });
  assert.equal(seen.length, 4);
  for (const domains of seen.slice(0, 2))
    assert.ok(
      domains.every((d) => d === "math" || d === "code"),
      String(domains),
    );
  assert.ok(
    seen.slice(2).some((domains) => domains.includes("logic")),
    "stage 2 adds the other domains",
  );
});
