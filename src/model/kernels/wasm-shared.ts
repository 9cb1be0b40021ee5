// What the main thread and the kernel's worker threads share: the control block's layout
// and the code that runs one unit of a job, on either side.
//
// A job is cut into `units` (column/row blocks of a GEMM, (batch·head) pairs of attention,
// chunks of an elementwise pass). Every thread, the caller included, claims units from one
// atomic counter until none are left, so a worker that the OS wakes late simply finds less
// to do instead of holding the caller up; the caller then waits only for units already
// claimed. The counter word holds both the unit count (high bits) and the next unit (low 12
// bits): one atomic add tells a thread which unit it got and whether the job still has it,
// with no window in which a late thread could read another job's count.
import { attentionBackwardRange, attentionForwardRange } from "./attention.ts";
import type { AttentionShape } from "./types.ts";

export const GEN = 0;
export const DONE = 1;
export const NEXT = 2;
export const OP = 3;
export const ARGS = 4;
export const CTRL_WORDS = ARGS + 28;
export const UNIT_BITS = 12;
/** Units per job stay below this, leaving room for the over-claims of every thread. */
export const MAX_UNITS = (1 << UNIT_BITS) - 64;

export const OP_GEMM = 1;
export const OP_ATT_FWD = 2;
export const OP_ATT_BWD = 3;
export const OP_GEMM_NT_SMALL = 4;
export const OP_SWIGLU_FWD = 5;
export const OP_SWIGLU_BWD = 6;
export const OP_ADAMW = 7;
export const OP_SUMSQ = 8;
export const OP_RMS_FWD = 9;
export const OP_RMS_BWD = 10;

/** Columns per GEMM unit: NB_PANELS × 8 in gemm.c. */
export const GEMM_COLS = 64;

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
  swiglu_fwd(act: number, gate: number, up: number, from: number, to: number): void;
  swiglu_bwd(
    dgate: number,
    dup: number,
    dact: number,
    gate: number,
    up: number,
    from: number,
    to: number,
  ): void;
  sumsq(x: number, from: number, to: number, out: number): void;
  adamw(
    p: number,
    g: number,
    m: number,
    v: number,
    decay: number,
    from: number,
    to: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
    clip: number,
    ibc1: number,
    ibc2: number,
  ): void;
  rmsnorm_fwd(
    out: number,
    rinv: number,
    x: number,
    w: number,
    D: number,
    eps: number,
    from: number,
    to: number,
  ): void;
  rmsnorm_bwd(
    dx: number,
    dwPart: number,
    dout: number,
    x: number,
    w: number,
    rinv: number,
    D: number,
    acc: number,
    from: number,
    to: number,
  ): void;
  attn_fwd(...args: number[]): void;
  attn_bwd(...args: number[]): void;
}

/** Claims and runs units of the posted job until none are left. */
export function workOnJob(
  ctrl: Int32Array,
  ctrlF: Float32Array,
  exp: GemmExports,
  memory: WebAssembly.Memory,
  thread: number,
): void {
  for (;;) {
    const word = Atomics.add(ctrl, NEXT, 1);
    const unit = word & ((1 << UNIT_BITS) - 1);
    const units = word >>> UNIT_BITS;
    if (unit >= units) return;
    runUnit(ctrl, ctrlF, exp, memory, unit, thread);
    if (Atomics.add(ctrl, DONE, 1) + 1 === units) Atomics.notify(ctrl, DONE);
  }
}

