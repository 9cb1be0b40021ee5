// The Llama-style decoder: training forward/backward over a [batch, T] block of tokens, and
// KV-cached inference implementing StepModel. Layers are in layers.ts; matrix products and
// attention go through the Kernel so the same code runs on TypeScript, WASM or BLAS.
import { type DecoderConfig, type DecoderConfigInput, decoderConfig } from "./config.ts";
import type { Arr, AttentionShape, Kernel } from "./kernels/types.ts";
import {
  biasBackward,
  biasForward,
  crossEntropyForwardBackward,
  embeddingBackward,
  embeddingForward,
  linearBackward,
  linearForward,
  linearForwardMany,
  logprobsAndEntropy,
  residualBackward,
  residualForward,
  rmsnormBackward,
  rmsnormForward,
  ropeApply,
  ropeTables,
  scalarHeadBackward,
  scalarHeadForward,
  swigluBackward,
  swigluForward,
} from "./layers.ts";
import { type ParamViews, paramLayout, paramViews } from "./params.ts";
import { Rng } from "./rng.ts";
import { rowsAttentionBackward, rowsAttentionForward } from "./row-attention.ts";
import type { StepModel } from "./types.ts";

/**
 * The last layer runs on the output rows alone when they are at most 1/this of the
 * positions (a BT's last tokens, a judge's answer): its queries attend in plain loops
 * (row-attention.ts), which cost more than the native kernel's full pass beyond that
 * (measured: SFT, ~10 % of positions, was 14 % slower a stage with it).
 */
const ROWS_LAYER_SHARE = 16;

/** `rows` as positions of an N-position block, each checked to be one. */
function checkedRows(rows: Int32Array, N: number): Int32Array {
  for (const n of rows)
    if (!(n >= 0 && n < N)) throw new RangeError(`forward: output row ${n} is outside [0, ${N})`);
  return Int32Array.from(rows);
}

/** out[i] = x[rows[i]] for D-wide rows. */
function gatherRows(out: Arr, x: Arr, rows: Int32Array, D: number): void {
  rows.forEach((n, i) => {
    out.set(x.subarray(n * D, (n + 1) * D), i * D);
  });
}

/** dx[rows[i]] += d[i] for D-wide rows. */
function scatterAddRows(dx: Arr, d: Arr, rows: Int32Array, D: number): void {
  rows.forEach((n, i) => {
    for (let j = 0; j < D; j++) dx[n * D + j] = dx[n * D + j]! + d[i * D + j]!;
  });
}

/** Per-sequence KV cache: keys/values of every layer for positions [0, len). */
export interface KvCache {
  len: number;
  k: Arr[];
  v: Arr[];
}

interface LayerActs {
  h1: Arr;
  r1: Arr;
  q: Arr;
  k: Arr;
  v: Arr;
  probs: Arr;
  att: Arr;
  ao: Arr;
  x2: Arr;
  h2: Arr;
  r2: Arr;
  gate: Arr;
  up: Arr;
  act: Arr;
  mo: Arr;
}

interface TrainActs {
  batch: number;
  T: number;
  ids: Int32Array;
  pos: Int32Array;
  /** Residual stream: x[0] after embedding, x[l+1] after layer l. */
  x: Arr[];
  layers: LayerActs[];
  hf: Arr;
  rf: Arr;
  /** The positions the last forward gave outputs for (undefined: every one), and theirs in T. */
  outRows: Int32Array | undefined;
  rowPos: Int32Array;
  /** Whether the last layer ran on outRows only (few of them), and what the heads read. */
  rowsLayer: boolean;
  headsIn: Arr;
  /** Those rows of the last layer's input and its norm, gathered; a gradient of theirs. */
  xRows: Arr;
  hRows: Arr;
  dRows: Arr;
  logits: Arr;
  values: Arr | undefined;
  rewards: Arr | undefined;
  // Gradient scratch, reused across layers.
  dx: Arr;
  dh: Arr;
  dtmp: Arr;
  dq: Arr;
  dk: Arr;
  dv: Arr;
  datt: Arr;
  dgate: Arr;
  dup: Arr;
  dact: Arr;
}

export interface ForwardOutput {
  /** [batch·T, vocab], or [outRows.length, vocab] when the forward was given outRows (so the heads). */
  logits: Arr;
  /** [batch·T] value-head outputs, when the model has one. */
  values: Arr | undefined;
  /** [batch·T] reward-head outputs, when the model has one. */
  rewards: Arr | undefined;
}

export interface TokenScores {
  /** logprobs[t] = log p(seq[t+1] | seq[..t]); length len−1. */
  logprobs: Float32Array;
  /** Entropy of the next-token distribution at the same positions; length len−1. */
  entropies: Float32Array;
}

