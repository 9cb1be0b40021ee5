// Causal multi-head attention with grouped-query heads, in plain TypeScript. The reference
// kernel uses it directly; faster kernels may replace it (it is ~2% of the FLOPs here).
import type { Arr, AttentionShape } from "./types.ts";

/** Rows [b0, b1) × heads [h0, h1) of the forward pass; see Kernel.attentionForward. */
export function attentionForwardRange(
  p: AttentionShape,
  out: Arr,
  probs: Arr,
  q: Arr,
  k: Arr,
  v: Arr,
  from: number,
  to: number,
): void {
  const { T, heads: H, kvHeads: KH, headDim: hd } = p;
  const qs = H * hd;
  const ks = KH * hd;
  const group = H / KH;
  const scale = 1 / Math.sqrt(hd);
  for (let bh = from; bh < to; bh++) {
    const b = Math.floor(bh / H);
    const h = bh % H;
    const kh = Math.floor(h / group);
    for (let i = 0; i < T; i++) {
      const qo = (b * T + i) * qs + h * hd;
      const po = (bh * T + i) * T;
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        const ko = (b * T + j) * ks + kh * hd;
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[qo + d]! * k[ko + d]!;
        s *= scale;
        probs[po + j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) {
        const e = Math.exp(probs[po + j]! - max);
        probs[po + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j <= i; j++) probs[po + j] = probs[po + j]! * inv;
      for (let j = i + 1; j < T; j++) probs[po + j] = 0;
      const oo = (b * T + i) * qs + h * hd;
      for (let d = 0; d < hd; d++) out[oo + d] = 0;
      for (let j = 0; j <= i; j++) {
        const pj = probs[po + j]!;
        const vo = (b * T + j) * ks + kh * hd;
        for (let d = 0; d < hd; d++) out[oo + d] = out[oo + d]! + pj * v[vo + d]!;
      }
    }
  }
}

/**
 * Backward over (batch·head) pairs [from, to). dq is written; dk and dv are accumulated, so
 * the caller zeroes them, and two ranges sharing a kv head must not run concurrently.
 */
export function attentionBackwardRange(
  p: AttentionShape,
  dq: Arr,
  dk: Arr,
  dv: Arr,
  dout: Arr,
  probs: Arr,
  q: Arr,
  k: Arr,
  v: Arr,
  from: number,
  to: number,
  scratch: Float64Array,
): void {
  const { T, heads: H, kvHeads: KH, headDim: hd } = p;
  const qs = H * hd;
  const ks = KH * hd;
  const group = H / KH;
  const scale = 1 / Math.sqrt(hd);
  const dp = scratch;
  for (let bh = from; bh < to; bh++) {
    const b = Math.floor(bh / H);
    const h = bh % H;
    const kh = Math.floor(h / group);
    for (let i = 0; i < T; i++) {
      const qo = (b * T + i) * qs + h * hd;
      const po = (bh * T + i) * T;
      let dot = 0;
      for (let j = 0; j <= i; j++) {
        const vo = (b * T + j) * ks + kh * hd;
        let s = 0;
        for (let d = 0; d < hd; d++) s += dout[qo + d]! * v[vo + d]!;
        dp[j] = s;
        dot += s * probs[po + j]!;
      }
      for (let d = 0; d < hd; d++) dq[qo + d] = 0;
      for (let j = 0; j <= i; j++) {
        const pj = probs[po + j]!;
        const ko = (b * T + j) * ks + kh * hd;
        const ds = pj * (dp[j]! - dot) * scale;
        for (let d = 0; d < hd; d++) {
          dq[qo + d] = dq[qo + d]! + ds * k[ko + d]!;
          dk[ko + d] = dk[ko + d]! + ds * q[qo + d]!;
          dv[ko + d] = dv[ko + d]! + pj * dout[qo + d]!;
        }
      }
    }
  }
}