function runUnit(
  ctrl: Int32Array,
  ctrlF: Float32Array,
  exp: GemmExports,
  memory: WebAssembly.Memory,
  unit: number,
  thread: number,
): void {
  const op = ctrl[OP]!;
  const w = (i: number) => ctrl[ARGS + i]!;
  const f = (i: number) => ctrlF[ARGS + i]!;
  switch (op) {
    case OP_GEMM: {
      // [M, N, K, A, sai, sak, B, sbk, sbj, C, acc, pack, packBytes, colUnits, rowBlock]
      const colUnits = w(13);
      const j0 = (unit % colUnits) * GEMM_COLS;
      const i0 = Math.floor(unit / colUnits) * w(14);
      const i1 = Math.min(w(0), i0 + w(14));
      const j1 = Math.min(w(1), j0 + GEMM_COLS);
      exp.gemm(
        i0,
        i1,
        j0,
        j1,
        w(2),
        w(3),
        w(4),
        w(5),
        w(6),
        w(7),
        w(8),
        w(9),
        w(1),
        w(10),
        w(11) + thread * w(12),
      );
      return;
    }
    case OP_GEMM_NT_SMALL: {
      // [M, N, K, A, B, C, acc, colsPerUnit]
      const j0 = unit * w(7);
      const j1 = Math.min(w(1), j0 + w(7));
      exp.gemm_nt_small(0, w(0), j0, j1, w(2), w(3), w(2), w(4), w(2), w(5), w(1), w(6));
      return;
    }
    case OP_RMS_FWD:
    case OP_RMS_BWD: {
      // rows: [N, rowsPerUnit, ...]; fwd [out, rinv, x, w, D, eps]; bwd [dx, dwPart, dout, x, w, rinv, D, acc]
      const from = unit * w(1);
      const to = Math.min(w(0), from + w(1));
      if (op === OP_RMS_FWD) exp.rmsnorm_fwd(w(2), w(3), w(4), w(5), w(6), f(7), from, to);
      else exp.rmsnorm_bwd(w(2), w(3) + 4 * w(8) * unit, w(4), w(5), w(6), w(7), w(8), w(9), from, to);
      return;
    }
    case OP_SWIGLU_FWD:
    case OP_SWIGLU_BWD:
    case OP_ADAMW:
    case OP_SUMSQ: {
      // [n, chunk, ...pointers, ...floats]
      const from = unit * w(1);
      const to = Math.min(w(0), from + w(1));
      if (op === OP_SWIGLU_FWD) exp.swiglu_fwd(w(2), w(3), w(4), from, to);
      else if (op === OP_SWIGLU_BWD) exp.swiglu_bwd(w(2), w(3), w(4), w(5), w(6), from, to);
      else if (op === OP_SUMSQ) exp.sumsq(w(2), from, to, w(3) + 8 * unit);
      else
        exp.adamw(
          w(2),
          w(3),
          w(4),
          w(5),
          w(6),
          from,
          to,
          f(7),
          f(8),
          f(9),
          f(10),
          f(11),
          f(12),
          f(13),
          f(14),
        );
      return;
    }
  }
  // Attention: [batch, T, heads, kvHeads, headDim, per-op pointers..., pairsPerUnit | scratch]
  const shape: AttentionShape = { batch: w(0), T: w(1), heads: w(2), kvHeads: w(3), headDim: w(4) };
  const [T, H, KH, hd] = [shape.T, shape.heads, shape.kvHeads, shape.headDim];
  // The SIMD versions need the head dimension to be a multiple of 4.
  const simd = hd % 4 === 0;
  const N = shape.batch * T;
  const qn = N * H * hd;
  const kn = N * KH * hd;
  const pn = shape.batch * H * T * T;
  const view = (ptr: number, n: number) => new Float32Array(memory.buffer, ptr, n);
  if (op === OP_ATT_FWD) {
    const from = unit * w(10);
    const to = Math.min(shape.batch * H, from + w(10));
    if (simd) exp.attn_fwd(T, H, KH, hd, from, to, w(5), w(6), w(7), w(8), w(9));
    else
      attentionForwardRange(
        shape,
        view(w(5), qn),
        view(w(6), pn),
        view(w(7), qn),
        view(w(8), kn),
        view(w(9), kn),
        from,
        to,
      );
  } else if (op === OP_ATT_BWD) {
    // One unit is one whole sequence, so no two threads accumulate into the same dk/dv rows.
    const from = unit * H;
    const to = from + H;
    const scratch = w(13) + 4 * T * thread;
    if (simd)
      exp.attn_bwd(T, H, KH, hd, from, to, w(5), w(6), w(7), w(8), w(9), w(10), w(11), w(12), scratch);
    else
      attentionBackwardRange(
        shape,
        view(w(5), qn),
        view(w(6), kn),
        view(w(7), kn),
        view(w(8), qn),
        view(w(9), pn),
        view(w(10), qn),
        view(w(11), kn),
        view(w(12), kn),
        from,
        to,
        new Float64Array(T),
      );
  }
}
