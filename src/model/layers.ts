// Every layer of the decoder as a forward/backward pair, side by side (llm.c style). Shapes
// are row-major; N is the number of token rows. Backward functions accumulate into
// parameter gradients (dW, dw) and overwrite input gradients (dx) unless noted.
import type { Arr, Kernel, MatmulJob } from "./kernels/types.ts";

export function embeddingForward(out: Arr, ids: Int32Array, table: Arr, N: number, D: number): void {
  for (let n = 0; n < N; n++) {
    const id = ids[n]!;
    out.set(table.subarray(id * D, id * D + D), n * D);
  }
}

export function embeddingBackward(dTable: Arr, dout: Arr, ids: Int32Array, N: number, D: number): void {
  for (let n = 0; n < N; n++) {
    const o = ids[n]! * D;
    for (let d = 0; d < D; d++) dTable[o + d] = dTable[o + d]! + dout[n * D + d]!;
  }
}

/** y = x · rsqrt(mean(x²) + eps) · w; keeps the per-row rsqrt in `rinv` for backward. */
export function rmsnormForward(out: Arr, rinv: Arr, x: Arr, w: Arr, N: number, D: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * D;
    let ss = 0;
    for (let d = 0; d < D; d++) ss += x[o + d]! * x[o + d]!;
    const r = 1 / Math.sqrt(ss / D + eps);
    rinv[n] = r;
    for (let d = 0; d < D; d++) out[o + d] = x[o + d]! * r * w[d]!;
  }
}

export function rmsnormBackward(
  dx: Arr,
  dw: Arr,
  dout: Arr,
  x: Arr,
  w: Arr,
  rinv: Arr,
  N: number,
  D: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * D;
    const r = rinv[n]!;
    let dot = 0;
    for (let d = 0; d < D; d++) {
      const g = dout[o + d]!;
      dot += g * w[d]! * x[o + d]!;
      dw[d] = dw[d]! + g * x[o + d]! * r;
    }
    const c = (r * r * r * dot) / D;
    for (let d = 0; d < D; d++) dx[o + d] = r * w[d]! * dout[o + d]! - c * x[o + d]!;
  }
}

/** cos/sin tables [maxSeqLen, hd/2] for rotary embeddings (rotate-halves convention). */
export function ropeTables(
  maxSeqLen: number,
  hd: number,
  theta: number,
): { cos: Float64Array; sin: Float64Array } {
  const half = hd / 2;
  const cos = new Float64Array(maxSeqLen * half);
  const sin = new Float64Array(maxSeqLen * half);
  for (let p = 0; p < maxSeqLen; p++) {
    for (let i = 0; i < half; i++) {
      // Frequencies rounded to float32 as PyTorch computes them, so logits agree closely.
      const freq = Math.fround(1 / theta ** (i / half));
      const ang = Math.fround(p * freq);
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = Math.sin(ang);
    }
  }
  return { cos, sin };
}

/**
 * Rotates, in place, `heads` heads of each row n at position pos[n]. `sign` +1 is the
 * forward rotation; -1 rotates back, which is exactly the backward pass (rotations are
 * orthogonal).
 */
export function ropeApply(
  x: Arr,
  pos: Int32Array,
  N: number,
  heads: number,
  hd: number,
  cos: Float64Array,
  sin: Float64Array,
  sign: 1 | -1,
): void {
  const half = hd / 2;
  const stride = heads * hd;
  for (let n = 0; n < N; n++) {
    const t = pos[n]! * half;
    for (let h = 0; h < heads; h++) {
      const o = n * stride + h * hd;
      for (let i = 0; i < half; i++) {
        const c = cos[t + i]!;
        const s = sign * sin[t + i]!;
        const x1 = x[o + i]!;
        const x2 = x[o + half + i]!;
        x[o + i] = x1 * c - x2 * s;
        x[o + half + i] = x1 * s + x2 * c;
      }
    }
  }
}

/** y = x·Wᵀ with W stored [out, in] (the Hugging Face layout). */
export function linearForward(
  k: Kernel,
  out: Arr,
  x: Arr,
  W: Arr,
  N: number,
  inDim: number,
  outDim: number,
): void {
  k.matmul("n", "t", N, outDim, inDim, x, W, out, false);
}

/** Independent products: together when the kernel can, else one by one. */
export function matmulAll(k: Kernel, jobs: readonly MatmulJob[]): void {
  if (k.matmuls !== undefined) k.matmuls(jobs);
  else for (const j of jobs) k.matmul(j.opA, j.opB, j.M, j.N, j.K, j.A, j.B, j.C, j.accumulate);
}

/** outs[i] = x·W[i]ᵀ for several weights read from the same input (e.g. q, k and v). */
export function linearForwardMany(
  k: Kernel,
  x: Arr,
  N: number,
  inDim: number,
  layers: readonly { out: Arr; W: Arr; outDim: number }[],
): void {
  matmulAll(
    k,
    layers.map(({ out, W, outDim }) => ({
      opA: "n",
      opB: "t",
      M: N,
      N: outDim,
      K: inDim,
      A: x,
      B: W,
      C: out,
      accumulate: false,
    })),
  );
}

