// Gradient checks: every layer's backward against central finite differences, then the
// whole model (all heads, grouped-query attention, tied and untied heads), in float64.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Decoder } from "../../src/model/decoder.ts";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import {
  crossEntropyForwardBackward,
  linearBackward,
  linearForward,
  rmsnormBackward,
  rmsnormForward,
  ropeApply,
  ropeTables,
  scalarHeadBackward,
  scalarHeadForward,
  swigluBackward,
  swigluForward,
} from "../../src/model/layers.ts";
import { Rng } from "../../src/model/rng.ts";

const k64 = createTsKernel("f64");
const rng = new Rng(7);
const randn = (n: number) => Float64Array.from({ length: n }, () => rng.normal());

/** Max relative error between analytic gradient `g` of f at x and central differences. */
function checkGrad(name: string, x: Float64Array, g: Float64Array, f: () => number, tol = 1e-6): void {
  const h = 1e-5;
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const old = x[i]!;
    x[i] = old + h;
    const fp = f();
    x[i] = old - h;
    const fm = f();
    x[i] = old;
    const num = (fp - fm) / (2 * h);
    const err = Math.abs(num - g[i]!) / Math.max(1, Math.abs(num), Math.abs(g[i]!));
    worst = Math.max(worst, err);
  }
  assert.ok(worst < tol, `${name}: worst relative gradient error ${worst.toExponential(2)} ≥ ${tol}`);
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

test("rmsnorm backward matches finite differences", () => {
  const N = 3;
  const D = 5;
  const x = randn(N * D);
  const w = randn(D);
  const proj = randn(N * D);
  const out = new Float64Array(N * D);
  const rinv = new Float64Array(N);
  const f = () => {
    rmsnormForward(out, rinv, x, w, N, D, 1e-5);
    return dot(out, proj);
  };
  f();
  const dx = new Float64Array(N * D);
  const dw = new Float64Array(D);
  rmsnormBackward(dx, dw, proj, x, w, rinv, N, D);
  checkGrad("rmsnorm dx", x, dx, f);
  checkGrad("rmsnorm dw", w, dw, f);
});

test("rope backward (inverse rotation) matches finite differences", () => {
  const N = 4;
  const H = 2;
  const hd = 6;
  const { cos, sin } = ropeTables(8, hd, 10000);
  const pos = Int32Array.from([0, 3, 5, 7]);
  const x = randn(N * H * hd);
  const proj = randn(N * H * hd);
  const f = () => {
    const y = Float64Array.from(x);
    ropeApply(y, pos, N, H, hd, cos, sin, 1);
    return dot(y, proj);
  };
  const g = Float64Array.from(proj);
  ropeApply(g, pos, N, H, hd, cos, sin, -1);
  checkGrad("rope", x, g, f);
});

test("linear backward matches finite differences", () => {
  const N = 3;
  const I = 4;
  const O = 5;
  const x = randn(N * I);
  const W = randn(O * I);
  const proj = randn(N * O);
  const out = new Float64Array(N * O);
  const f = () => {
    linearForward(k64, out, x, W, N, I, O);
    return dot(out, proj);
  };
  const dx = new Float64Array(N * I);
  const dW = new Float64Array(O * I);
  linearBackward(k64, dx, dW, proj, x, W, N, I, O);
  checkGrad("linear dx", x, dx, f);
  checkGrad("linear dW", W, dW, f);
});

test("swiglu backward matches finite differences", () => {
  const n = 9;
  const gate = randn(n);
  const up = randn(n);
  const proj = randn(n);
  const act = new Float64Array(n);
  const f = () => {
    swigluForward(act, gate, up, n);
    return dot(act, proj);
  };
  const dg = new Float64Array(n);
  const du = new Float64Array(n);
  swigluBackward(dg, du, proj, gate, up, n);
  checkGrad("swiglu gate", gate, dg, f);
  checkGrad("swiglu up", up, du, f);
});

test("causal grouped-query attention backward matches finite differences", () => {
  const shape = { batch: 2, T: 4, heads: 4, kvHeads: 2, headDim: 3 };
  const N = shape.batch * shape.T;
  const q = randn(N * 4 * 3);
  const k = randn(N * 2 * 3);
  const v = randn(N * 2 * 3);
  const proj = randn(N * 4 * 3);
  const out = new Float64Array(N * 4 * 3);
  const probs = new Float64Array(2 * 4 * 4 * 4);
  const f = () => {
    k64.attentionForward(shape, out, probs, q, k, v);
    return dot(out, proj);
  };
  f();
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  k64.attentionBackward(shape, dq, dk, dv, proj, probs, q, k, v);
  checkGrad("attention dq", q, dq, f);
  checkGrad("attention dk", k, dk, f);
  checkGrad("attention dv", v, dv, f);
  // Causality: the first token's output depends only on itself.
  const before = out.slice(0, 12);
  k[2 * 6] = (k[2 * 6] ?? 0) + 1;
  f();
  assert.deepEqual(out.slice(0, 12), before);
});

