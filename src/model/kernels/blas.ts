// The optional native kernel: OpenBLAS sgemm through a small N-API addon (native/blas.c,
// built by `npm run build:native`). It shares the WASM kernel's memory, workers and
// attention, and replaces only the matrix products. When the addon is not built or does
// not load, `loadBlasAddon` returns the reason and selection falls back to WASM.
import { createRequire } from "node:module";
import type { Kernel } from "./types.ts";
import { createWasmKernel, SMALL_M, type WasmKernelOptions } from "./wasm.ts";

interface BlasAddon {
  sgemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    beta: number,
  ): void;
  setThreads(n: number): void;
  config(): string;
}

const ADDON_PATH = "../../../native/build/blas.node";

/** The addon, or a string saying why it cannot be used. */
export function loadBlasAddon(): BlasAddon | string {
  try {
    // OpenBLAS's idle threads spin for a long while after each call, taking the cores from
    // the WASM workers that run attention and the elementwise passes between GEMMs; a short
    // spin (read once, when the library loads) made the training step ~20% faster here.
    // A value the user set is kept.
    process.env["OPENBLAS_THREAD_TIMEOUT"] ??= "4";
    const addon = createRequire(import.meta.url)(ADDON_PATH) as Partial<BlasAddon>;
    if (typeof addon.sgemm !== "function" || typeof addon.setThreads !== "function")
      return "native/build/blas.node does not export sgemm";
    return addon as BlasAddon;
  } catch (error) {
    return `native/build/blas.node did not load (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); run npm run build:native`;
  }
}

export function createBlasKernel(options: WasmKernelOptions = {}): Kernel {
  const addon = loadBlasAddon();
  if (typeof addon === "string") throw new Error(`kernel 'blas': ${addon}`);
  const base = createWasmKernel(options);
  const threads = options.threads ?? 2;
  addon.setThreads(threads);
  const f32 = (name: string, a: unknown): Float32Array => {
    if (!(a instanceof Float32Array)) throw new TypeError(`blas kernel: ${name} must be a Float32Array`);
    return a;
  };
  return {
    ...base,
    name: "blas",
    detail: `${addon.config().split(" ").slice(0, 2).join(" ")} sgemm, ${threads} threads; attention on the WASM workers`,
    matmul(opA, opB, M, N, K, A, B, C, accumulate) {
      if (M === 0 || N === 0) return;
      // Few-row x·Wᵀ (KV-cached decoding): the WASM dot-product path on the already-awake
      // workers beats waking OpenBLAS's threads for ~1M multiply-adds.
      if (M <= SMALL_M && opA === "n" && opB === "t") {
        base.matmul(opA, opB, M, N, K, A, B, C, accumulate);
        return;
      }
      if (K === 0) {
        if (!accumulate) C.fill(0, 0, M * N);
        return;
      }
      addon.sgemm(
        opA === "t" ? 1 : 0,
        opB === "t" ? 1 : 0,
        M,
        N,
        K,
        f32("A", A),
        f32("B", B),
        f32("C", C),
        accumulate ? 1 : 0,
      );
    },
  };
}
