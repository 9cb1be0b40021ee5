// Every kernel against the float64 reference: matmul in all layouts used (including odd
// sizes that exercise the edge tiles, buffers outside WASM memory, accumulate), attention,
// and a whole decoder forward/backward.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Decoder } from "../../src/model/decoder.ts";
import { availableKernels, createKernel } from "../../src/model/kernels/index.ts";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import type { Kernel } from "../../src/model/kernels/types.ts";
import { createWasmKernel } from "../../src/model/kernels/wasm.ts";
import { Rng } from "../../src/model/rng.ts";

const ref = createTsKernel("f64");
const rng = new Rng(1);
const kernels: Kernel[] = availableKernels().map((name) => createKernel(name, { threads: 2 }));
// The plain-SIMD build (runtimes without relaxed SIMD), single-threaded.
kernels.push(createWasmKernel({ threads: 1, noRelaxed: true }));
after(() => {
  for (const k of kernels) k.close();
});

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  assert.ok(worst < tol, `${what}: max relative error ${worst}`);
}

const fill = (a: Float32Array | Float64Array) => {
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
};

for (const k of kernels) {
  test(`${k.name} kernel (${k.detail}): matmul nn/nt/tn matches the reference`, () => {
    const shapes = [
      [1, 1, 1],
      [7, 13, 5],
      [16, 64, 256],
      [37, 100, 33],
      [130, 72, 64],
      // K over one packing chunk (256) and not a multiple of 4; few rows with many columns
      // (the unpacked x·Wᵀ path, split over threads); rows over one column group.
      [20, 70, 601],
      [3, 250, 190],
      [9, 530, 40],
    ];
    for (const [M, N, K] of shapes as [number, number, number][]) {
      for (const [opA, opB] of [
        ["n", "n"],
        ["n", "t"],
        ["t", "n"],
      ] as const) {
        for (const inside of [true, false]) {
          for (const accumulate of [false, true]) {
            const mk = (n: number) => (inside ? fill(k.alloc(n)) : fill(new Float32Array(n)));
            const A = mk(M * K);
            const B = mk(K * N);
            const C = mk(M * N);
            const want = Float64Array.from(C);
            ref.matmul(opA, opB, M, N, K, Float64Array.from(A), Float64Array.from(B), want, accumulate);
            k.matmul(opA, opB, M, N, K, A, B, C, accumulate);
            close(C, want, 1e-4, `${opA}${opB} ${M}x${N}x${K} inside=${inside} acc=${accumulate}`);
          }
        }
      }
    }
  });

  // Head dims 8 (SIMD attention) and 6 (the TypeScript fallback).
  for (const dim of [32, 24])
    test(`${k.name} kernel (${k.detail}): decoder (dim ${dim}) forward and backward match the float64 reference`, () => {
      const config = { vocabSize: 19, dim, nLayers: 2, nHeads: 4, nKvHeads: 2, maxSeqLen: 16 };
      const a = new Decoder(config, k, { seed: 5 });
      const b = new Decoder(config, ref, { seed: 5 });
      b.params.set(a.params);
      const B = 3;
      const T = 11;
      const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 19));
      const targets = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 19));
      a.zeroGrad();
      b.zeroGrad();
      const la = a.lossAndGrad(ids, targets, B, T);
      const lb = b.lossAndGrad(ids, targets, B, T);
      assert.ok(Math.abs(la - lb) < 1e-5, `loss ${la} vs ${lb}`);
      close(a.forward(ids, B, T).logits, b.forward(ids, B, T).logits, 1e-5, "logits");
      close(a.grads, b.grads, 1e-5, "grads");
    });
}
