// KV-cached stepping must agree with the full training forward: prefill, token-by-token,
// mixed row lengths, scoring; and bad input is rejected with a message naming it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Decoder } from "../../src/model/decoder.ts";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import { Rng } from "../../src/model/rng.ts";

const config = { vocabSize: 17, dim: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 32, maxSeqLen: 12 };

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test("step with a KV cache reproduces the full forward, for mixed prefill and single tokens", async () => {
  const m = new Decoder(config, createTsKernel("f64"), { seed: 2 });
  const rng = new Rng(9);
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
      assert.ok(maxDiff(out.subarray(r * V, (r + 1) * V), full.subarray(last * V, (last + 1) * V)) < 1e-5);
    }
  }
  assert.equal(caches[0]!.len, 9);
  const all = await m.logits(seqs);
  assert.ok(maxDiff(all[0]!, full.subarray(0, T * V)) < 1e-5);
  assert.ok(maxDiff(all[1]!, full.subarray(T * V, 2 * T * V)) < 1e-5);
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

test("bad input is rejected with a message naming it", async () => {
  const m = new Decoder(config, createTsKernel("f32"));
  await assert.rejects(m.step([m.newCache()], [Int32Array.from([17])]), /token id 17 in row 0/);
  await assert.rejects(m.step([m.newCache()], [new Int32Array(13)]), /over maxSeqLen 12/);
  assert.throws(() => m.forward(new Int32Array(5), 2, 3), /expected 2×3/);
  assert.throws(() => new Decoder({ ...config, nKvHeads: 3 }, createTsKernel()), /nKvHeads 3/);
  assert.throws(() => new Decoder({ ...config, dim: -1 }, createTsKernel()), /decoder config: dim/);
});
