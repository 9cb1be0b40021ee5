import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonSchemas } from "../../src/core/json-schema.ts";
import { Reward, Rollout, Task } from "../../src/core/schemas.ts";

test("Task needs a prompt or messages", () => {
  assert.equal(Task.safeParse({ id: "t", domain: "math" }).success, false);
  assert.equal(Task.safeParse({ id: "t", domain: "math", prompt: "1+1?" }).success, true);
  assert.equal(
    Task.safeParse({ id: "t", domain: "general", messages: [{ role: "user", content: "hi" }] }).success,
    true,
  );
});

test("Rollout keeps extra fields and Reference passes unknown keys through", () => {
  const r = Rollout.parse({
    id: 1,
    domain: "math",
    response: "2",
    reference: { answer: "2", hint: "x" },
    extra: 5,
  });
  assert.equal((r as Record<string, unknown>)["extra"], 5);
  assert.equal((r.reference as Record<string, unknown>)["hint"], "x");
});

test("Reward: error verdicts carry an error and only they do", () => {
  assert.equal(Reward.safeParse({ id: "a", score: 0, verdict: "error", source: "rtv:math" }).success, false);
  assert.equal(
    Reward.safeParse({
      id: "a",
      score: 0,
      verdict: "incorrect",
      source: "x",
      error: { code: "c", message: "m" },
    }).success,
    false,
  );
  assert.equal(
    Reward.safeParse({ id: "a", score: 0, verdict: "error", source: "x", error: { code: "c", message: "m" } })
      .success,
    true,
  );
  assert.equal(
    Reward.safeParse({ id: "a", score: Number.NaN, verdict: "correct", source: "x" }).success,
    false,
  );
});

test("JSON Schema export covers the vocabulary", () => {
  const s = jsonSchemas() as Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
  assert.ok(s["Reward"]?.properties?.["verdict"]);
  assert.deepEqual(s["Rollout"]?.required?.sort(), ["domain", "id", "response"]);
});
