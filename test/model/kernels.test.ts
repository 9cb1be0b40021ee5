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
import { matmulAll } from "../../src/model/layers.ts";
import { AdamW } from "../../src/model/optim.ts";
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
      // Enough rows and work for the blas kernel to split the product over its pool, in
      // uneven row blocks.
      [200, 96, 80],
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

  test(`${k.name} kernel (${k.detail}): several independent products at once match the reference`, () => {
    // Mixed products (cut into row blocks), then two identical ones (one whole per thread).
    const sets = [
      [
        ["n", "t", 200, 96, 80, false],
        ["t", "n", 150, 130, 70, true],
        ["n", "n", 256, 64, 64, true],
        ["n", "t", 5, 40, 30, false],
        ["n", "n", 130, 140, 60, false],
      ],
      [
        ["n", "t", 200, 96, 80, false],
        ["n", "t", 200, 96, 80, true],
      ],
    ] as const;
    for (const shapes of sets) {
      const jobs = shapes.map(([opA, opB, M, N, K, accumulate]) => ({
        opA,
        opB,
        M,
        N,
        K,
        A: fill(k.alloc(M * K)),
        B: fill(k.alloc(K * N)),
        C: fill(k.alloc(M * N)),
        accumulate,
      }));
      const want = jobs.map((j) => {
        const C = Float64Array.from(j.C);
        ref.matmul(
          j.opA,
          j.opB,
          j.M,
          j.N,
          j.K,
          Float64Array.from(j.A),
          Float64Array.from(j.B),
          C,
          j.accumulate,
        );
        return C;
      });
      matmulAll(k, jobs);
      for (const [i, j] of jobs.entries())
        close(j.C, want[i]!, 1e-4, `job ${i} ${j.opA}${j.opB} ${j.M}x${j.N}x${j.K}`);
    }
  });

  // Head dims 8 (SIMD attention) and 6 (the TypeScript fallback); 64 with T = 40 (dW products of
  // 352 rows) takes the native kernel's widest attention blocks and pooled GEMMs; 16 (the main
  // job's models) and 32 take its blocked path for head dims that are multiples of 16, with T
  // not a multiple of its 8-query blocks, grouped and ungrouped.
  for (const [dim, nHeads, nKvHeads, B, T] of [
    [32, 4, 2, 3, 11],
    [24, 4, 2, 3, 11],
    [128, 2, 1, 2, 40],
    [64, 4, 2, 3, 17],
    [64, 4, 4, 2, 30],
    [64, 2, 2, 2, 9],
  ] as const)
    test(`${k.name} kernel (${k.detail}): decoder (dim ${dim}) forward and backward match the float64 reference`, () => {
      const config = { vocabSize: 19, dim, nLayers: 2, nHeads, nKvHeads, maxSeqLen: 48 };
      const a = new Decoder(config, k, { seed: 5 });
      const b = new Decoder(config, ref, { seed: 5 });
      b.params.set(a.params);
      const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 19));
      const targets = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 19));
      a.zeroGrad();
      b.zeroGrad();
      const la = a.lossAndGrad(ids, targets, B, T);
      const lb = b.lossAndGrad(ids, targets, B, T);
      assert.ok(Math.abs(la - lb) < 1e-5, `loss ${la} vs ${lb}`);
      close(a.forward(ids, B, T).logits, b.forward(ids, B, T).logits, 1e-5, "logits");
      close(a.grads, b.grads, 1e-5, "grads");
      // One AdamW step (the kernel's fast path, if any) from identical state: the same
      // float32 gradients on both sides, since Adam's first step is ±lr for any gradient
      // well above eps and so turns tiny rounding differences in small gradients into lr.
      b.grads.set(a.grads);
      const oa = new AdamW(a, { lr: 1e-2, weightDecay: 0.1, gradClip: 0.5 });
      const ob = new AdamW(b, { lr: 1e-2, weightDecay: 0.1, gradClip: 0.5 });
      const na = oa.step(a.params, a.grads);
      const nb = ob.step(b.params, b.grads);
      assert.ok(Math.abs(na - nb) < 1e-5 * nb, `gradient norm ${na} vs ${nb}`);
      close(a.params, b.params, 1e-5, "params after AdamW");
    });
}

// Results must not depend on the thread count: the main job gives each seed process its
// share of the cores (one thread for three seeds on two cores, two with --parallel 1), and a
// gradient that differs in its last bit sends a PPO run elsewhere within a few dozen steps
// (held-out gold +2.7 vs +1.0 points for one seed, docs/experiment.md).
for (const name of availableKernels().filter((n) => n !== "ts")) {
  test(`${name} kernel: a training step's logits, gradients and AdamW update are bit-identical for 1, 2 and 3 threads`, () => {
    const config = { vocabSize: 64, dim: 64, nLayers: 2, nHeads: 4, maxSeqLen: 128 };
    const step = (threads: number, B: number, T: number) => {
      const k = createKernel(name, { threads });
      try {
        const m = new Decoder(config, k, { seed: 3 });
        const r = new Rng(11);
        const ids = Int32Array.from({ length: B * T }, () => Math.floor(r.next() * 64));
        const targets = Int32Array.from({ length: B * T }, () => Math.floor(r.next() * 64));
        m.zeroGrad();
        const loss = m.lossAndGrad(ids, targets, B, T);
        const logits = Float32Array.from(m.forward(ids, B, T).logits);
        const grads = Float32Array.from(m.grads);
        new AdamW(m, { lr: 1e-3, weightDecay: 0.1, gradClip: 1 }).step(m.params, m.grads);
        return { loss, logits, grads, params: Float32Array.from(m.params) };
      } finally {
        k.close();
      }
    };
    for (const [B, T] of [
      [16, 69],
      [64, 40],
      [3, 20],
    ] as const) {
      const one = step(1, B, T);
      for (const threads of [2, 3]) {
        const other = step(threads, B, T);
        const what = `${B}×${T}, ${threads} threads vs 1`;
        assert.equal(other.loss, one.loss, `${what}: loss`);
        assert.deepEqual(other.logits, one.logits, `${what}: logits`);
        assert.deepEqual(other.grads, one.grads, `${what}: gradients`);
        assert.deepEqual(other.params, one.params, `${what}: parameters after AdamW`);
      }
    }
  });
}