export interface SequenceHeads {
  /** Value-head output per position, when the model has one. */
  values: Float32Array | undefined;
  /** Reward-head output per position, when the model has one. */
  rewards: Float32Array | undefined;
}

export interface DecoderOptions {
  seed?: number;
}

export class Decoder implements StepModel<KvCache> {
  readonly config: DecoderConfig;
  readonly kernel: Kernel;
  /** All parameters, contiguous; `p` holds named views. */
  readonly params: Arr;
  /** All gradients, same layout; `g` holds named views. */
  readonly grads: Arr;
  readonly p: ParamViews;
  readonly g: ParamViews;
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly #rope: { cos: Float64Array; sin: Float64Array };
  #acts: TrainActs | undefined;
  readonly #slabs: Arr[] = [];
  #infer: Map<string, Arr> = new Map();
  readonly #scores: Float64Array;

  constructor(config: DecoderConfigInput | DecoderConfig, kernel: Kernel, options: DecoderOptions = {}) {
    this.config = "headDim" in config ? config : decoderConfig(config);
    this.kernel = kernel;
    const { size } = paramLayout(this.config);
    this.params = kernel.alloc(size);
    this.grads = kernel.alloc(size);
    this.p = paramViews(this.config, this.params);
    this.g = paramViews(this.config, this.grads);
    this.vocabSize = this.config.vocabSize;
    this.maxSeqLen = this.config.maxSeqLen;
    this.#rope = ropeTables(this.config.maxSeqLen, this.config.headDim, this.config.ropeTheta);
    this.#scores = new Float64Array(this.config.maxSeqLen);
    this.initWeights(options.seed ?? 1);
  }

  get numParams(): number {
    return this.params.length;
  }

