import assert from "node:assert/strict";
import { test } from "node:test";
import type { Reward, RewardFn, Rollout } from "../../src/core/schemas.ts";
import type { Judge, ReferenceKind } from "../../src/judge/types.ts";
import { parseRewardConfig } from "../../src/reward/config.ts";
import { createRouter, routeOf } from "../../src/reward/router.ts";

// A verifier stand-in that records what it saw: score 1 when response === answer.
function recordingRtv(seen: Rollout[][]): RewardFn {
  return async (rs) => {
    seen.push([...rs]);
    return rs.map((r) => {
      const ok = r.response === String(r.reference?.answer);
      return {
        id: r.id,
        score: ok ? 1 : 0,
        verdict: ok ? "correct" : "incorrect",
        source: `rtv:${r.domain}`,
      };
    });
  };
}

// A judge that scores by response length relative to the reference, so results are checkable.
const lengthJudge: Judge = {
  source: "genrm",
  async judge(rs: readonly Rollout[], ref: ReferenceKind): Promise<Reward[]> {
    return rs.map((r) => {
      const refText = ref === "gt" ? String(r.reference?.answer ?? "") : (r.reference?.response ?? "");
      const score = Math.min(1, r.response.length / Math.max(1, 2 * refText.length));
      return { id: r.id, score, verdict: "partial", source: `genrm:${ref}` };
    });
  },
};

test("paper defaults: verifiable domains → RTV, ground truth → GenRM-GT, else GenRM-BoN", () => {
  const config = parseRewardConfig({});
  const kind = (r: Partial<Rollout>) =>
    JSON.stringify(routeOf(config, { id: 1, response: "", domain: "general", ...r }));
  assert.equal(kind({ domain: "math" }), JSON.stringify({ type: "rtv" }));
  assert.equal(kind({ domain: "code" }), JSON.stringify({ type: "rtv" }));
  assert.equal(
    kind({ domain: "stem", reference: { answer: "42" } }),
    JSON.stringify({ type: "judge", judge: "genrm", reference: "gt" }),
  );
  assert.equal(
    kind({ domain: "creative", reference: { response: "a poem" } }),
    JSON.stringify({ type: "judge", judge: "genrm", reference: "bon" }),
  );
});

test("the router batches per source and returns rewards in input order", async () => {
  const seen: Rollout[][] = [];
  const config = parseRewardConfig({
    judges: { genrm: { kind: "genrm", backend: { type: "embedded", model: "x" } } },
  });
  const route = createRouter(config, { rtv: recordingRtv(seen), judges: new Map([["genrm", lengthJudge]]) });
  const rollouts: Rollout[] = [
    { id: 1, domain: "math", response: "4", reference: { answer: "4" } },
    { id: 2, domain: "creative", response: "abcd", reference: { response: "abcd" } },
    { id: 3, domain: "logic", response: "no", reference: { answer: "yes" } },
    { id: 4, domain: "stem", response: "ab", reference: { answer: "ab" } },
  ];
  const rewards = await route(rollouts);
  assert.deepEqual(
    rewards.map((r) => [r.id, r.source, r.score]),
    [
      [1, "rtv:math", 1],
      [2, "genrm:bon", 0.5],
      [3, "rtv:logic", 0],
      [4, "genrm:gt", 0.5],
    ],
  );
  assert.equal(seen.length, 1, "all verifiable rollouts go to the verifiers in one batch");
  assert.deepEqual(
    seen[0]?.map((r) => r.id),
    [1, 3],
  );
});

test("routes match by data source and by reference field; rtv family overrides the domain", async () => {
  const seen: Rollout[][] = [];
  const config = parseRewardConfig({
    routes: [
      { match: { source: "gsm8k" }, reward: { type: "rtv", family: "math" } },
      { match: { has: "tests" }, reward: { type: "rtv", family: "code" } },
    ],
  });
  const route = createRouter(config, { rtv: recordingRtv(seen), judges: new Map() });
  const rewards = await route([
    {
      id: "a",
      domain: "general",
      data_source: "gsm8k",
      response: "1",
      reference: { answer: "1" },
    } as Rollout,
    { id: "b", domain: "general", response: "x", reference: { tests: [{ input: "", output: "" }] } },
    { id: "c", domain: "general", response: "x" },
  ]);
  assert.deepEqual(
    rewards.map((r) => r.source),
    ["rtv:math", "rtv:code", "router"],
  );
  assert.equal(rewards[2]?.verdict, "error");
  assert.equal(rewards[2]?.error?.code, "no_route");
});

test("combine: weighted mean, a failed gate caps the score, an error in any part is an error", async () => {
  const config = parseRewardConfig({
    judges: { genrm: { kind: "genrm", backend: { type: "embedded", model: "x" } } },
    routes: [
      {
        match: { domain: "*" },
        reward: {
          type: "combine",
          parts: [
            { reward: { type: "judge", judge: "genrm", reference: "gt" }, weight: 1 },
            { reward: { type: "rtv" }, weight: 3 },
          ],
          gates: [{ reward: { type: "rtv", family: "format" }, below: 1, cap: 0.1 }],
        },
      },
    ],
  });
  const rtv: RewardFn = async (rs) =>
    rs.map((r) =>
      r.domain === "format"
        ? { id: r.id, score: r.response.startsWith("A:") ? 1 : 0, verdict: "correct", source: "rtv:format" }
        : r.response.includes("boom")
          ? {
              id: r.id,
              score: 0,
              verdict: "error",
              source: "rtv:math",
              error: { code: "x", message: "down" },
            }
          : { id: r.id, score: 1, verdict: "correct", source: "rtv:math" },
    );
  const route = createRouter(config, { rtv, judges: new Map([["genrm", lengthJudge]]) });
  const [good, ungated, broken] = await route([
    { id: 1, domain: "math", response: "A:12", reference: { answer: "1234" } },
    { id: 2, domain: "math", response: "1234", reference: { answer: "1234" } },
    { id: 3, domain: "math", response: "A:boom", reference: { answer: "1" } },
  ]);
  assert.equal(good?.score, (1 * 0.5 + 3 * 1) / 4);
  assert.equal(ungated?.score, 0.1);
  assert.deepEqual(ungated?.details?.["cappedBy"], ["rtv:format"]);
  assert.equal(broken?.verdict, "error");
});

test("config errors name the field", () => {
  assert.throws(
    () => parseRewardConfig({ routes: [{ match: { domian: "math" }, reward: { type: "rtv" } }] }),
    /routes\.0\.match/,
  );
  assert.throws(
    () =>
      parseRewardConfig({ routes: [{ match: { domain: "x" }, reward: { type: "judge", judge: "nope" } }] }),
    /judge 'nope', which is not in judges/,
  );
});
