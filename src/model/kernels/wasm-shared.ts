// What the main thread and the kernel's worker threads share: the job table layout in the
// control block and the code that runs one slice of a job, on either side.
import { attentionBackwardRange, attentionForwardRange } from "./attention.ts";
import type { AttentionShape } from "./types.ts";

/** Control block: [generation, done, then one JOB_WORDS block per thread]. */
export const CTRL_HEADER = 2;
export const JOB_WORDS = 20;

export const OP_GEMM = 1;
export const OP_ATT_FWD = 2;
export const OP_ATT_BWD = 3;
export const OP_GEMM_NT_SMALL = 4;

export interface GemmExports {
  gemm(
    i0: number,
    i1: number,
    j0: number,
    j1: number,
    K: number,
    A: number,
    sai: number,
    sak: number,
    B: number,
    sbk: number,
    sbj: number,
    C: number,
    ldc: number,
    acc: number,
    pack: number,
  ): void;
  gemm_nt_small(
    i0: number,
    i1: number,
    j0: number,
    j1: number,
    K: number,
    A: number,
    lda: number,
    B: number,
    ldb: number,
    C: number,
    ldc: number,
    acc: number,
  ): void;
  attn_fwd(...args: number[]): void;
  attn_bwd(...args: number[]): void;
}

/** Runs the job described at `base` in `ctrl` (written by the main thread). */
export function runJob(ctrl: Int32Array, base: number, exp: GemmExports, memory: WebAssembly.Memory): void {
  const op = ctrl[base]!;
  const w = (i: number) => ctrl[base + 1 + i]!;
  if (op === OP_GEMM) {
    exp.gemm(w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7), w(8), w(9), w(10), w(11), w(12), w(13), w(14));
    return;
  }
  if (op === OP_GEMM_NT_SMALL) {
    exp.gemm_nt_small(w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7), w(8), w(9), w(10), w(11));
    return;
  }
  const shape: AttentionShape = { batch: w(0), T: w(1), heads: w(2), kvHeads: w(3), headDim: w(4) };
  const from = w(5);
  const to = w(6);
  // The SIMD versions need the head dimension to be a multiple of 4.
  const simd = shape.headDim % 4 === 0;
  if (op === OP_ATT_FWD && simd) {
    exp.attn_fwd(
      shape.T,
      shape.heads,
      shape.kvHeads,
      shape.headDim,
      from,
      to,
      w(7),
      w(8),
      w(9),
      w(10),
      w(11),
    );
    return;
  }
  if (op === OP_ATT_BWD && simd) {
    const [T, H, KH, hd] = [shape.T, shape.heads, shape.kvHeads, shape.headDim];
    exp.attn_bwd(T, H, KH, hd, from, to, w(7), w(8), w(9), w(10), w(11), w(12), w(13), w(14), w(15));
    return;
  }
  const buf = memory.buffer;
  const N = shape.batch * shape.T;
  const qn = N * shape.heads * shape.headDim;
  const kn = N * shape.kvHeads * shape.headDim;
  const pn = shape.batch * shape.heads * shape.T * shape.T;
  const f = (ptr: number, n: number) => new Float32Array(buf, ptr, n);
  if (op === OP_ATT_FWD) {
    attentionForwardRange(shape, f(w(7), qn), f(w(8), pn), f(w(9), qn), f(w(10), kn), f(w(11), kn), from, to);
  } else if (op === OP_ATT_BWD) {
    const scratch = new Float64Array(shape.T);
    attentionBackwardRange(
      shape,
      f(w(7), qn),
      f(w(8), kn),
      f(w(9), kn),
      f(w(10), qn),
      f(w(11), pn),
      f(w(12), qn),
      f(w(13), kn),
      f(w(14), kn),
      from,
      to,
      scratch,
    );
  }
}
