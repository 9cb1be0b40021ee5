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
   * Several products at once, none of whose outputs is another's input or output, so the
   * kernel may run them concurrently (one hand-off to its threads instead of several).
   * Optional: layers.ts `matmulAll` falls back to one `matmul` each.
   */
  matmuls?(jobs: readonly MatmulJob[]): void;
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
  // Optional fast paths for elementwise passes; each returns false (or undefined) when it
  // cannot take these buffers, and the caller runs the TypeScript version instead.
  /** RMSNorm over N rows of D (see layers.ts). */
  rmsnormForward?(out: Arr, rinv: Arr, x: Arr, w: Arr, N: number, D: number, eps: number): boolean;
  /** RMSNorm backward; dx is overwritten, or added to when `accumulateDx`; dw accumulates. */
  rmsnormBackward?(
    dx: Arr,
    dw: Arr,
    dout: Arr,
    x: Arr,
    w: Arr,
    rinv: Arr,
    N: number,
    D: number,
    accumulateDx: boolean,
  ): boolean;
  /** act = silu(gate)·up over n elements. */
  swigluForward?(act: Arr, gate: Arr, up: Arr, n: number): boolean;
  swigluBackward?(dgate: Arr, dup: Arr, dact: Arr, gate: Arr, up: Arr, n: number): boolean;
  /** RoPE in place (see layers.ts ropeApply): sign +1 rotates forward, −1 back. */
  ropeApply?(
    x: Arr,
    pos: Int32Array,
    N: number,
    heads: number,
    hd: number,
    cos: Float64Array,
    sin: Float64Array,
    sign: 1 | -1,
  ): boolean;
  /** out = a + b over n elements (a residual add; out may alias a). */
  add?(out: Arr, a: Arr, b: Arr, n: number): boolean;
  /** Σ x² over all of x. */
  sumSquares?(x: Arr): number | undefined;
  /** One AdamW update of every element (see optim.ts for the formula). */
  adamw?(params: Arr, grads: Arr, m: Arr, v: Arr, decay: Arr, h: AdamWStep): boolean;
  /** Stops worker threads, if any. The kernel must not be used afterwards. */
  close(): void;
}

/** The arguments of one `matmul`. */
export interface MatmulJob {
  opA: "n" | "t";
  opB: "n" | "t";
  M: number;
  N: number;
  K: number;
  A: Arr;
  B: Arr;
  C: Arr;
  accumulate: boolean;
}

export interface AttentionShape {
  batch: number;
  T: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** The scalars of one AdamW update: bc1, bc2 are the bias corrections 1−β₁ᵗ, 1−β₂ᵗ. */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clip: number;
  bc1: number;
  bc2: number;
}
