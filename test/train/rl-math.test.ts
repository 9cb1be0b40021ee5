// The PPO/GRPO arithmetic against values worked out by hand (shown in the comments), and
// the logits gradient against finite differences of log-softmax.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorReward } from "../../src/core/rewards.ts";
import type { Reward } from "../../src/core/schemas.ts";
import { grpoAdvantages, scoredRows } from "../../src/train/ppo.ts";
import {
  adaptiveKlCoef,
  clippedSurrogate,
  clippedValueLoss,
  gae,
  groupAdvantages,
  klEstimate,
  klGrad,
  logprobGradToLogits,
  whiten,
} from "../../src/train/rl-math.ts";

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test("k1 and k3 KL estimators and their gradients", () => {
  // logπ = −1, logπ_ref = −2: k1 = 1; k3 = e^{−1} + 1 − 1 = 0.36788
  close(klEstimate(-1, -2, "k1"), 1);
  close(klEstimate(-1, -2, "k3"), Math.exp(-1) - -1 - 1);
  close(klEstimate(-1.5, -1.5, "k3"), 0);
  assert.ok(klEstimate(-2, -1, "k3") > 0, "k3 is non-negative");
  assert.ok(klEstimate(-2, -1, "k1") < 0, "k1 can be negative");
  close(klGrad(-1, -2, "k1"), 1);
  // d/dlogπ (e^{ref−logπ} − (ref − logπ) − 1) = 1 − e^{ref−logπ} = 1 − e^{−1}
  close(klGrad(-1, -2, "k3"), 1 - Math.exp(-1));
  const h = 1e-6;
  close(
    klGrad(-0.7, -1.3, "k3"),
    (klEstimate(-0.7 + h, -1.3, "k3") - klEstimate(-0.7 - h, -1.3, "k3")) / (2 * h),
    1e-6,
  );
});

test("GAE by hand: γ=1, λ=1 gives reward-to-go minus value; γ=0.5, λ=0.5 worked example", () => {
  // γ=λ=1: A_t = Σ_{k≥t} r_k − V_t
  const a = gae([0, 0, 1], [0.2, 0.5, 0.7], 1, 1);
  assert.deepEqual(
    Array.from(a.advantages).map((x) => +x.toFixed(10)),
    [0.8, 0.5, 0.3],
  );
  assert.deepEqual(
    Array.from(a.returns).map((x) => +x.toFixed(10)),
    [1, 1, 1],
  );
  // γ=λ=0.5, r=[1, 2], V=[0.5, 1]:
  // δ1 = 2 + 0 − 1 = 1;  A1 = 1
  // δ0 = 1 + 0.5·1 − 0.5 = 1;  A0 = 1 + 0.25·1 = 1.25
  const b = gae([1, 2], [0.5, 1], 0.5, 0.5);
  close(b.advantages[0]!, 1.25);
  close(b.advantages[1]!, 1);
  close(b.returns[0]!, 1.75);
  close(b.returns[1]!, 2);
  assert.throws(() => gae([1], [1, 2], 1, 1), /1 rewards but 2 values/);
});

test("group-relative advantages: mean-centred, divided by the group's unbiased std", () => {
  // group 0: scores 1, 0, 0, 1 → mean 0.5, unbiased std = √(4·0.25/3) = 0.57735
  // group 1: all equal → 0
  const adv = groupAdvantages([1, 0, 0, 1, 1, 1], [0, 0, 0, 0, 1, 1], { eps: 0 });
  const s = Math.sqrt(1 / 3);
  close(adv[0]!, 0.5 / s);
  close(adv[1]!, -0.5 / s);
  close(adv[4]!, 0);
  close(adv[5]!, 0);
  const noStd = groupAdvantages([3, 1], [7, 7], { scaleByStd: false });
  assert.deepEqual(Array.from(noStd), [1, -1]);
});

test("group advantages leave rows without a score out of their group's mean and std", () => {
  // Group 0: valid scores 1, 0, 1 (the error row's 0 must not count): mean 2/3, unbiased
  // std √(1/3). Group 1: one valid row: nothing to compare, 0. Group 2: only errors: 0.
  const valid = [true, true, false, true, true, false, false, false];
  const adv = groupAdvantages([1, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1, 2, 2], { eps: 0, valid });
  const s = Math.sqrt(1 / 3);
  close(adv[0]!, 1 / 3 / s);
  close(adv[1]!, -2 / 3 / s);
  assert.equal(adv[2], 0, "an error row gets no advantage");
  close(adv[3]!, 1 / 3 / s);
  assert.deepEqual(Array.from(adv.subarray(4)), [0, 0, 0, 0]);
  assert.throws(() => groupAdvantages([1, 2], [0, 0], { valid: [true] }), /2 scores but 1 validity flags/);
});

