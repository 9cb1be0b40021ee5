// The WASM SIMD kernel: a packed-panel GEMM compiled from gemm.c (relaxed-SIMD FMA when the
// runtime validates it, plain SIMD otherwise), run on the main thread plus worker threads
// over one shared WebAssembly.Memory. Every buffer the decoder allocates lives in that
// memory, so jobs pass pointers, never copies. Attention slices also run on the workers.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { attentionBackwardRange, attentionForwardRange } from "./attention.ts";
import type { Arr, AttentionShape, Kernel } from "./types.ts";
import {
  CTRL_HEADER,
  type GemmExports,
  JOB_WORDS,
  OP_ATT_BWD,
  OP_ATT_FWD,
  OP_GEMM,
  OP_GEMM_NT_SMALL,
  runJob,
} from "./wasm-shared.ts";

const PAGE = 65536;
/** Packing scratch per thread: NB_PANELS·8·KC + 6·KC floats (see gemm.c). */
const PACK_FLOATS = (8 * 8 + 6) * 512;
/** x·Wᵀ with at most this many rows skips packing (gemm_nt_small): KV-cached decoding. */
const SMALL_M = 16;
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
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const ctrlBuf = new SharedArrayBuffer(4 * (CTRL_HEADER + JOB_WORDS * threads));
  const ctrl = new Int32Array(ctrlBuf);
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

  /** Runs one job on all threads: `fill(t)` writes thread t's slice (or returns false for none). */
  const dispatch = (fill: (t: number, base: number) => boolean): void => {
    for (let t = 1; t < threads; t++) {
      const base = CTRL_HEADER + t * JOB_WORDS;
      if (!fill(t, base)) ctrl[base] = 0;
    }
    Atomics.store(ctrl, 1, 0);
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    if (fill(0, CTRL_HEADER)) runJob(ctrl, CTRL_HEADER, exp, memory);
    for (;;) {
      const done = Atomics.load(ctrl, 1);
      if (done >= threads - 1) break;
      Atomics.wait(ctrl, 1, done, 1000);
    }
  };

  const split = (n: number, t: number, parts: number, align: number): [number, number] => {
    const units = Math.ceil(n / align);
    const lo = Math.floor((units * t) / parts) * align;
    const hi = Math.min(n, Math.floor((units * (t + 1)) / parts) * align);
    return [lo, hi];
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
    // A(i,k) and B(k,j) strides for the four layouts.
    const sai = opA === "n" ? K : 1;
    const sak = opA === "n" ? 1 : M;
    const sbk = opB === "n" ? N : 1;
    const sbj = opB === "n" ? 1 : K;
    const parts = M * N * K < PARALLEL_MIN_MACS ? 1 : threads;
    if (M <= SMALL_M && opA === "n" && opB === "t") {
      // Few rows: dot products straight from the weight rows, columns split over threads.
      if (parts === 1) exp.gemm_nt_small(0, M, 0, N, K, pa, K, pb, K, pc, N, accumulate ? 1 : 0);
      else
        dispatch((t, base) => {
          if (t >= parts) return false;
          const [j0, j1] = split(N, t, parts, 4);
          if (j0 >= j1) return false;
          ctrl[base] = OP_GEMM_NT_SMALL;
          const args = [0, M, j0, j1, K, pa, K, pb, K, pc, N, accumulate ? 1 : 0];
          for (let i = 0; i < args.length; i++) ctrl[base + 1 + i] = args[i]!;
          return true;
        });
      if (foreignC) C.set(new Float32Array(memory.buffer, pc, M * N));
      return;
    }
    // Split columns (each thread packs its own panels) when there are enough of them.
    const byCols = N >= 8 * parts * 2 || M < 6 * parts;
    if (parts === 1) exp.gemm(0, M, 0, N, K, pa, sai, sak, pb, sbk, sbj, pc, N, accumulate ? 1 : 0, pack);
    else
      dispatch((t, base) => {
        if (t >= parts) return false;
        const [i0, i1] = byCols ? [0, M] : split(M, t, parts, 6);
        const [j0, j1] = byCols ? split(N, t, parts, 8) : [0, N];
        if (i0 >= i1 || j0 >= j1) return false;
        ctrl[base] = OP_GEMM;
        const args = [i0, i1, j0, j1, K, pa, sai, sak, pb, sbk, sbj, pc, N, accumulate ? 1 : 0];
        args.push(pack + 4 * PACK_FLOATS * t);
        for (let i = 0; i < args.length; i++) ctrl[base + 1 + i] = args[i]!;
        return true;
      });
    if (foreignC) C.set(new Float32Array(memory.buffer, pc, M * N));
  };

  const inMemory = (...xs: Arr[]) => xs.every((x) => ptrOf(x) >= 0);
  const shapeWords = (p: AttentionShape) => [p.batch, p.T, p.heads, p.kvHeads, p.headDim];

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
      dispatch((t, base) => {
        const [from, to] = split(total, t, threads, 1);
        if (from >= to) return false;
        const args = [...shapeWords(p), from, to, ...[out, probs, q, k, v].map(ptrOf)];
        ctrl[base] = OP_ATT_FWD;
        for (let i = 0; i < args.length; i++) ctrl[base + 1 + i] = args[i]!;
        return true;
      });
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
      // Slices are whole sequences, so no two threads accumulate into the same dk/dv rows.
      const scratch = attScratch(p.T);
      dispatch((t, base) => {
        const [b0, b1] = split(p.batch, t, threads, 1);
        if (b0 >= b1) return false;
        const args = [
          ...shapeWords(p),
          b0 * p.heads,
          b1 * p.heads,
          ...[dq, dk, dv, dout, probs, q, k, v].map(ptrOf),
          scratch + 4 * p.T * t,
        ];
        ctrl[base] = OP_ATT_BWD;
        for (let i = 0; i < args.length; i++) ctrl[base + 1 + i] = args[i]!;
        return true;
      });
    },
    close() {
      Atomics.store(ctrl, 0, -1);
      Atomics.notify(ctrl, 0);
      for (const w of workers) void w.terminate();
    },
  };
}