  /** Normal(0, 0.02) matrices, residual projections scaled by 1/√(2·layers), unit norms, zero heads. */
  initWeights(seed: number): void {
    const rng = new Rng(seed);
    const std = 0.02;
    const residStd = std / Math.sqrt(2 * this.config.nLayers);
    for (const e of paramLayout(this.config).entries) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      const view = this.params.subarray(e.offset, e.offset + n);
      if (e.name.endsWith("norm.weight")) view.fill(1);
      else if (
        e.name.endsWith(".bias") ||
        e.name.startsWith("value_head") ||
        e.name.startsWith("reward_head")
      )
        view.fill(0);
      else {
        const s = e.name.endsWith("o_proj.weight") || e.name.endsWith("down_proj.weight") ? residStd : std;
        for (let i = 0; i < n; i++) view[i] = rng.normal() * s;
      }
    }
  }

  /** RoPE in place through the kernel's fast path when it has one. */
  #rotate(x: Arr, pos: Int32Array, N: number, heads: number, sign: 1 | -1): void {
    const { headDim: hd } = this.config;
    const { cos, sin } = this.#rope;
    if (!this.kernel.ropeApply?.(x, pos, N, heads, hd, cos, sin, sign))
      ropeApply(x, pos, N, heads, hd, cos, sin, sign);
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }

  #lmHead(p: ParamViews): Arr {
    return p.lmHead ?? p.embed;
  }

  #slab(slot: number, n: number): Arr {
    const have = this.#slabs[slot];
    if (have !== undefined && have.length >= n) return have.subarray(0, n);
    const fresh = this.kernel.alloc(Math.max(n, Math.ceil(1.5 * (have?.length ?? 0))));
    this.#slabs[slot] = fresh;
    return fresh.subarray(0, n);
  }

  #trainActs(batch: number, T: number): TrainActs {
    const a = this.#acts;
    if (a !== undefined && a.batch === batch && a.T === T) return a;
    if (T > this.maxSeqLen) throw new RangeError(`sequence length ${T} exceeds maxSeqLen ${this.maxSeqLen}`);
    const c = this.config;
    const N = batch * T;
    const { dim: D, headDim: hd, nHeads: H, nKvHeads: KH, ffnDim: F, vocabSize: V } = c;
    // Kernel memory is a bump allocator that never frees, and batches come in many shapes
    // (PPO pads to each batch's longest response): each activation takes a view of a
    // grow-only slab of its own, so memory stays bounded by ≈1.5× the largest shape seen.
    let slot = 0;
    const al = (n: number) => this.#slab(slot++, n);
    const layers: LayerActs[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      layers.push({
        h1: al(N * D),
        r1: al(N),
        q: al(N * H * hd),
        k: al(N * KH * hd),
        v: al(N * KH * hd),
        probs: al(batch * H * T * T),
        att: al(N * H * hd),
        ao: al(N * D),
        x2: al(N * D),
        h2: al(N * D),
        r2: al(N),
        gate: al(N * F),
        up: al(N * F),
        act: al(N * F),
        mo: al(N * D),
      });
    }
    const pos = new Int32Array(N);
    for (let n = 0; n < N; n++) pos[n] = n % T;
    const acts: TrainActs = {
      batch,
      T,
      ids: new Int32Array(N),
      pos,
      x: Array.from({ length: c.nLayers + 1 }, () => al(N * D)),
      layers,
      hf: al(N * D),
      rf: al(N),
      outRows: undefined,
      rowPos: new Int32Array(0),
      rowsLayer: false,
      headsIn: new Float32Array(0),
      xRows: al(N * D),
      hRows: al(N * D),
      dRows: al(N * D),
      logits: al(N * V),
      values: c.valueHead ? al(N) : undefined,
      rewards: c.rewardHead ? al(N) : undefined,
      dx: al(N * D),
      dh: al(N * D),
      dtmp: al(N * D),
      dq: al(N * H * hd),
      dk: al(N * KH * hd),
      dv: al(N * KH * hd),
      datt: al(N * H * hd),
      dgate: al(N * F),
      dup: al(N * F),
      dact: al(N * F),
    };
    this.#acts = acts;
    return acts;
  }

  /**
   * Training forward over `batch` sequences of T tokens (ids row-major [batch, T]). Keeps
   * the activations for `backward`. The returned arrays are reused by the next call.
   * `outRows` (positions b·T + t) asks for the outputs — logits, values, rewards — at those
   * positions only, in that order: a loss on a response's tokens, a reward model's last
   * token. The last layer then runs its queries, attention output and MLP on those rows only
   * (every position's keys and values still feed them), and the heads run on them alone.
   */
  forward(ids: Int32Array, batch: number, T: number, outRows?: Int32Array): ForwardOutput {
    const c = this.config;
    const { dim: D, vocabSize: V } = c;
    const N = batch * T;
    if (ids.length !== N)
      throw new RangeError(`forward: ids has ${ids.length} entries, expected ${batch}×${T}`);
    for (let n = 0; n < N; n++) {
      const id = ids[n]!;
      if (!(id >= 0 && id < V))
        throw new RangeError(`forward: token id ${id} at index ${n} is outside [0, ${V})`);
    }
    const a = this.#trainActs(batch, T);
    a.ids.set(ids);
    a.outRows = outRows === undefined ? undefined : checkedRows(outRows, N);
    a.rowsLayer = a.outRows !== undefined && a.outRows.length * ROWS_LAYER_SHARE <= N;
    if (a.rowsLayer) a.rowPos = Int32Array.from(a.outRows!, (n) => n % T);
    embeddingForward(a.x[0]!, ids, this.p.embed, N, D);
    for (let l = 0; l < c.nLayers; l++)
      if (a.rowsLayer && l === c.nLayers - 1) this.#rowsLayerForward(a, l, a.outRows!);
      else this.#layerForward(a, l);
    a.headsIn = a.x[c.nLayers]!;
    if (a.outRows !== undefined && !a.rowsLayer) {
      gatherRows(a.xRows, a.headsIn, a.outRows, D);
      a.headsIn = a.xRows;
    }
    return this.#headsForward(a, a.outRows?.length ?? N);
  }

  #shape(a: TrainActs): AttentionShape {
    const { headDim, nHeads: heads, nKvHeads: kvHeads } = this.config;
    return { batch: a.batch, T: a.T, heads, kvHeads, headDim };
  }

  #norm(out: Arr, rinv: Arr, x: Arr, w: Arr, n: number): void {
    const { dim: D, normEps } = this.config;
    if (!this.kernel.rmsnormForward?.(out, rinv, x, w, n, D, normEps))
      rmsnormForward(out, rinv, x, w, n, D, normEps);
  }

  #add(out: Arr, x: Arr, y: Arr, n: number): void {
    if (!this.kernel.add?.(out, x, y, n)) residualForward(out, x, y, n);
  }

  /** dx (= or, with `accumulate`, +=) the norm's input gradient; dw += its weight's. */
  #normBackward(
    a: TrainActs,
    dx: Arr,
    dw: Arr,
    dy: Arr,
    x: Arr,
    w: Arr,
    rinv: Arr,
    n: number,
    accumulate: boolean,
  ) {
    const D = this.config.dim;
    if (this.kernel.rmsnormBackward?.(dx, dw, dy, x, w, rinv, n, D, accumulate)) return;
    if (!accumulate) return rmsnormBackward(dx, dw, dy, x, w, rinv, n, D);
    rmsnormBackward(a.dtmp, dw, dy, x, w, rinv, n, D);
    residualBackward(dx, a.dtmp, n * D);
  }

  /** The MLP block of layer l on the first n rows of L.x2, with its residual, into `out`. */
  #mlpForward(L: LayerActs, w: ParamViews["layers"][number], out: Arr, n: number): void {
    const { dim: D, ffnDim: F } = this.config;
    const k = this.kernel;
    this.#norm(L.h2, L.r2, L.x2, w.mlpNorm, n);
    linearForwardMany(k, L.h2, n, D, [
      { out: L.gate, W: w.wGate, outDim: F },
      { out: L.up, W: w.wUp, outDim: F },
    ]);
    if (!k.swigluForward?.(L.act, L.gate, L.up, n * F)) swigluForward(L.act, L.gate, L.up, n * F);
    linearForward(k, L.mo, L.act, w.wDown, n, F, D);
    this.#add(out, L.x2, L.mo, n * D);
  }

  #layerForward(a: TrainActs, l: number): void {
    const { dim: D, headDim: hd, nHeads: H, nKvHeads: KH } = this.config;
    const k = this.kernel;
    const N = a.batch * a.T;
    const L = a.layers[l]!;
    const w = this.p.layers[l]!;
    const xin = a.x[l]!;
    this.#norm(L.h1, L.r1, xin, w.attnNorm, N);
    linearForwardMany(k, L.h1, N, D, [
      { out: L.q, W: w.wq, outDim: H * hd },
      { out: L.k, W: w.wk, outDim: KH * hd },
      { out: L.v, W: w.wv, outDim: KH * hd },
    ]);
    if (w.bq !== undefined) {
      biasForward(L.q, w.bq, N, H * hd);
      biasForward(L.k, w.bk!, N, KH * hd);
      biasForward(L.v, w.bv!, N, KH * hd);
    }
    this.#rotate(L.q, a.pos, N, H, 1);
    this.#rotate(L.k, a.pos, N, KH, 1);
    k.attentionForward(this.#shape(a), L.att, L.probs, L.q, L.k, L.v);
    linearForward(k, L.ao, L.att, w.wo, N, H * hd, D);
    this.#add(L.x2, xin, L.ao, N * D);
    this.#mlpForward(L, w, a.x[l + 1]!, N);
  }

  /**
   * Layer l computed for `rows` only, into the first rows.length rows of x[l+1]: keys and
   * values for every position, queries and all that follows them for those rows.
   */
  #rowsLayerForward(a: TrainActs, l: number, rows: Int32Array): void {
    const { dim: D, headDim: hd, nHeads: H, nKvHeads: KH } = this.config;
    const k = this.kernel;
    const [N, R] = [a.batch * a.T, rows.length];
    const L = a.layers[l]!;
    const w = this.p.layers[l]!;
    const xin = a.x[l]!;
    this.#norm(L.h1, L.r1, xin, w.attnNorm, N);
    linearForwardMany(k, L.h1, N, D, [
      { out: L.k, W: w.wk, outDim: KH * hd },
      { out: L.v, W: w.wv, outDim: KH * hd },
    ]);
    gatherRows(a.hRows, L.h1, rows, D);
    linearForward(k, L.q, a.hRows, w.wq, R, D, H * hd);
    if (w.bq !== undefined) {
      biasForward(L.q, w.bq, R, H * hd);
      biasForward(L.k, w.bk!, N, KH * hd);
      biasForward(L.v, w.bv!, N, KH * hd);
    }
    this.#rotate(L.q, a.rowPos, R, H, 1);
    this.#rotate(L.k, a.pos, N, KH, 1);
    rowsAttentionForward(this.#shape(a), rows, L.att, L.probs, L.q, L.k, L.v);
    linearForward(k, L.ao, L.att, w.wo, R, H * hd, D);
    gatherRows(a.xRows, xin, rows, D);
    this.#add(L.x2, a.xRows, L.ao, R * D);
    this.#mlpForward(L, w, a.x[l + 1]!, R);
  }

  /** The final norm and the heads on the first M rows of the last layer's output. */
  #headsForward(a: TrainActs, M: number): ForwardOutput {
    const { dim: D, vocabSize: V } = this.config;
    const p = this.p;
    this.#norm(a.hf, a.rf, a.headsIn, p.finalNorm, M);
    linearForward(this.kernel, a.logits, a.hf, this.#lmHead(p), M, D, V);
    if (a.values !== undefined) scalarHeadForward(a.values, a.hf, p.valueW!, p.valueB!, M, D);
    if (a.rewards !== undefined) scalarHeadForward(a.rewards, a.hf, p.rewardW!, p.rewardB!, M, D);
    return {
      logits: a.logits.subarray(0, M * V),
      values: a.values?.subarray(0, M),
      rewards: a.rewards?.subarray(0, M),
    };
  }

  /**
   * Accumulates parameter gradients of Σ dLogits·logits + Σ dValues·values + Σ dRewards·rewards
   * for the last `forward` (rows as it returned them). Any of the three may be omitted (zero).
   */
  backward(dLogits: Arr | undefined, dValues?: Arr, dRewards?: Arr): void {
    const a = this.#acts;
    if (a === undefined) throw new Error("backward called before forward");
    const c = this.config;
    const M = a.outRows?.length ?? a.batch * a.T;
    this.#headsBackward(a, M, dLogits, dValues, dRewards);
    for (let l = c.nLayers - 1; l >= 0; l--)
      if (a.rowsLayer && l === c.nLayers - 1) this.#rowsLayerBackward(a, l, a.outRows!);
      else this.#layerBackward(a, l);
    embeddingBackward(this.g.embed, a.dx, a.ids, a.batch * a.T, c.dim);
  }

  /** The heads' and the final norm's backward on M rows, into dx (the last layer's output gradient). */
  #headsBackward(a: TrainActs, M: number, dLogits?: Arr, dValues?: Arr, dRewards?: Arr): void {
    const { dim: D, vocabSize: V } = this.config;
    const [p, g] = [this.p, this.g];
    const dhf = a.dh;
    dhf.fill(0, 0, M * D);
    if (dLogits !== undefined) {
      if (dLogits.length < M * V)
        throw new RangeError(`backward: dLogits has ${dLogits.length} entries, expected ${M}×${V}`);
      linearBackward(this.kernel, dhf, this.#lmHead(g), dLogits, a.hf, this.#lmHead(p), M, D, V, true);
    }
    if (dValues !== undefined) {
      if (p.valueW === undefined) throw new Error("backward: dValues given but the model has no value head");
      scalarHeadBackward(dhf, g.valueW!, g.valueB!, dValues, a.hf, p.valueW, M, D);
    }
    if (dRewards !== undefined) {
      if (p.rewardW === undefined)
        throw new Error("backward: dRewards given but the model has no reward head");
      scalarHeadBackward(dhf, g.rewardW!, g.rewardB!, dRewards, a.hf, p.rewardW, M, D);
    }
    this.#normBackward(a, a.dx, g.finalNorm, dhf, a.headsIn, p.finalNorm, a.rf, M, false);
    if (a.outRows === undefined || a.rowsLayer) return;
    // Outputs gathered from a full last layer: their gradient goes back to their positions.
    a.dRows.set(a.dx.subarray(0, M * D));
    a.dx.fill(0, 0, a.batch * a.T * D);
    scatterAddRows(a.dx, a.dRows, a.outRows, D);
  }

  /** The MLP block's backward on n rows: a.dx, the layer output's gradient, becomes x2's. */
  #mlpBackward(a: TrainActs, l: number, n: number): void {
    const { dim: D, ffnDim: F } = this.config;
    const k = this.kernel;
    const [L, w, gw] = [a.layers[l]!, this.p.layers[l]!, this.g.layers[l]!];
    linearBackward(k, a.dact, gw.wDown, a.dx, L.act, w.wDown, n, F, D);
    if (!k.swigluBackward?.(a.dgate, a.dup, a.dact, L.gate, L.up, n * F))
      swigluBackward(a.dgate, a.dup, a.dact, L.gate, L.up, n * F);
    linearBackward(k, a.dh, gw.wGate, a.dgate, L.h2, w.wGate, n, D, F);
    linearBackward(k, a.dh, gw.wUp, a.dup, L.h2, w.wUp, n, D, F, true);
    // The residual's backward (dx += …) is folded into the norm's.
    this.#normBackward(a, a.dx, gw.mlpNorm, a.dh, L.x2, w.mlpNorm, L.r2, n, true);
  }

  #layerBackward(a: TrainActs, l: number): void {
    const { dim: D, headDim: hd, nHeads: H, nKvHeads: KH } = this.config;
    const k = this.kernel;
    const N = a.batch * a.T;
    const [L, w, gw] = [a.layers[l]!, this.p.layers[l]!, this.g.layers[l]!];
    this.#mlpBackward(a, l, N);
    // Attention branch: dx is now the gradient at x2.
    linearBackward(k, a.datt, gw.wo, a.dx, L.att, w.wo, N, H * hd, D);
    k.attentionBackward(this.#shape(a), a.dq, a.dk, a.dv, a.datt, L.probs, L.q, L.k, L.v);
    this.#rotate(a.dq, a.pos, N, H, -1);
    this.#rotate(a.dk, a.pos, N, KH, -1);
    if (gw.bq !== undefined) {
      biasBackward(gw.bq, a.dq, N, H * hd);
      biasBackward(gw.bk!, a.dk, N, KH * hd);
      biasBackward(gw.bv!, a.dv, N, KH * hd);
    }
    linearBackward(k, a.dh, gw.wq, a.dq, L.h1, w.wq, N, D, H * hd);
    linearBackward(k, a.dh, gw.wk, a.dk, L.h1, w.wk, N, D, KH * hd, true);
    linearBackward(k, a.dh, gw.wv, a.dv, L.h1, w.wv, N, D, KH * hd, true);
    this.#normBackward(a, a.dx, gw.attnNorm, a.dh, a.x[l]!, w.attnNorm, L.r1, N, true);
  }

  /** #rowsLayerForward's backward: a.dx holds its rows' output gradient, then every position's input gradient. */
  #rowsLayerBackward(a: TrainActs, l: number, rows: Int32Array): void {
    const { dim: D, headDim: hd, nHeads: H, nKvHeads: KH } = this.config;
    const k = this.kernel;
    const [N, R] = [a.batch * a.T, rows.length];
    const [L, w, gw] = [a.layers[l]!, this.p.layers[l]!, this.g.layers[l]!];
    this.#mlpBackward(a, l, R);
    linearBackward(k, a.datt, gw.wo, a.dx, L.att, w.wo, R, H * hd, D);
    a.dk.fill(0, 0, N * KH * hd);
    a.dv.fill(0, 0, N * KH * hd);
    rowsAttentionBackward(this.#shape(a), rows, a.dq, a.dk, a.dv, a.datt, L.probs, L.q, L.k, L.v);
    this.#rotate(a.dq, a.rowPos, R, H, -1);
    this.#rotate(a.dk, a.pos, N, KH, -1);
    if (gw.bq !== undefined) {
      biasBackward(gw.bq, a.dq, R, H * hd);
      biasBackward(gw.bk!, a.dk, N, KH * hd);
      biasBackward(gw.bv!, a.dv, N, KH * hd);
    }
    linearBackward(k, a.dh, gw.wk, a.dk, L.h1, w.wk, N, D, KH * hd);
    linearBackward(k, a.dh, gw.wv, a.dv, L.h1, w.wv, N, D, KH * hd, true);
    linearBackward(k, a.dRows, gw.wq, a.dq, a.hRows, w.wq, R, D, H * hd);
    scatterAddRows(a.dh, a.dRows, rows, D);
    // x2 = x[rows] + attention: the rows' gradient at x2 also flows straight to the input.
    a.dRows.set(a.dx.subarray(0, R * D));
    this.#normBackward(a, a.dx, gw.attnNorm, a.dh, a.x[l]!, w.attnNorm, L.r1, N, false);
    scatterAddRows(a.dx, a.dRows, rows, D);
  }

  /**
   * One forward + weighted cross-entropy + backward: targets [batch·T], weights [batch·T]
   * (0 masks; any real number scales, e.g. per-token advantages). Returns the loss;
   * gradients accumulate into `grads`.
   */
  lossAndGrad(
    ids: Int32Array,
    targets: Int32Array,
    batch: number,
    T: number,
    weights?: Float32Array | Float64Array,
    normaliser?: number,
  ): number {
    const out = this.forward(ids, batch, T);
    const dLogits = this.#scratch("dLogits", batch * T * this.vocabSize);
    const { loss } = crossEntropyForwardBackward(
      dLogits,
      out.logits,
      targets,
      weights,
      batch * T,
      this.vocabSize,
      normaliser,
    );
    this.backward(dLogits);
    return loss;
  }

  #scratch(name: string, n: number): Arr {
    const have = this.#infer.get(name);
    if (have !== undefined && have.length >= n) return have.subarray(0, n);
    const fresh = this.kernel.alloc(Math.max(n, 2 * (have?.length ?? 0)));
    this.#infer.set(name, fresh);
    return fresh.subarray(0, n);
  }

  // ---- Inference (StepModel) ----

  newCache(): KvCache {
    const c = this.config;
    const n = c.maxSeqLen * c.nKvHeads * c.headDim;
    const mk = (): Arr => (this.kernel.dtype === "f64" ? new Float64Array(n) : new Float32Array(n));
    return {
      len: 0,
      k: Array.from({ length: c.nLayers }, mk),
      v: Array.from({ length: c.nLayers }, mk),
    };
  }

  async step(caches: KvCache[], tokens: Int32Array[]): Promise<Float32Array> {
    return this.stepSync(caches, tokens, false);
  }

  async logits(sequences: Int32Array[]): Promise<Float32Array[]> {
    const caches = sequences.map(() => this.newCache());
    const all = this.stepSync(caches, sequences, true);
    const V = this.vocabSize;
    const out: Float32Array[] = [];
    let row = 0;
    for (const s of sequences) {
      out.push(all.slice(row * V, (row + s.length) * V));
      row += s.length;
    }
    return out;
  }

  /** Per-token logprobs and entropies of given sequences (PPO/GRPO/DPO scoring). */
  async scoreTokens(sequences: Int32Array[]): Promise<TokenScores[]> {
    const all = await this.logits(sequences);
    return sequences.map((s, i) => {
      const n = Math.max(0, s.length - 1);
      const logprobs = new Float32Array(n);
      const entropies = new Float32Array(n);
      logprobsAndEntropy(all[i]!, s.subarray(1), n, this.vocabSize, logprobs, entropies);
      return { logprobs, entropies };
    });
  }

  /**
   * Value-head and reward-head outputs at every position of each sequence (a PPO critic's
   * values for a rollout; a reward model's score is the last position's reward).
   */
  async heads(sequences: Int32Array[]): Promise<SequenceHeads[]> {
    const { valueHead, rewardHead, dim: D } = this.config;
    if (!valueHead && !rewardHead) throw new Error("heads: the model has neither a value nor a reward head");
    const caches = sequences.map(() => this.newCache());
    this.stepSync(caches, sequences, true);
    const N = sequences.reduce((a, s) => a + s.length, 0);
    const hf = this.#scratch("hf", N * D);
    const run = (w: Arr | undefined, b: Arr | undefined): Float32Array | undefined => {
      if (w === undefined || b === undefined) return undefined;
      const out = this.#scratch("head", N);
      scalarHeadForward(out, hf, w, b, N, D);
      return Float32Array.from(out);
    };
    const values = run(this.p.valueW, this.p.valueB);
    const rewards = run(this.p.rewardW, this.p.rewardB);
    let row = 0;
    return sequences.map((s) => {
      const at = row;
      row += s.length;
      return { values: values?.slice(at, row), rewards: rewards?.slice(at, row) };
    });
  }

  /**
   * Appends tokens to each cache and returns logits for the last new position of each row
   * (or for every new position when `allPositions`), as float32 row-major.
   */
  stepSync(caches: KvCache[], tokens: Int32Array[], allPositions: boolean): Float32Array {
    if (caches.length !== tokens.length)
      throw new RangeError(`step: ${caches.length} caches but ${tokens.length} token rows`);
    const c = this.config;
    const k = this.kernel;
    const { dim: D, headDim: hd, nHeads: H, nKvHeads: KH, ffnDim: F, vocabSize: V } = c;
    let N = 0;
    for (let r = 0; r < tokens.length; r++) {
      const t = tokens[r]!;
      const cache = caches[r]!;
      if (t.length === 0) throw new RangeError(`step: row ${r} has no tokens`);
      if (cache.len + t.length > this.maxSeqLen)
        throw new RangeError(
          `step: row ${r} would hold ${cache.len + t.length} tokens, over maxSeqLen ${this.maxSeqLen}`,
        );
      N += t.length;
    }
    const ids = new Int32Array(N);
    const pos = new Int32Array(N);
    const rowOf = new Int32Array(N);
    let n = 0;
    for (let r = 0; r < tokens.length; r++) {
      const t = tokens[r]!;
      for (let i = 0; i < t.length; i++) {
        const id = t[i]!;
        if (!(id >= 0 && id < V))
          throw new RangeError(`step: token id ${id} in row ${r} is outside [0, ${V})`);
        ids[n] = id;
        pos[n] = caches[r]!.len + i;
        rowOf[n] = r;
        n++;
      }
    }
    const x = this.#scratch("x", N * D);
    const h = this.#scratch("h", N * D);
    const r1 = this.#scratch("r", N);
    const q = this.#scratch("q", N * H * hd);
    const kk = this.#scratch("k", N * KH * hd);
    const vv = this.#scratch("v", N * KH * hd);
    const att = this.#scratch("att", N * H * hd);
    const o = this.#scratch("o", N * D);
    const gate = this.#scratch("gate", N * F);
    const up = this.#scratch("up", N * F);
    const p = this.p;
    embeddingForward(x, ids, p.embed, N, D);
    const ks = KH * hd;
    for (let l = 0; l < c.nLayers; l++) {
      const w = p.layers[l]!;
      if (!k.rmsnormForward?.(h, r1, x, w.attnNorm, N, D, c.normEps))
        rmsnormForward(h, r1, x, w.attnNorm, N, D, c.normEps);
      linearForwardMany(k, h, N, D, [
        { out: q, W: w.wq, outDim: H * hd },
        { out: kk, W: w.wk, outDim: ks },
        { out: vv, W: w.wv, outDim: ks },
      ]);
      if (w.bq !== undefined) {
        biasForward(q, w.bq, N, H * hd);
        biasForward(kk, w.bk!, N, ks);
        biasForward(vv, w.bv!, N, ks);
      }
      this.#rotate(q, pos, N, H, 1);
      this.#rotate(kk, pos, N, KH, 1);
      for (let i = 0; i < N; i++) {
        const cache = caches[rowOf[i]!]!;
        cache.k[l]!.set(kk.subarray(i * ks, i * ks + ks), pos[i]! * ks);
        cache.v[l]!.set(vv.subarray(i * ks, i * ks + ks), pos[i]! * ks);
      }
      this.#cachedAttention(l, caches, tokens, pos, q, kk, vv, att);
      linearForward(k, o, att, w.wo, N, H * hd, D);
      if (!k.add?.(x, x, o, N * D)) residualForward(x, x, o, N * D);
      if (!k.rmsnormForward?.(h, r1, x, w.mlpNorm, N, D, c.normEps))
        rmsnormForward(h, r1, x, w.mlpNorm, N, D, c.normEps);
      linearForwardMany(k, h, N, D, [
        { out: gate, W: w.wGate, outDim: F },
        { out: up, W: w.wUp, outDim: F },
      ]);
      if (!k.swigluForward?.(gate, gate, up, N * F)) swigluForward(gate, gate, up, N * F);
      linearForward(k, o, gate, w.wDown, N, F, D);
      if (!k.add?.(x, x, o, N * D)) residualForward(x, x, o, N * D);
    }
    for (let r = 0; r < tokens.length; r++) caches[r]!.len += tokens[r]!.length;
    // Only the rows whose logits are wanted go through the final norm and the head.
    let rows: number;
    if (allPositions) rows = N;
    else {
      rows = tokens.length;
      let end = 0;
      // Row r's last token sits at end−1 ≥ r, so compacting upwards never overwrites a source.
      for (let r = 0; r < tokens.length; r++) {
        end += tokens[r]!.length;
        x.copyWithin(r * D, (end - 1) * D, end * D);
      }
    }
    const hf = this.#scratch("hf", rows * D);
    if (!k.rmsnormForward?.(hf, r1, x, p.finalNorm, rows, D, c.normEps))
      rmsnormForward(hf, r1, x, p.finalNorm, rows, D, c.normEps);
    const logits = this.#scratch("logits", rows * V);
    linearForward(k, logits, hf, this.#lmHead(p), rows, D, V);
    return Float32Array.from(logits);
  }

  /**
   * Attention of the step's new tokens over their caches. A row that starts from an empty
   * cache (a prompt's prefill, or a whole sequence scored at once) is plain causal attention
   * over its own tokens: the kernel's, as in training. A row that extends a cache (decoding)
   * attends over the cached keys one query at a time.
   */
  #cachedAttention(
    l: number,
    caches: KvCache[],
    tokens: Int32Array[],
    pos: Int32Array,
    q: Arr,
    kk: Arr,
    vv: Arr,
    att: Arr,
  ): void {
    const { headDim: hd, nHeads: H, nKvHeads: KH } = this.config;
    let start = 0;
    for (let r = 0; r < tokens.length; r++) {
      const T = tokens[r]!.length;
      if (caches[r]!.len === 0 && T > 1) {
        const probs = this.#scratch("probs", H * T * T);
        this.kernel.attentionForward(
          { batch: 1, T, heads: H, kvHeads: KH, headDim: hd },
          att.subarray(start * H * hd, (start + T) * H * hd),
          probs,
          q.subarray(start * H * hd, (start + T) * H * hd),
          kk.subarray(start * KH * hd, (start + T) * KH * hd),
          vv.subarray(start * KH * hd, (start + T) * KH * hd),
        );
      } else for (let i = start; i < start + T; i++) this.#attendCached(l, caches[r]!, pos[i]!, q, att, i);
      start += T;
    }
  }

  /** One query (token i at position `upto`) against every cached key up to its own. */
  #attendCached(l: number, cache: KvCache, upto: number, q: Arr, att: Arr, i: number): void {
    const { headDim: hd, nHeads: H, nKvHeads: KH } = this.config;
    const ks = KH * hd;
    const group = H / KH;
    const scale = 1 / Math.sqrt(hd);
    const scores = this.#scores;
    const ck = cache.k[l]!;
    const cv = cache.v[l]!;
    for (let hh = 0; hh < H; hh++) {
      const qo = i * H * hd + hh * hd;
      const kh = Math.floor(hh / group) * hd;
      let max = -Infinity;
      for (let j = 0; j <= upto; j++) {
        const ko = j * ks + kh;
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[qo + d]! * ck[ko + d]!;
        s *= scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j <= upto; j++) {
        const e = Math.exp(scores[j]! - max);
        scores[j] = e;
        sum += e;
      }
      att.fill(0, qo, qo + hd);
      for (let j = 0; j <= upto; j++) {
        const pj = scores[j]! / sum;
        const vo = j * ks + kh;
        for (let d = 0; d < hd; d++) att[qo + d] = att[qo + d]! + pj * cv[vo + d]!;
      }
    }
  }
}