test("GRPO advantages from rewards: an `error` verdict is no score, not a 0", () => {
  const r = (score: number, verdict: Reward["verdict"]): Reward => ({ id: "x", score, verdict, source: "t" });
  const rewards = [
    r(1, "correct"),
    errorReward("x", "t", "judge_backend", "down"),
    r(1, "correct"),
    r(0, "incorrect"),
    // group 1: every scored row is correct, the error must not make them look above average
    r(1, "correct"),
    errorReward("x", "t", "timeout", "slow"),
    r(1, "correct"),
    r(1, "correct"),
  ];
  const adv = grpoAdvantages(rewards, [0, 0, 0, 0, 1, 1, 1, 1]);
  // group 0 over the 3 scored rows: mean 2/3, std √(1/3) (eps 1e-6 in the default)
  const s = Math.sqrt(1 / 3) + 1e-6;
  close(adv[0]!, 1 / 3 / s);
  assert.equal(adv[1], 0);
  close(adv[2]!, 1 / 3 / s);
  close(adv[3]!, -2 / 3 / s);
  assert.deepEqual(Array.from(adv.subarray(4)), [0, 0, 0, 0], "equal scores (the error aside) → no signal");
  // With the bug (error as a 0 in the statistics) group 1 would have had mean 0.75 and
  // positive advantages for its three correct rows.
  const { valid, scores } = scoredRows(rewards);
  assert.deepEqual(valid, [true, false, true, true, true, false, true, true]);
  assert.equal(scores.length, 8);
  // Reward whitening also ignores the error rows: the scored ones are standardised among themselves.
  const w = grpoAdvantages(rewards, [0, 0, 0, 0, 1, 1, 1, 1], true);
  assert.equal(w[1], 0);
  assert.deepEqual(Array.from(w.subarray(4)), [0, 0, 0, 0]);
});

test("whitening touches only masked-in entries", () => {
  const x = Float64Array.from([1, 3, 100, 5]);
  whiten(x, [1, 1, 0, 1], true, 0);
  // mean 3, population std √(8/3)
  const sd = Math.sqrt(8 / 3);
  close(x[0]!, -2 / sd);
  close(x[1]!, 0);
  assert.equal(x[2], 100);
  close(x[3]!, 2 / sd);
});

test("clipped surrogate: loss, gradient and the clipped branch by hand", () => {
  // ρ = e^{0.5} = 1.6487 > 1.2 with A = 1: the clipped term −1.2 is larger than −1.6487, grad 0
  const up = clippedSurrogate(0.5, 0, 1, 0.2);
  assert.equal(up.clipped, true);
  close(up.loss, -1.2);
  assert.equal(up.grad, 0);
  // Same ratio, A = −1: unclipped term 1.6487 is the max → gradient −ρA = ρ
  const down = clippedSurrogate(0.5, 0, -1, 0.2);
  assert.equal(down.clipped, false);
  close(down.loss, Math.exp(0.5));
  close(down.grad, Math.exp(0.5));
  // Inside the trust region: loss −ρA, grad −ρA (d/dlogπ of ρ is ρ)
  const inside = clippedSurrogate(Math.log(1.1), 0, 2, 0.2);
  close(inside.loss, -2.2, 1e-12);
  close(inside.grad, -2.2, 1e-12);
  const h = 1e-6;
  const fd =
    (clippedSurrogate(Math.log(1.1) + h, 0, 2, 0.2).loss -
      clippedSurrogate(Math.log(1.1) - h, 0, 2, 0.2).loss) /
    (2 * h);
  close(inside.grad, fd, 1e-6);
});

test("clipped value loss by hand", () => {
  // v=1, v_old=0, R=0, ε=0.2: plain 0.5, clipped v=0.2 → 0.02; max is plain, grad v−R = 1
  const a = clippedValueLoss(1, 0, 0, 0.2);
  close(a.loss, 0.5);
  close(a.grad, 1);
  // v=1, v_old=0, R=2: plain 0.5, clipped (0.2−2)²/2 = 1.62 is larger and v is outside → grad 0
  const b = clippedValueLoss(1, 0, 2, 0.2);
  close(b.loss, 1.62);
  assert.equal(b.grad, 0);
  assert.equal(b.clipped, true);
  const c = clippedValueLoss(1, 0, 2, 0);
  close(c.loss, 0.5);
  close(c.grad, -1);
});

test("logprobGradToLogits matches finite differences of g·log softmax(target)", () => {
  const V = 5;
  const logits = [0.3, -1.2, 2.0, 0.1, -0.4, 1.0, 1.0, -2.0, 0.5, 0.0];
  const targets = Int32Array.from([2, 3]);
  const g = [0.7, -1.3];
  const d = new Float64Array(10);
  logprobGradToLogits(d, logits, targets, g, 2, V);
  const f = (l: number[]) => {
    let s = 0;
    for (let n = 0; n < 2; n++) {
      const row = l.slice(n * V, n * V + V);
      const lse = Math.log(row.reduce((a, x) => a + Math.exp(x), 0));
      s += g[n]! * (row[targets[n]!]! - lse);
    }
    return s;
  };
  const h = 1e-6;
  for (let i = 0; i < 10; i++) {
    const p = [...logits];
    const m = [...logits];
    p[i]! += h;
    m[i]! -= h;
    close(d[i]!, (f(p) - f(m)) / (2 * h), 1e-6);
  }
});

test("adaptive KL coefficient moves toward the target, at most ±20% per horizon", () => {
  close(adaptiveKlCoef(0.1, 12, 6, 100, 100), 0.12);
  close(adaptiveKlCoef(0.1, 0, 6, 100, 100), 0.08);
  close(adaptiveKlCoef(0.1, 6.6, 6, 50, 100), 0.1 * (1 + 0.1 * 0.5));
});