/** dx (= or +=, by `accumulateDx`) dout·W; dW += doutᵀ·x. */
export function linearBackward(
  k: Kernel,
  dx: Arr | undefined,
  dW: Arr,
  dout: Arr,
  x: Arr,
  W: Arr,
  N: number,
  inDim: number,
  outDim: number,
  accumulateDx = false,
): void {
  const dWJob: MatmulJob = {
    opA: "t",
    opB: "n",
    M: outDim,
    N: inDim,
    K: N,
    A: dout,
    B: x,
    C: dW,
    accumulate: true,
  };
  if (dx === undefined) matmulAll(k, [dWJob]);
  else
    matmulAll(k, [
      { opA: "n", opB: "n", M: N, N: inDim, K: outDim, A: dout, B: W, C: dx, accumulate: accumulateDx },
      dWJob,
    ]);
}

/** out[n, i] += b[i]: a linear layer's bias, added in place. */
export function biasForward(out: Arr, b: Arr, N: number, dim: number): void {
  for (let n = 0; n < N; n++) for (let i = 0; i < dim; i++) out[n * dim + i] = out[n * dim + i]! + b[i]!;
}

/** db[i] += Σ_n dout[n, i]. */
export function biasBackward(db: Arr, dout: Arr, N: number, dim: number): void {
  for (let n = 0; n < N; n++) for (let i = 0; i < dim; i++) db[i] = db[i]! + dout[n * dim + i]!;
}

/** act = silu(gate) · up. */
export function swigluForward(act: Arr, gate: Arr, up: Arr, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    act[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

export function swigluBackward(dgate: Arr, dup: Arr, dact: Arr, gate: Arr, up: Arr, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    const s = 1 / (1 + Math.exp(-g));
    const da = dact[i]!;
    dup[i] = da * g * s;
    dgate[i] = da * up[i]! * s * (1 + g * (1 - s));
  }
}

/** out = a + b (out may alias a). */
export function residualForward(out: Arr, a: Arr, b: Arr, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

/** The residual's backward is the identity on both branches: da += dout. */
export function residualBackward(da: Arr, dout: Arr, n: number): void {
  for (let i = 0; i < n; i++) da[i] = da[i]! + dout[i]!;
}

/** out[n] = x[n]·w + b: the scalar value / reward heads. */
export function scalarHeadForward(out: Arr, x: Arr, w: Arr, b: Arr, N: number, D: number): void {
  for (let n = 0; n < N; n++) {
    let s = b[0]!;
    for (let d = 0; d < D; d++) s += x[n * D + d]! * w[d]!;
    out[n] = s;
  }
}

/** dx += dout[n]·w; dw += Σ dout[n]·x[n]; db += Σ dout[n]. */
export function scalarHeadBackward(
  dx: Arr,
  dw: Arr,
  db: Arr,
  dout: Arr,
  x: Arr,
  w: Arr,
  N: number,
  D: number,
): void {
  for (let n = 0; n < N; n++) {
    const g = dout[n]!;
    if (g === 0) continue;
    db[0] = db[0]! + g;
    for (let d = 0; d < D; d++) {
      dx[n * D + d] = dx[n * D + d]! + g * w[d]!;
      dw[d] = dw[d]! + g * x[n * D + d]!;
    }
  }
}

export interface CrossEntropyResult {
  /** Σ weight·(-log p(target)) ÷ Σ weight (0 when every weight is 0). */
  loss: number;
  /** Σ weight over the rows, the normaliser used. */
  weightSum: number;
}

/**
 * Weighted token cross-entropy; writes dLogits (the gradient of `loss`) in place of nothing
 * else. weights[n] = 0 masks a row; weights may be any real numbers (e.g. PPO advantages),
 * normalised by `normaliser` when given, else by Σ|weight|.
 */
export function crossEntropyForwardBackward(
  dLogits: Arr,
  logits: Arr,
  targets: Int32Array,
  weights: Float32Array | Float64Array | undefined,
  N: number,
  V: number,
  normaliser?: number,
): CrossEntropyResult {
  let wsum = 0;
  for (let n = 0; n < N; n++) wsum += weights === undefined ? 1 : Math.abs(weights[n]!);
  const norm = normaliser ?? wsum;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const w = weights === undefined ? 1 : weights[n]!;
    const o = n * V;
    if (w === 0 || norm === 0) {
      dLogits.fill(0, o, o + V);
      continue;
    }
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
    const lse = max + Math.log(sum);
    const t = targets[n]!;
    if (t < 0 || t >= V) throw new RangeError(`cross-entropy: target ${t} at row ${n} is outside [0, ${V})`);
    loss += w * (lse - logits[o + t]!);
    const scale = w / norm;
    for (let v = 0; v < V; v++) dLogits[o + v] = Math.exp(logits[o + v]! - lse) * scale;
    dLogits[o + t] = dLogits[o + t]! - scale;
  }
  return { loss: norm === 0 ? 0 : loss / norm, weightSum: wsum };
}

/** Per-row log p(target) and entropy of softmax(logits). */
export function logprobsAndEntropy(
  logits: Arr,
  targets: Int32Array,
  N: number,
  V: number,
  outLogprobs: Float32Array,
  outEntropy: Float32Array,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
    let sum = 0;
    let sx = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[o + v]! - max);
      sum += e;
      sx += e * (logits[o + v]! - max);
    }
    const logZ = Math.log(sum);
    outLogprobs[n] = logits[o + targets[n]!]! - max - logZ;
    outEntropy[n] = logZ - sx / sum;
  }
}
