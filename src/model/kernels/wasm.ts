// The WASM SIMD kernel: a packed-panel GEMM compiled from gemm.c (relaxed-SIMD FMA when the
// runtime validates it, plain SIMD otherwise), run on the main thread plus worker threads
// over one shared WebAssembly.Memory. Every buffer the decoder allocates lives in that
// memory, so jobs pass pointers, never copies. Attention slices also run on the workers.
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { attentionBackwardRange, attentionForwardRange } from "./attention.ts";
import { defaultThreads } from "./threads.ts";
import type { Arr, AttentionShape, Kernel } from "./types.ts";
import {
  ARGS,
  CTRL_WORDS,
  DONE,
  GEMM_COLS,
  GEN,
  type GemmExports,
  MAX_UNITS,
  NEXT,
  OP,
  OP_ADAMW,
  OP_ATT_BWD,
  OP_ATT_FWD,
  OP_GEMM,
  OP_GEMM_NT_SMALL,
  OP_RMS_BWD,
  OP_RMS_FWD,
  OP_SUMSQ,
  OP_SWIGLU_BWD,
  OP_SWIGLU_FWD,
  UNIT_BITS,
  workOnJob,
} from "./wasm-shared.ts";

const PAGE = 65536;
/** Packing scratch per thread: NB_PANELS·8·KC + 6·KC floats (see gemm.c). */
const PACK_FLOATS = (8 * 8 + 6) * 512;
/** x·Wᵀ with at most this many rows skips packing (gemm_nt_small): KV-cached decoding. */
export const SMALL_M = 16;
/** Below this many multiply-adds a GEMM runs on the calling thread alone. */
const PARALLEL_MIN_MACS = 1 << 17;

export interface WasmKernelOptions {
  /** Total threads including the caller; default: available cores. */
  threads?: number;
  /** Force plain SIMD even when relaxed SIMD is available. */
  noRelaxed?: boolean;
}

