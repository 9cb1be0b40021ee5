// The one interface every compute kernel implements. The decoder keeps all its buffers in
// arrays the kernel allocates, so a kernel backed by WebAssembly memory can run on them in
// place (no copies), while the TypeScript kernel can work in float64 for gradient checks.

/** A dense row-major buffer; float64 only with the reference kernel. */
export type Arr = Float32Array | Float64Array;

export type KernelName = "ts" | "wasm" | "blas";

export interface Kernel {
  readonly name: KernelName;
  /** Human-readable detail for `datascale doctor` (threads, SIMD flavour, library). */
  readonly detail: string;
  readonly dtype: "f32" | "f64";
  /** A zeroed buffer of n elements that `matmul` can use without copying. */
  alloc(n: number): Arr;
  /**
   * C[M,N] = (accumulate ? C : 0) + op(A)·op(B), where op(X) is X or Xᵀ and every matrix is
   * row-major and dense: A is [M,K] ('n') or [K,M] ('t'); B is [K,N] ('n') or [N,K] ('t').
   * Only 'nn', 'nt' and 'tn' are used by the decoder.
   */
  matmul(
    opA: "n" | "t",
    opB: "n" | "t",
    M: number,
    N: number,
    K: number,
    A: Arr,
    B: Arr,
    C: Arr,
    accumulate: boolean,
  ): void;
  /**
   * Causal attention for `batch` sequences of T tokens (training layout; q,k,v rows are
   * [tokens, heads·hd]); writes the output and the softmax probabilities [B,H,T,T].
   */
  attentionForward(p: AttentionShape, out: Arr, probs: Arr, q: Arr, k: Arr, v: Arr): void;
  attentionBackward(
    p: AttentionShape,
    dq: Arr,
    dk: Arr,
    dv: Arr,
    dout: Arr,
    probs: Arr,
    q: Arr,
    k: Arr,
    v: Arr,
  ): void;
  /** Stops worker threads, if any. The kernel must not be used afterwards. */
  close(): void;
}

export interface AttentionShape {
  batch: number;
  T: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}
