// The optional native kernel: an N-API addon (native/, built by `npm run build:native`)
// running OpenBLAS sgemm and every other pass of a training step (attention, RMSNorm,
// SwiGLU, RoPE, residual adds, AdamW) on one native thread pool. It allocates in the WASM
// kernel's memory and keeps its few-row x·Wᵀ path for KV-cached decoding. When the addon is
// not built or does not load, `loadBlasAddon` returns the reason and selection falls back
// to WASM.
import { createRequire } from "node:module";
import { defaultThreads } from "./threads.ts";
import type { Arr, Kernel, MatmulJob } from "./types.ts";
import { createWasmKernel, SMALL_M, type WasmKernelOptions } from "./wasm.ts";

/** A native thread pool (an N-API external); closed by `closePool`. */
type Pool = object;
/** The addon checks that each array is a Float32Array long enough for its shape. */
type F32 = Arr;

interface BlasAddon {
  sgemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    A: F32,
    B: F32,
    C: F32,
    beta: number,
  ): void;
  setThreads(n: number): void;
  config(): string;
  createPool(threads: number): Pool;
  closePool(pool: Pool): void;
  poolSgemm(
    pool: Pool,
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    A: F32,
    B: F32,
    C: F32,
    beta: number,
    parts: number,
  ): void;
  /** pool, parts, then 1–4 groups of (transA, transB, M, N, K, A, B, C, beta). */
  poolSgemmMany(pool: Pool, parts: number, ...groups: (number | F32)[]): void;
  attnFwd(pool: Pool, B: number, T: number, H: number, KH: number, hd: number, ...arrays: F32[]): void;
  attnBwd(pool: Pool, B: number, T: number, H: number, KH: number, hd: number, ...arrays: F32[]): void;
  swigluFwd(pool: Pool, act: F32, gate: F32, up: F32, n: number): void;
  swigluBwd(pool: Pool, dgate: F32, dup: F32, dact: F32, gate: F32, up: F32, n: number): void;
  add(pool: Pool, out: F32, a: F32, b: F32, n: number): void;
  sumsq(pool: Pool, x: F32, n: number): number;
  adamw(pool: Pool, params: F32, grads: F32, m: F32, v: F32, decay: F32, n: number, h: F32): void;
  rmsFwd(pool: Pool, out: F32, rinv: F32, x: F32, w: F32, N: number, D: number, eps: number): void;
  rmsBwd(
    pool: Pool,
    dx: F32,
    dw: F32,
    dout: F32,
    x: F32,
    w: F32,
    rinv: F32,
    N: number,
    D: number,
    acc: number,
  ): void;
  rope(
    pool: Pool,
    x: F32,
    pos: Int32Array,
    N: number,
    heads: number,
    hd: number,
    cos: Float64Array,
    sin: Float64Array,
    sign: number,
  ): void;
}

const ADDON_PATH = "../../../native/build/blas.node";

/** The addon, or a string saying why it cannot be used. */
export function loadBlasAddon(): BlasAddon | string {
  try {
    // Only single-threaded OpenBLAS calls are made (the kernel's pool splits the products).
    // The short spin for OpenBLAS's idle threads is still set, as it always was, because
    // it is inherited by child processes: bench:engine's PyTorch reference has always run
    // with it, and its side of the comparison must not change.
    process.env["OPENBLAS_THREAD_TIMEOUT"] ??= "4";
    const addon = createRequire(import.meta.url)(ADDON_PATH) as Partial<BlasAddon>;
    if (typeof addon.sgemm !== "function" || typeof addon.createPool !== "function")
      return "native/build/blas.node is out of date (no createPool); run npm run build:native";
    return addon as BlasAddon;
  } catch (error) {
    return `native/build/blas.node did not load (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); run npm run build:native`;
  }
}

/** Below this many multiply-adds a GEMM stays on the calling thread. */
const POOL_MIN_MACS = 1 << 20;

