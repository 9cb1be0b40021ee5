import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyError, settleFinal, statusOfClass } from "../../src/core/errors.ts";
import { errorReward } from "../../src/core/rewards.ts";

test("one classification: data 422, bugs 500, infrastructure 503 (also for unknown codes), final is a verdict", () => {
  assert.equal(statusOfClass(classifyError("no_reference")), 422);
  assert.equal(statusOfClass(classifyError("unknown_domain")), 422);
  assert.equal(statusOfClass(classifyError("verifier_crash")), 500);
  assert.equal(statusOfClass(classifyError("judge_failed")), 503);
  assert.equal(statusOfClass(classifyError("something_new")), 503);
  assert.equal(classifyError("time_budget", "rtv:math"), "final");
  // The code verifier's budget includes the wait for a sandbox slot: the infrastructure's.
  assert.equal(classifyError("time_budget", "rtv:code"), "infrastructure");
});

test("settleFinal turns a failure that recurs on every retry into that sample's invalid verdict", () => {
  const math = settleFinal(
    errorReward(1, "rtv:math", "time_budget", "math verification exceeded its 2000 ms time budget"),
  );
  assert.equal(math.verdict, "invalid");
  assert.equal(math.score, 0);
  assert.equal(math.details?.["code"], "time_budget");
  assert.match(String(math.details?.["reason"]), /2000 ms/);
  const judge = errorReward(2, "genrm", "judge_failed", "down");
  assert.equal(settleFinal(judge), judge);
  const code = errorReward(3, "rtv:code", "time_budget", "spent");
  assert.equal(settleFinal(code).verdict, "error");
});
