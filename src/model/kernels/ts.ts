// The reference kernel: plain TypeScript loops, float32 or float64. Slow but obviously
// right; the gradient checks run on it in float64.
import { attentionBackwardRange, attentionForwardRange } from "./attention.ts";
import type { Arr, AttentionShape, Kernel } from "./types.ts";

export function createTsKernel(dtype: "f32" | "f64" = "f32"): Kernel {
  return {
    name: "ts",
    detail: `TypeScript reference loops (${dtype})`,
    dtype,
    alloc: (n) => (dtype === "f64" ? new Float64Array(n) : new Float32Array(n)),
    matmul: tsMatmul,
    attentionForward(p, out, probs, q, k, v) {
      attentionForwardRange(p, out, probs, q, k, v, 0, p.batch * p.heads);
    },
    attentionBackward(p: AttentionShape, dq, dk, dv, dout, probs, q, k, v) {
      dk.fill(0, 0, p.batch * p.T * p.kvHeads * p.headDim);
      dv.fill(0, 0, p.batch * p.T * p.kvHeads * p.headDim);
      const scratch = new Float64Array(p.T);
      attentionBackwardRange(p, dq, dk, dv, dout, probs, q, k, v, 0, p.batch * p.heads, scratch);
    },
    close() {},
  };
}

export function tsMatmul(
  opA: "n" | "t",
  opB: "n" | "t",
  M: number,
  N: number,
  K: number,
  A: Arr,
  B: Arr,
  C: Arr,
  accumulate: boolean,
): void {
  if (!accumulate) C.fill(0, 0, M * N);
  // i-k-j order keeps the innermost loop contiguous in C and B for 'nn' and 'tn'.
  if (opB === "n") {
    for (let i = 0; i < M; i++) {
      const co = i * N;
      for (let kk = 0; kk < K; kk++) {
        const a = opA === "n" ? A[i * K + kk]! : A[kk * M + i]!;
        if (a === 0) continue;
        const bo = kk * N;
        for (let j = 0; j < N; j++) C[co + j] = C[co + j]! + a * B[bo + j]!;
      }
    }
    return;
  }
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      const bo = j * K;
      if (opA === "n") {
        const ao = i * K;
        for (let kk = 0; kk < K; kk++) s += A[ao + kk]! * B[bo + kk]!;
      } else {
        for (let kk = 0; kk < K; kk++) s += A[kk * M + i]! * B[bo + kk]!;
      }
      C[i * N + j] = C[i * N + j]! + s;
    }
  }
}