export function createBlasKernel(options: WasmKernelOptions = {}): Kernel {
  const addon = loadBlasAddon();
  if (typeof addon === "string") throw new Error(`kernel 'blas': ${addon}`);
  const base = createWasmKernel(options);
  const threads = Math.max(1, options.threads ?? defaultThreads());
  // One pool runs every pass of a step, GEMMs included (as single-threaded OpenBLAS calls
  // on row blocks): OpenBLAS's own threads and a second pool would take turns waking each
  // other up, or spin while the other works.
  addon.setThreads(1);
  const pool = addon.createPool(threads);
  const f32 = (name: string, a: unknown): F32 => {
    if (!(a instanceof Float32Array)) throw new TypeError(`blas kernel: ${name} must be a Float32Array`);
    return a;
  };
  const all32 = (...xs: Arr[]): boolean => xs.every((x) => x instanceof Float32Array);
  const hyper = new Float32Array(8);
  /** Row blocks for a pooled product: one per thread, of at least 64 rows (each re-packs B). */
  const partsOf = (M: number, N: number, K: number) =>
    M * N * K >= POOL_MIN_MACS ? Math.min(threads, Math.floor(M / 64)) : 1;
  const matmul: Kernel["matmul"] = (opA, opB, M, N, K, A, B, C, accumulate) => {
    if (M === 0 || N === 0) return;
    // Few-row x·Wᵀ (KV-cached decoding): the WASM dot-product path, no packing.
    if (M <= SMALL_M && opA === "n" && opB === "t") {
      base.matmul(opA, opB, M, N, K, A, B, C, accumulate);
      return;
    }
    if (K === 0) {
      if (!accumulate) C.fill(0, 0, M * N);
      return;
    }
    const ta = opA === "t" ? 1 : 0;
    const tb = opB === "t" ? 1 : 0;
    const [a, b, c] = [f32("A", A), f32("B", B), f32("C", C)];
    const beta = accumulate ? 1 : 0;
    const parts = partsOf(M, N, K);
    if (parts > 1) addon.poolSgemm(pool, ta, tb, M, N, K, a, b, c, beta, parts);
    else addon.sgemm(ta, tb, M, N, K, a, b, c, beta);
  };
  return {
    ...base,
    name: "blas",
    detail: `${addon.config().split(" ").slice(0, 2).join(" ")} sgemm and native passes, ${threads} threads`,
    matmul,
    matmuls(jobs) {
      // Products big enough to pool go out together (up to 4 per hand-off); the rest one by one.
      const pooled: MatmulJob[] = [];
      for (const j of jobs) {
        if (j.K > 0 && !(j.M <= SMALL_M && j.opA === "n" && j.opB === "t") && partsOf(j.M, j.N, j.K) > 1)
          pooled.push(j);
        else matmul(j.opA, j.opB, j.M, j.N, j.K, j.A, j.B, j.C, j.accumulate);
      }
      for (let i = 0; i < pooled.length; i += 4) {
        const batch = pooled.slice(i, i + 4);
        // Identical products (same layouts and sizes, e.g. gate and up), as many as threads:
        // whole ones per thread, so no operand is packed twice. Otherwise each is cut into
        // row blocks: a linear layer's dx ('nn') runs ~25% slower than its dW ('tn') of the
        // same size, and a whole of each would leave one thread idle for the difference.
        const like = (j: MatmulJob) => `${j.opA}${j.opB}${j.M}x${j.N}x${j.K}`;
        const whole = batch.length % threads === 0 && batch.every((j) => like(j) === like(batch[0]!));
        const parts = whole ? 1 : threads;
        const args: (number | F32)[] = [];
        for (const j of batch) {
          const [a, b, c] = [f32("A", j.A), f32("B", j.B), f32("C", j.C)];
          args.push(
            j.opA === "t" ? 1 : 0,
            j.opB === "t" ? 1 : 0,
            j.M,
            j.N,
            j.K,
            a,
            b,
            c,
            j.accumulate ? 1 : 0,
          );
        }
        addon.poolSgemmMany(pool, parts, ...args);
      }
    },
    attentionForward(p, out, probs, q, k, v) {
      if (!all32(out, probs, q, k, v)) return base.attentionForward(p, out, probs, q, k, v);
      addon.attnFwd(pool, p.batch, p.T, p.heads, p.kvHeads, p.headDim, out, probs, q, k, v);
    },
    attentionBackward(p, dq, dk, dv, dout, probs, q, k, v) {
      if (!all32(dq, dk, dv, dout, probs, q, k, v))
        return base.attentionBackward(p, dq, dk, dv, dout, probs, q, k, v);
      addon.attnBwd(pool, p.batch, p.T, p.heads, p.kvHeads, p.headDim, dq, dk, dv, dout, probs, q, k, v);
    },
    rmsnormForward(out, rinv, x, w, N, D, eps) {
      if (!all32(out, rinv, x, w)) return false;
      addon.rmsFwd(pool, out, rinv, x, w, N, D, eps);
      return true;
    },
    rmsnormBackward(dx, dw, dout, x, w, rinv, N, D, accumulateDx) {
      if (!all32(dx, dw, dout, x, w, rinv)) return false;
      addon.rmsBwd(pool, dx, dw, dout, x, w, rinv, N, D, accumulateDx ? 1 : 0);
      return true;
    },
    swigluForward(act, gate, up, n) {
      if (!all32(act, gate, up)) return false;
      addon.swigluFwd(pool, act, gate, up, n);
      return true;
    },
    swigluBackward(dgate, dup, dact, gate, up, n) {
      if (!all32(dgate, dup, dact, gate, up)) return false;
      addon.swigluBwd(pool, dgate, dup, dact, gate, up, n);
      return true;
    },
    ropeApply(x, pos, N, heads, hd, cos, sin, sign) {
      if (!all32(x)) return false;
      addon.rope(pool, x, pos, N, heads, hd, cos, sin, sign);
      return true;
    },
    add(out, a, b, n) {
      if (!all32(out, a, b)) return false;
      addon.add(pool, out, a, b, n);
      return true;
    },
    sumSquares(x) {
      if (!all32(x)) return undefined;
      return addon.sumsq(pool, x, x.length);
    },
    adamw(params, grads, m, v, decay, h) {
      if (!all32(params, grads, m, v, decay)) return false;
      hyper.set([h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.clip, 1 / h.bc1, 1 / h.bc2]);
      addon.adamw(pool, params, grads, m, v, decay, params.length, hyper);
      return true;
    },
    close() {
      addon.closePool(pool);
      base.close();
    },
  };
}
