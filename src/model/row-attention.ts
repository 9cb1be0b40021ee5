// Causal attention for the queries of some positions only — the last layer of a forward
// whose outputs are read at a few positions (a reward model's last token, a judge's answer):
// each query attends every key of its own sequence up to its position. The per-position
// kernels' work is O(R·T) here, so plain loops serve.
import type { Arr, AttentionShape } from "./kernels/types.ts";

/**
 * Where row i (position n) and head h read: its query / output (qo), its probabilities (po),
 * and the first key / value of its sequence in its kv head (ko).
 */
function offsets(s: AttentionShape, n: number, i: number, h: number): { qo: number; po: number; ko: number } {
  const { T, heads: H, kvHeads: KH, headDim: hd } = s;
  const kh = Math.floor(h / (H / KH));
  return { qo: (i * H + h) * hd, po: (i * H + h) * T, ko: (n - (n % T)) * KH * hd + kh * hd };
}

/**
 * out[i] and probs[i] ([R, H·hd] and [R, H, T]) for the query q[i] of position rows[i] =
 * b·T + t, against k and v of every position ([batch·T, kvHeads·hd]).
 */
export function rowsAttentionForward(
  s: AttentionShape,
  rows: Int32Array,
  out: Arr,
  probs: Arr,
  q: Arr,
  k: Arr,
  v: Arr,
): void {
  const { T, heads: H, kvHeads: KH, headDim: hd } = s;
  const [ks, scale] = [KH * hd, 1 / Math.sqrt(hd)];
  rows.forEach((n, i) => {
    const t = n % T;
    for (let h = 0; h < H; h++) {
      const { qo, po, ko } = offsets(s, n, i, h);
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j <= t; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[qo + d]! * k[ko + j * ks + d]!;
        probs[po + j] = dot * scale;
        max = Math.max(max, probs[po + j]!);
      }
      let sum = 0;
      for (let j = 0; j <= t; j++) {
        probs[po + j] = Math.exp(probs[po + j]! - max);
        sum += probs[po + j]!;
      }
      for (let d = 0; d < hd; d++) out[qo + d] = 0;
      for (let j = 0; j <= t; j++) {
        probs[po + j] = probs[po + j]! / sum;
        for (let d = 0; d < hd; d++) out[qo + d] = out[qo + d]! + probs[po + j]! * v[ko + j * ks + d]!;
      }
    }
  });
}

/** The backward of rowsAttentionForward: dq written, dk and dv accumulated. */
export function rowsAttentionBackward(
  s: AttentionShape,
  rows: Int32Array,
  dq: Arr,
  dk: Arr,
  dv: Arr,
  dout: Arr,
  probs: Arr,
  q: Arr,
  k: Arr,
  v: Arr,
): void {
  const { T, heads: H, kvHeads: KH, headDim: hd } = s;
  const [ks, scale] = [KH * hd, 1 / Math.sqrt(hd)];
  const dp = new Float64Array(T);
  rows.forEach((n, i) => {
    const t = n % T;
    for (let h = 0; h < H; h++) {
      const { qo, po, ko } = offsets(s, n, i, h);
      let mean = 0;
      for (let j = 0; j <= t; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += dout[qo + d]! * v[ko + j * ks + d]!;
        dp[j] = dot;
        mean += probs[po + j]! * dot;
      }
      for (let d = 0; d < hd; d++) dq[qo + d] = 0;
      for (let j = 0; j <= t; j++) {
        const p = probs[po + j]!;
        const ds = p * (dp[j]! - mean) * scale;
        const o = ko + j * ks;
        for (let d = 0; d < hd; d++) {
          dq[qo + d] = dq[qo + d]! + ds * k[o + d]!;
          dk[o + d] = dk[o + d]! + ds * q[qo + d]!;
          dv[o + d] = dv[o + d]! + p * dout[qo + d]!;
        }
      }
    }
  });
}