test("weighted cross-entropy and scalar head backward match finite differences", () => {
  const N = 4;
  const V = 6;
  const logits = randn(N * V);
  const targets = Int32Array.from([1, 0, 5, 2]);
  const weights = Float64Array.from([1, 0, -0.5, 2]);
  const d = new Float64Array(N * V);
  const f = () => crossEntropyForwardBackward(new Float64Array(N * V), logits, targets, weights, N, V).loss;
  crossEntropyForwardBackward(d, logits, targets, weights, N, V);
  checkGrad("cross-entropy", logits, d, f);
  for (let v = 0; v < V; v++) assert.equal(d[1 * V + v], 0, "weight 0 masks the row");

  const D = 5;
  const x = randn(N * D);
  const w = randn(D);
  const b = randn(1);
  const proj = randn(N);
  const out = new Float64Array(N);
  const g = () => {
    scalarHeadForward(out, x, w, b, N, D);
    return dot(out, proj);
  };
  const dx = new Float64Array(N * D);
  const dw = new Float64Array(D);
  const db = new Float64Array(1);
  scalarHeadBackward(dx, dw, db, proj, x, w, N, D);
  checkGrad("head dx", x, dx, g);
  checkGrad("head dw", w, dw, g);
  checkGrad("head db", b, db, g);
});

for (const tied of [false, true]) {
  test(`whole model gradient matches finite differences (${tied ? "tied head" : "untied head, qkv bias"}, GQA, value+reward heads)`, () => {
    const m = new Decoder(
      {
        vocabSize: 7,
        dim: 8,
        nLayers: 2,
        nHeads: 2,
        nKvHeads: 1,
        ffnDim: 12,
        maxSeqLen: 8,
        tiedEmbeddings: tied,
        qkvBias: !tied,
        valueHead: true,
        rewardHead: true,
      },
      k64,
      { seed: 3 },
    );
    // Perturb norms and heads away from their trivial init so their gradients are exercised.
    for (let i = 0; i < m.params.length; i++) m.params[i] = m.params[i]! + 0.3 * rng.normal();
    const B = 2;
    const T = 5;
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 7));
    const targets = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 7));
    const weights = Float64Array.from({ length: B * T }, (_, i) => (i % 4 === 3 ? 0 : 0.5 + rng.next()));
    const cv = randn(B * T);
    const cr = randn(B * T);
    const loss = () => {
      const out = m.forward(ids, B, T);
      const ce = crossEntropyForwardBackward(
        new Float64Array(B * T * 7),
        out.logits,
        targets,
        weights,
        B * T,
        7,
      );
      return ce.loss + dot(Float64Array.from(out.values!), cv) + dot(Float64Array.from(out.rewards!), cr);
    };
    m.zeroGrad();
    const out = m.forward(ids, B, T);
    const dl = new Float64Array(B * T * 7);
    crossEntropyForwardBackward(dl, out.logits, targets, weights, B * T, 7);
    m.backward(dl, cv, cr);
    const grads = Float64Array.from(m.grads);
    checkGrad("model", m.params as Float64Array, grads, loss, 1e-6);
  });
}

test("outputs at some positions only (few: a rows-only last layer; more: gathered) equal the full forward's there, with the same gradients", () => {
  const cases = [
    { nLayers: 2, tiedEmbeddings: false, nKvHeads: 2, qkvBias: false },
    { nLayers: 1, tiedEmbeddings: true, nKvHeads: 1, qkvBias: true },
    { nLayers: 3, tiedEmbeddings: false, nKvHeads: 1, qkvBias: false },
  ];
  // 2 of 32 positions take the rows-only last layer (≤ 1/16 of them), 4 the gathered outputs.
  for (const [shape, picked] of cases.flatMap(
    (c) =>
      [
        [c, [30, 5]],
        [c, [9, 1, 4, 5]],
      ] as const,
  )) {
    const config = {
      vocabSize: 11,
      dim: 8,
      nHeads: 2,
      maxSeqLen: 8,
      valueHead: true,
      rewardHead: true,
      ...shape,
    };
    const full = new Decoder(config, k64, { seed: 5 });
    const part = new Decoder(config, k64, { seed: 5 });
    const [B, T, V] = [4, 8, 11];
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7) % V);
    const rows = Int32Array.from(picked);
    const R = rows.length;
    const [dL, dV, dR] = [randn(R * V), randn(R), randn(R)];
    // The same output gradients, scattered to their positions, for the full forward.
    const [fL, fV, fR] = [new Float64Array(B * T * V), new Float64Array(B * T), new Float64Array(B * T)];
    rows.forEach((n, i) => {
      fL.set(dL.subarray(i * V, (i + 1) * V), n * V);
      fV[n] = dV[i]!;
      fR[n] = dR[i]!;
    });
    const out = full.forward(ids, B, T);
    const want = {
      logits: Float64Array.from(out.logits),
      values: Float64Array.from(out.values!),
      rewards: Float64Array.from(out.rewards!),
    };
    full.zeroGrad();
    full.backward(fL, fV, fR);
    const got = part.forward(ids, B, T, rows);
    assert.equal(got.logits.length, R * V);
    rows.forEach((n, i) => {
      for (let v = 0; v < V; v++)
        assert.ok(Math.abs(got.logits[i * V + v]! - want.logits[n * V + v]!) < 1e-12);
      assert.ok(Math.abs(got.values![i]! - want.values[n]!) < 1e-12);
      assert.ok(Math.abs(got.rewards![i]! - want.rewards[n]!) < 1e-12);
    });
    part.zeroGrad();
    part.backward(dL, dV, dR);
    let worst = 0;
    full.grads.forEach((g, i) => {
      worst = Math.max(worst, Math.abs(g - part.grads[i]!));
    });
    assert.ok(worst < 1e-12, `${JSON.stringify(shape)}: gradients differ by ${worst}`);
    assert.throws(() => part.forward(ids, B, T, Int32Array.from([B * T])), /output row 32 is outside/);
  }
});