/** Whether this runtime accepts the relaxed-SIMD module. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(readFileSync(new URL("./wasm/gemm-relaxed.wasm", import.meta.url)));
}

export function createWasmKernel(options: WasmKernelOptions = {}): Kernel {
  const relaxed = !options.noRelaxed && relaxedSimdSupported();
  const bytes = readFileSync(new URL(`./wasm/gemm-${relaxed ? "relaxed" : "simd"}.wasm`, import.meta.url));
  const module = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 32768, shared: true });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exp = instance.exports as unknown as GemmExports & { __heap_base: WebAssembly.Global };
  const threads = Math.max(1, options.threads ?? defaultThreads());
  const ctrlBuf = new SharedArrayBuffer(4 * CTRL_WORDS);
  const ctrl = new Int32Array(ctrlBuf);
  const ctrlF = new Float32Array(ctrlBuf);
  const workers: Worker[] = [];
  for (let t = 1; t < threads; t++) {
    const w = new Worker(new URL("./wasm-worker.ts", import.meta.url), {
      workerData: { module, memory, ctrl: ctrlBuf, index: t },
    });
    w.unref();
    workers.push(w);
  }

  let top = Number(exp.__heap_base.value);
  const buffers = new Set<ArrayBufferLike>([memory.buffer]);
  const reserve = (bytes: number): number => {
    top = Math.ceil(top / 64) * 64;
    const ptr = top;
    top += bytes;
    const have = memory.buffer.byteLength;
    if (top > have) {
      memory.grow(Math.ceil((top - have) / PAGE));
      buffers.add(memory.buffer);
    }
    return ptr;
  };
  const alloc = (n: number): Float32Array => {
    const ptr = reserve(4 * n); // first: growing replaces memory.buffer
    return new Float32Array(memory.buffer, ptr, n);
  };
  // Per-thread packing scratch and staging for arrays from outside the memory, grown on demand.
  const pack = reserve(4 * PACK_FLOATS * threads);
  let attPtr = 0;
  let attT = 0;
  const attScratch = (T: number): number => {
    if (T > attT) {
      attT = Math.max(T, 2 * attT);
      attPtr = reserve(4 * attT * threads);
    }
    return attPtr;
  };
  let stagePtr = 0;
  let stageBytes = 0;
  const stage = (bytes: number): number => {
    if (bytes > stageBytes) {
      stageBytes = Math.max(bytes, 2 * stageBytes);
      stagePtr = reserve(stageBytes);
    }
    return stagePtr;
  };

  /** Pointer of `a` in the memory, or -1 when it lives elsewhere. */
  const ptrOf = (a: Arr): number => {
    if (!(a instanceof Float32Array)) throw new TypeError("wasm kernel: float32 buffers only");
    return buffers.has(a.buffer) ? a.byteOffset : -1;
  };

  /**
   * Runs `units` units of job `op` (arguments `args`, integers, or floats where `floats`
   * says so): on the calling thread alone when `parallel` is false, else shared with the
   * workers through the claim counter (see wasm-shared.ts).
   */
  const run = (
    op: number,
    args: readonly number[],
    units: number,
    parallel: boolean,
    floatsFrom = args.length,
  ) => {
    if (units <= 0) return;
    if (units > MAX_UNITS) throw new RangeError(`wasm kernel: job of ${units} units`);
    ctrl[OP] = op;
    for (let i = 0; i < args.length; i++) {
      if (i < floatsFrom) ctrl[ARGS + i] = args[i]!;
      else ctrlF[ARGS + i] = args[i]!;
    }
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, NEXT, units << UNIT_BITS);
    if (parallel && threads > 1 && units > 1) {
      Atomics.add(ctrl, GEN, 1);
      Atomics.notify(ctrl, GEN);
    }
    workOnJob(ctrl, ctrlF, exp, memory, 0);
    for (;;) {
      const done = Atomics.load(ctrl, DONE);
      if (done >= units) break;
      Atomics.wait(ctrl, DONE, done, 1000);
    }
  };

  const matmul: Kernel["matmul"] = (opA, opB, M, N, K, A, B, C, accumulate) => {
    let pa = ptrOf(A);
    let pb = ptrOf(B);
    let pc = ptrOf(C);
    const foreignC = pc < 0;
    if (pa < 0 || pb < 0 || pc < 0) {
      const base = stage(4 * (M * K + K * N + M * N) + 192);
      const aAt = base;
      const bAt = Math.ceil((aAt + 4 * M * K) / 64) * 64;
      const cAt = Math.ceil((bAt + 4 * K * N) / 64) * 64;
      const heap = new Float32Array(memory.buffer);
      if (pa < 0) heap.set(A.subarray(0, M * K), aAt / 4);
      if (pb < 0) heap.set(B.subarray(0, K * N), bAt / 4);
      if (pc < 0 && accumulate) heap.set(C.subarray(0, M * N), cAt / 4);
      pa = pa < 0 ? aAt : pa;
      pb = pb < 0 ? bAt : pb;
      pc = pc < 0 ? cAt : pc;
    }
    const macs = M * N * K;
    const parallel = macs >= PARALLEL_MIN_MACS;
    if (M <= SMALL_M && opA === "n" && opB === "t") {
      // Few rows: dot products straight from the weight rows, no packing; columns split.
      const cols = parallel ? Math.max(4, Math.ceil(N / (4 * threads) / 4) * 4) : N;
      run(OP_GEMM_NT_SMALL, [M, N, K, pa, pb, pc, accumulate ? 1 : 0, cols], Math.ceil(N / cols), parallel);
    } else {
      // A(i,k) and B(k,j) strides for the four layouts.
      const sai = opA === "n" ? K : 1;
      const sak = opA === "n" ? 1 : M;
      const sbk = opB === "n" ? N : 1;
      const sbj = opB === "n" ? 1 : K;
      // Units: column groups × row blocks, about 4 per thread so late starters even out; a
      // row block of fewer than ~96 rows would pack B more often than it pays.
      const colUnits = Math.ceil(N / GEMM_COLS);
      let rowBlock = M;
      if (parallel) {
        const rowUnits = Math.max(1, Math.min(Math.ceil((4 * threads) / colUnits), Math.floor(M / 96)));
        rowBlock = Math.ceil(M / rowUnits / 6) * 6;
      }
      const rowUnits = Math.ceil(M / rowBlock);
      const args = [M, N, K, pa, sai, sak, pb, sbk, sbj, pc, accumulate ? 1 : 0, pack, 4 * PACK_FLOATS];
      run(OP_GEMM, [...args, colUnits, rowBlock], colUnits * rowUnits, parallel);
    }
    if (foreignC) C.set(new Float32Array(memory.buffer, pc, M * N));
  };

  const inMemory = (...xs: Arr[]) => xs.every((x) => ptrOf(x) >= 0);
  const shapeWords = (p: AttentionShape) => [p.batch, p.T, p.heads, p.kvHeads, p.headDim];
  /** Elementwise jobs: chunks of at least 16k elements (a multiple of 4); one chunk, one thread. */
  const chunkOf = (n: number) => Math.max(1 << 14, Math.ceil(n / 1024 / 4) * 4);
  const elementwise = (op: number, n: number, ptrs: number[], floats: number[] = []) => {
    const chunk = chunkOf(n);
    const units = Math.ceil(n / chunk);
    run(op, [n, chunk, ...ptrs, ...floats], units, units > 1, 2 + ptrs.length);
  };
  let sumsqPtr = 0;
  let sumsqUnits = 0;
  let dwPartPtr = 0;
  let dwPartFloats = 0;
  /**
   * Row units for RMSNorm: four, of at least 16 rows, whatever the thread count. The backward
   * pass sums dW per unit, then over units in order: a split that followed the threads made
   * gradients depend on them (native/ops.c has the same rule).
   */
  const rowsPer = (N: number) => Math.max(16, Math.ceil(N / 4));

  return {
    name: "wasm",
    detail: `WASM SIMD GEMM (${relaxed ? "relaxed-SIMD FMA" : "plain SIMD"}), ${threads} thread${threads === 1 ? "" : "s"}`,
    dtype: "f32",
    alloc,
    matmul,
    attentionForward(p, out, probs, q, k, v) {
      const total = p.batch * p.heads;
      if (!inMemory(out, probs, q, k, v)) {
        attentionForwardRange(p, out, probs, q, k, v, 0, total);
        return;
      }
      const per = Math.max(1, Math.ceil(total / (4 * threads)));
      const args = [...shapeWords(p), ...[out, probs, q, k, v].map(ptrOf), per];
      run(OP_ATT_FWD, args, Math.ceil(total / per), true);
    },
    attentionBackward(p, dq, dk, dv, dout, probs, q, k, v) {
      const kn = p.batch * p.T * p.kvHeads * p.headDim;
      dk.fill(0, 0, kn);
      dv.fill(0, 0, kn);
      if (!inMemory(dq, dk, dv, dout, probs, q, k, v)) {
        attentionBackwardRange(
          p,
          dq,
          dk,
          dv,
          dout,
          probs,
          q,
          k,
          v,
          0,
          p.batch * p.heads,
          new Float64Array(p.T),
        );
        return;
      }
      const scratch = attScratch(p.T);
      const args = [...shapeWords(p), ...[dq, dk, dv, dout, probs, q, k, v].map(ptrOf), scratch];
      run(OP_ATT_BWD, args, p.batch, true);
    },
    rmsnormForward(out, rinv, x, w, N, D, eps) {
      if (D % 4 !== 0 || !inMemory(out, rinv, x, w)) return false;
      const per = rowsPer(N);
      const units = Math.ceil(N / per);
      run(OP_RMS_FWD, [N, per, ...[out, rinv, x, w].map(ptrOf), D, eps], units, units > 1, 7);
      return true;
    },
    rmsnormBackward(dx, dw, dout, x, w, rinv, N, D, accumulateDx) {
      if (D % 4 !== 0 || !inMemory(dx, dout, x, w, rinv)) return false;
      const per = rowsPer(N);
      const units = Math.ceil(N / per);
      if (units * D > dwPartFloats) {
        dwPartFloats = Math.max(units * D, 2 * dwPartFloats);
        dwPartPtr = reserve(4 * dwPartFloats);
      }
      const ptrs = [dx, dout, x, w, rinv].map(ptrOf);
      const args = [N, per, ptrs[0]!, dwPartPtr, ...ptrs.slice(1), D, accumulateDx ? 1 : 0];
      run(OP_RMS_BWD, args, units, units > 1);
      const part = new Float32Array(memory.buffer, dwPartPtr, units * D);
      for (let u = 0; u < units; u++) for (let d = 0; d < D; d++) dw[d] = dw[d]! + part[u * D + d]!;
      return true;
    },
    swigluForward(act, gate, up, n) {
      if (!inMemory(act, gate, up)) return false;
      elementwise(OP_SWIGLU_FWD, n, [act, gate, up].map(ptrOf));
      return true;
    },
    swigluBackward(dgate, dup, dact, gate, up, n) {
      if (!inMemory(dgate, dup, dact, gate, up)) return false;
      elementwise(OP_SWIGLU_BWD, n, [dgate, dup, dact, gate, up].map(ptrOf));
      return true;
    },
    sumSquares(x) {
      if (!inMemory(x)) return undefined;
      const units = Math.ceil(x.length / chunkOf(x.length));
      if (units > sumsqUnits) {
        sumsqUnits = units;
        sumsqPtr = reserve(8 * units);
      }
      elementwise(OP_SUMSQ, x.length, [ptrOf(x), sumsqPtr]);
      const parts = new Float64Array(memory.buffer, sumsqPtr, units);
      let s = 0;
      for (let i = 0; i < units; i++) s += parts[i]!;
      return s;
    },
    adamw(params, grads, m, v, decay, h) {
      if (!inMemory(params, grads, m, v, decay)) return false;
      const ptrs = [params, grads, m, v, decay].map(ptrOf);
      const floats = [h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.clip, 1 / h.bc1, 1 / h.bc2];
      elementwise(OP_ADAMW, params.length, ptrs, floats);
      return true;
    },
    close() {
      Atomics.store(ctrl, GEN, -1);
      Atomics.notify(ctrl, GEN);
      for (const w of workers) void w.terminate();
    },
  };
}
