import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { Reward } from "../../src/core/schemas.ts";
import { batchingRewardFn } from "../../src/reward/batching.ts";
import { parseRewardConfig } from "../../src/reward/config.ts";
import { createRewardSystem, type RewardSystem } from "../../src/reward/system.ts";
import { createRewardServer } from "../../src/serve/reward-server.ts";

const plugin = fileURLToPath(new URL("../verify/fixtures/echo-verifier.ts", import.meta.url));
let system: RewardSystem;
let app: FastifyInstance;
let base: string;

before(async () => {
  const config = parseRewardConfig({
    routes: [{ match: { domain: "echo" }, reward: { type: "rtv" } }],
    fallback: { type: "judge", judge: "genrm", reference: "bon" },
    judges: {
      genrm: { kind: "genrm", backend: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", model: "judge" } },
    },
    defaultDomain: "echo",
    verify: { plugins: [plugin], workers: 1 },
  });
  // The judge's backend is down: every call fails as a real client's would.
  system = await createRewardSystem(config, {
    makeJudge: () => ({
      source: "genrm",
      judge: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:9");
      },
    }),
  });
  app = await createRewardServer({
    rewardFn: batchingRewardFn(system.rewardFn),
    defaultDomain: "echo",
    domains: system.domains,
    maxQueue: 8,
    bodyLimit: 64 * 1024,
  });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
});
after(async () => {
  await app.close();
  await system.close();
});

async function post(
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

test("POST /v1/rewards scores rollouts in order", async () => {
  const rollouts = [
    { id: "a", domain: "echo", response: "ok", reference: { answer: "ok" } },
    { id: "b", domain: "echo", response: "no", reference: { answer: "ok" } },
  ];
  const { status, json } = await post("/v1/rewards", { rollouts });
  assert.equal(status, 200);
  const rewards = (json["rewards"] as unknown[]).map((r) => Reward.parse(r));
  assert.deepEqual(
    rewards.map((r) => [r.id, r.verdict, r.source]),
    [
      ["a", "correct", "test:echo"],
      ["b", "incorrect", "test:echo"],
    ],
  );
});

test("malformed requests get 400 naming the field", async () => {
  const bad = await post("/v1/rewards", {
    rollouts: [
      { id: "a", domain: "echo", response: "x" },
      { id: "b", domain: "echo" },
    ],
  });
  assert.equal(bad.status, 400);
  assert.match(String((bad.json["error"] as { message: string }).message), /^rollouts\.1\.response: /);
  const notJson = await post("/v1/rewards", "{nope");
  assert.equal(notJson.status, 400);
  const wrong = await post("/openrlhf", { query: ["x"], prompts: [""], labels: [] });
  assert.equal(wrong.status, 400);
  assert.match(String((wrong.json["error"] as { message: string }).message), /labels: expected 1 entries/);
});

test("bodies over the limit are refused with 413", async () => {
  const huge = { rollouts: [{ id: "a", domain: "echo", response: "x".repeat(100_000) }] };
  const res = await post("/v1/rewards", huge);
  assert.equal(res.status, 413);
});

test("OpenRLHF protocol: per-sample requests, prompt removed, end markers stripped, labels decoded", async () => {
  const prompt = "<|im_start|>user\nSay ok<|im_end|>\n<|im_start|>assistant\n";
  const one = await post("/get_reward", {
    query: [`${prompt}ok<|im_end|>`],
    prompts: [prompt],
    labels: ["ok"],
  });
  assert.equal(one.status, 200);
  assert.deepEqual(one.json["rewards"], [1]);
  assert.deepEqual(one.json["scores"], [1]);
  const label = JSON.stringify({ domain: "echo", reference: { answer: "yes" } });
  const two = await post("/openrlhf", {
    query: [`${prompt}yes`, `${prompt}no`],
    prompts: [prompt, prompt],
    labels: [label, label],
  });
  assert.deepEqual(two.json["rewards"], [1, 0]);
  assert.deepEqual((two.json["extra_logs"] as Record<string, unknown>)["correct"], [1, 0]);
  const empty = await post("/openrlhf", { query: [], prompts: [], labels: [] });
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.json, { rewards: [], scores: [], extra_logs: { correct: [], invalid: [] } });
});

test("an infrastructure failure is an error verdict natively and a 503 for OpenRLHF, never a 0", async () => {
  const { json } = await post("/v1/rewards", {
    rollouts: [{ id: "g", domain: "general", prompt: "hi", response: "hello" }],
  });
  const [r] = (json["rewards"] as unknown[]).map((x) => Reward.parse(x));
  assert.equal(r?.verdict, "error");
  assert.equal(r?.error?.code, "judge_failed");
  assert.match(String(r?.error?.message), /ECONNREFUSED/);
  const label = JSON.stringify({ domain: "general", reference: { response: "hello" } });
  const res = await post("/openrlhf", { query: ["hi hello"], prompts: ["hi"], labels: [label] });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
});

test("beyond the queue limit the server answers 429 with Retry-After, and serves again after", async () => {
  const rollouts = Array.from({ length: 6 }, (_, i) => ({
    id: i,
    domain: "echo",
    response: "slow",
    reference: { answer: "x" },
  }));
  const results = await Promise.all(Array.from({ length: 6 }, () => post("/v1/rewards", { rollouts })));
  const codes = results.map((r) => r.status);
  assert.ok(codes.includes(200), String(codes));
  assert.ok(codes.includes(429), String(codes));
  const limited = results.find((r) => r.status === 429);
  assert.equal(limited?.headers.get("retry-after"), "1");
  const after = await post("/v1/rewards", { rollouts: rollouts.slice(0, 2) });
  assert.equal(after.status, 200);
});

test("GET /health and /metrics (Prometheus text)", async () => {
  const health = (await (await fetch(`${base}/health`)).json()) as { status: string; domains: string[] };
  assert.equal(health.status, "ok");
  assert.ok(health.domains.includes("echo"));
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /datascale_rewards_total\{source="test:echo",verdict="correct"\} \d+/);
  assert.match(text, /datascale_request_seconds_bucket\{le="0\.005",route="\/v1\/rewards"\}/);
  assert.match(text, /datascale_requests_total\{route="\/v1\/rewards",status="429"\}/);
});
