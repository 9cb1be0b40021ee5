// KV-cached stepping must agree with the full training forward: prefill, token-by-token,
// mixed row lengths, scoring; and bad input is rejected with a message naming it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Decoder } from "../../src/model/decoder.ts";
import { availableKernels, createKernel } from "../../src/model/kernels/index.ts";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import type { Kernel } from "../../src/model/kernels/types.ts";
import { Rng } from "../../src/model/rng.ts";

const config = {
  vocabSize: 17,
  dim: 16,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  ffnDim: 32,
  maxSeqLen: 12,
  qkvBias: true,
};

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

// A prefill from an empty cache runs the kernel's causal attention (as training does); a row
// extending its cache attends one query at a time: both must give the training forward's logits.
const stepKernels: [string, () => Kernel, number][] = [
  ["ts f64", () => createTsKernel("f64"), 1e-5],
  ...availableKernels()
    .filter((n) => n !== "ts")
    .map((n): [string, () => Kernel, number] => [n, () => createKernel(n, { threads: 2 }), 1e-4]),
];
for (const [name, makeKernel, tol] of stepKernels)
  test(`${name} kernel: step with a KV cache reproduces the full forward, for mixed prefill and single tokens`, async () => {
    const kernel = makeKernel();
    const m = new Decoder(config, kernel, { seed: 2 });
    const rng = new Rng(9);
    // Move biases and norms off their trivial init so the cached path must apply them.
    for (let i = 0; i < m.params.length; i++) m.params[i] = m.params[i]! + 0.1 * rng.normal();
    const T = 9;
    const seqs = [0, 1].map(() => Int32Array.from({ length: T }, () => Math.floor(rng.next() * 17)));
    const full = m.forward(Int32Array.from([...seqs[0]!, ...seqs[1]!]), 2, T).logits;
    const V = 17;
    // Row 0 prefills 4 tokens then steps one at a time; row 1 prefills 2 then 3 then singles.
    const caches = [m.newCache(), m.newCache()];
    const plan = [
      [4, 2],
      [1, 3],
      [1, 1],
      [1, 1],
      [1, 1],
      [1, 1],
    ];
    const cursor = [0, 0];
    for (const [a, b] of plan) {
      const take = [a!, b!];
      const rows = [0, 1].map((r) => seqs[r]!.subarray(cursor[r]!, cursor[r]! + take[r]!));
      const out = await m.step(caches, rows);
      for (let r = 0; r < 2; r++) {
        cursor[r] = cursor[r]! + take[r]!;
        const last = r * T + cursor[r]! - 1;
        assert.ok(maxDiff(out.subarray(r * V, (r + 1) * V), full.subarray(last * V, (last + 1) * V)) < tol);
      }
    }
    assert.equal(caches[0]!.len, 9);
    const all = await m.logits(seqs);
    assert.ok(maxDiff(all[0]!, full.subarray(0, T * V)) < tol);
    assert.ok(maxDiff(all[1]!, full.subarray(T * V, 2 * T * V)) < tol);
    kernel.close();
  });

test("scoreTokens gives log-softmax of the next token and a bounded entropy", async () => {
  const m = new Decoder(config, createTsKernel("f32"), { seed: 4 });
  const seq = Int32Array.from([1, 5, 3, 16, 0]);
  const [s] = await m.scoreTokens([seq]);
  const [lg] = await m.logits([seq]);
  assert.equal(s!.logprobs.length, 4);
  for (let t = 0; t < 4; t++) {
    const row = lg!.subarray(t * 17, (t + 1) * 17);
    const z = Math.log(row.reduce((acc, v) => acc + Math.exp(v), 0));
    assert.ok(Math.abs(s!.logprobs[t]! - (row[seq[t + 1]!]! - z)) < 1e-5);
    assert.ok(s!.entropies[t]! > 0 && s!.entropies[t]! <= Math.log(17) + 1e-5);
  }
});

test("heads() gives the value and reward heads of the training forward, per position", async () => {
  const m = new Decoder({ ...config, valueHead: true, rewardHead: true }, createTsKernel("f64"), { seed: 6 });
  const rng = new Rng(3);
  for (let i = 0; i < m.params.length; i++) m.params[i] = m.params[i]! + 0.1 * rng.normal();
  const seqs = [Int32Array.from([3, 1, 4, 1, 5]), Int32Array.from([9, 2, 6, 5, 3])];
  const full = m.forward(Int32Array.from([...seqs[0]!, ...seqs[1]!]), 2, 5);
  const got = await m.heads(seqs);
  assert.ok(maxDiff(got[0]!.values!, full.values!.subarray(0, 5)) < 1e-5);
  assert.ok(maxDiff(got[1]!.rewards!, full.rewards!.subarray(5, 10)) < 1e-5);
  assert.ok(Math.abs(got[1]!.rewards![4]!) > 0, "heads are non-trivial after perturbation");
  await assert.rejects(
    new Decoder(config, createTsKernel()).heads(seqs),
    /neither a value nor a reward head/,
  );
});

test("bad input is rejected with a message naming it", async () => {
  const m = new Decoder(config, createTsKernel("f32"));
  await assert.rejects(m.step([m.newCache()], [Int32Array.from([17])]), /token id 17 in row 0/);
  await assert.rejects(m.step([m.newCache()], [new Int32Array(13)]), /over maxSeqLen 12/);
  assert.throws(() => m.forward(new Int32Array(5), 2, 3), /expected 2×3/);
  assert.throws(() => new Decoder({ ...config, nKvHeads: 3 }, createTsKernel()), /nKvHeads 3/);
  assert.throws(() => new Decoder({ ...config, dim: -1 }, createTsKernel()), /decoder config: dim/);
});
