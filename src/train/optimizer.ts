// AdamW whose whole state (moments and step count) can be saved and restored, so a run
// resumed from a checkpoint takes exactly the updates an uninterrupted run takes. Same
// update rule as model/optim.ts (which keeps its step count private); decay applies to the
// entries paramLayout marks as matrices.
import type { Decoder } from "../model/decoder.ts";
import type { Arr } from "../model/kernels/types.ts";
import { gradNorm } from "../model/optim.ts";
import { paramLayout } from "../model/params.ts";

export interface OptimizerOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  gradClip: number;
}

export const DEFAULT_OPTIMIZER: OptimizerOptions = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.0,
  gradClip: 1,
};

export class TrainOptimizer {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly options: OptimizerOptions;
  readonly #decay: Uint8Array;
  t = 0;

  constructor(model: Decoder, options: Partial<OptimizerOptions> = {}) {
    this.options = { ...DEFAULT_OPTIMIZER, ...options };
    const n = model.params.length;
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
    this.#decay = new Uint8Array(n);
    for (const e of paramLayout(model.config).entries)
      if (e.decay) this.#decay.fill(1, e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
  }

  /** One update; returns the gradient norm before clipping. */
  step(params: Arr, grads: Arr, lr = this.options.lr): number {
    const { beta1, beta2, eps, weightDecay, gradClip } = this.options;
    const norm = gradNorm(grads);
    const clip = gradClip > 0 && norm > gradClip ? gradClip / norm : 1;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    const { m, v } = this;
    const decay = this.#decay;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i]! * clip;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      const wd = decay[i] === 1 ? weightDecay * params[i]! : 0;
      params[i] = params[i]! - lr * (mi / bc1 / (Math.sqrt(vi / bc2) + eps) + wd);
    }
    return norm;
  }
}

/** Warmup then cosine to `minRatio`·lr over `total` steps. */
export function scheduledLr(step: number, lr: number, warmup: number, total: number, minRatio = 0.1): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  if (step >= total) return lr * minRatio;
  const r = (step - warmup) / Math.max(1, total - warmup);
  return lr * (minRatio + 0.5 * (1 - minRatio) * (1 + Math.cos(Math.PI * r)));
}
