import assert from "node:assert/strict";
import { test } from "node:test";
import type { Reward, RewardFn, Rollout } from "../../src/core/schemas.ts";
import { batchingRewardFn } from "../../src/reward/batching.ts";

const reward = (r: Rollout): Reward => ({ id: r.id, score: 1, verdict: "correct", source: "t" });

test("coalesces concurrent calls into one batch and splits the rewards back in order", async () => {
  const calls: number[] = [];
  const inner: RewardFn = async (rs) => {
    calls.push(rs.length);
    return rs.map(reward);
  };
  const fn = batchingRewardFn(inner);
  const [a, b] = await Promise.all([
    fn([{ id: 1, domain: "x", response: "" }]),
    fn([
      { id: 2, domain: "x", response: "" },
      { id: 3, domain: "x", response: "" },
    ]),
  ]);
  assert.deepEqual(calls, [3]);
  assert.deepEqual([a?.map((r) => r.id), b?.map((r) => r.id)], [[1], [2, 3]]);
});

test("a request whose rollouts make the reward function throw fails alone", async () => {
  const inner: RewardFn = async (rs) => {
    if (rs.some((r) => r.response === "poison")) throw new Error("poisoned");
    return rs.map(reward);
  };
  const fn = batchingRewardFn(inner);
  const [good, bad, other] = await Promise.allSettled([
    fn([{ id: 1, domain: "x", response: "fine" }]),
    fn([{ id: 2, domain: "x", response: "poison" }]),
    fn([{ id: 3, domain: "x", response: "fine" }]),
  ]);
  assert.equal(good.status, "fulfilled");
  assert.equal(other.status, "fulfilled");
  assert.equal(bad.status, "rejected");
  assert.match(String((bad as PromiseRejectedResult).reason), /poisoned/);
});
