// Reward models on a synthetic preference set whose quality is known (vowel count): the
// Bradley–Terry head beats chance on held-out pairs, and GenRM's p(YES) orders responses
// by that quality with both orders of every pair.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import { newDecoder } from "../../src/train/models.ts";
import {
  genrmScores,
  pairGrads,
  pairwiseAccuracy,
  trainGenRm,
  trainRewardModel,
} from "../../src/train/rm.ts";
import { kernel, TINY, tokenizer, vowelPairs, vowels } from "./helpers.ts";

const train = vowelPairs(400, 1);
const heldOut = vowelPairs(100, 99);

test("Bradley–Terry reward model beats chance on held-out pairs", async () => {
  const model = newDecoder({ ...TINY, rewardHead: true }, 4, kernel);
  const before = pairwiseAccuracy(model, tokenizer, heldOut);
  const result = await trainRewardModel({
    model,
    tokenizer,
    train,
    eval: heldOut,
    options: { steps: 40, batchSize: 16, lr: 3e-3, warmup: 5, seed: 1, evalEvery: 0, checkpointEvery: 0 },
  });
  process.stdout.write(`# BT RM held-out pairwise accuracy ${before} → ${result.evalAccuracy}\n`);
  assert.ok(
    result.evalAccuracy !== undefined && result.evalAccuracy >= 0.7,
    `accuracy ${result.evalAccuracy}`,
  );
});

test("BT pair gradients in width buckets equal those of one block padded to the longest", () => {
  const k64 = createTsKernel("f64");
  const model = newDecoder({ ...TINY, rewardHead: true }, 3, k64);
  // Pairs of very different widths, so they fall in different buckets; B chosen then B rejected.
  const lens = [3, 4, 17, 5, 20, 6, 16, 4];
  const seqs = lens.map((n, i) => Array.from({ length: n }, (_, t) => (t * 5 + i * 3) % 250));
  const B = seqs.length / 2;
  const T = Math.max(...lens);
  const ids = new Int32Array(seqs.length * T).fill(257);
  seqs.forEach((q, b) => {
    ids.set(q, b * T);
  });
  const r = model.forward(ids, seqs.length, T).rewards!;
  const d = new Float64Array(seqs.length * T);
  let loss = 0;
  for (let i = 0; i < B; i++) {
    const [c, j] = [i * T + lens[i]! - 1, (B + i) * T + lens[B + i]! - 1];
    const diff = r[c]! - r[j]!;
    loss += Math.log1p(Math.exp(-diff));
    d[c] = -1 / (1 + Math.exp(diff)) / B;
    d[j] = -d[c]!;
  }
  model.zeroGrad();
  model.backward(undefined, undefined, d);
  const padded = Float64Array.from(model.grads);
  model.zeroGrad();
  const got = pairGrads(model, seqs, 257);
  assert.ok(Math.abs(got.loss - loss) < 1e-9, `loss ${got.loss} vs ${loss}`);
  let worst = 0;
  padded.forEach((g, i) => {
    worst = Math.max(worst, Math.abs(g - model.grads[i]!));
  });
  assert.ok(worst < 1e-9, `gradients differ by ${worst}`);
});

test("GenRM: p(YES) orders responses by the known quality, trained on both orders", async () => {
  const model = newDecoder({ ...TINY, maxSeqLen: 48 }, 5, kernel);
  const ev = await trainGenRm({
    model,
    tokenizer,
    train,
    eval: heldOut,
    options: { steps: 90, batchSize: 24, lr: 4e-3, warmup: 5, seed: 1, evalEvery: 0, checkpointEvery: 0 },
  });
  assert.ok(ev !== undefined);
  process.stdout.write(`# GenRM held-out: ${JSON.stringify(ev)}\n`);
  assert.ok(ev.pairwiseAccuracy >= 0.7, `pairwise accuracy ${ev.pairwiseAccuracy}`);
  assert.ok(ev.brier < 0.25, `Brier ${ev.brier} beats the constant 0.5 judge (0.25)`);
  // Against one fixed reference, p(YES) rises with the candidate's vowel count.
  const reference = "bcdaftgh"; // 1 vowel
  const candidates = ["bcdfghjk", "bcdfghja", "bcafehja", "bcafehoi", "aeafeioi"];
  const p = await genrmScores(
    model,
    tokenizer,
    candidates.map((c) => ({ prompt: "say:", response: c, reference })),
  );
  process.stdout.write(
    `# p(YES) by vowels ${candidates.map((c, i) => `${vowels(c)}:${p[i]!.toFixed(2)}`).join(" ")}\n`,
  );
  assert.ok(p[4]! > p[0]!, "the best candidate beats the worst");
  assert.ok(
    Math.min(p[2]!, p[3]!, p[4]!) > Math.max(p[0]!, p[1]!),
    "better than the reference scores above not better",
  );
});
