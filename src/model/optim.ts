// AdamW over the decoder's contiguous parameter buffer, with global-norm gradient clipping
// and a warmup + cosine learning-rate schedule (nanoGPT's recipe).
import type { Decoder } from "./decoder.ts";
import type { Arr, Kernel } from "./kernels/types.ts";
import { paramLayout } from "./params.ts";

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value; 0 or undefined disables. */
  gradClip?: number;
}

export interface LrSchedule {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** Linear warmup to maxLr, then cosine decay to minLr at totalSteps (held after). */
export function cosineLr(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / s.warmupSteps;
  if (step >= s.totalSteps) return s.minLr;
  const ratio = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.maxLr - s.minLr);
}

export function gradNorm(grads: Arr): number {
  let ss = 0;
  for (let i = 0; i < grads.length; i++) ss += grads[i]! * grads[i]!;
  return Math.sqrt(ss);
}

export class AdamW {
  readonly m: Arr;
  readonly v: Arr;
  /** 1 where weight decay applies (matrices), 0 for norms and biases. */
  readonly #decay: Arr;
  readonly #kernel: Kernel;
  /**
   * Updates taken so far (the bias corrections depend on it). Public so a training
   * checkpoint can save and restore it with the moments: a resumed run then takes exactly
   * the updates an uninterrupted one takes.
   */
  t = 0;
  readonly options: Required<AdamWOptions>;

  constructor(model: Decoder, options: AdamWOptions = {}) {
    this.options = {
      lr: options.lr ?? 1e-3,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.95,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0.1,
      gradClip: options.gradClip ?? 1,
    };
    const n = model.params.length;
    // In the kernel's memory, so a kernel with an AdamW fast path updates in place.
    this.#kernel = model.kernel;
    this.m = model.kernel.alloc(n);
    this.v = model.kernel.alloc(n);
    this.#decay = model.kernel.alloc(n);
    for (const e of paramLayout(model.config).entries) {
      if (e.decay) this.#decay.fill(1, e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
    }
  }

  get stepCount(): number {
    return this.t;
  }

  /** One update of `params` from `grads`; returns the gradient norm before clipping. */
  step(params: Arr, grads: Arr, lr = this.options.lr): number {
    const { beta1, beta2, eps, weightDecay, gradClip } = this.options;
    const k = this.#kernel;
    const ss = k.sumSquares?.(grads);
    const norm = ss === undefined ? gradNorm(grads) : Math.sqrt(ss);
    const clip = gradClip > 0 && norm > gradClip ? gradClip / norm : 1;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    const h = { lr, beta1, beta2, eps, weightDecay, clip, bc1, bc2 };
    if (k.adamw?.(params, grads, this.m, this.v, this.#decay, h)) return norm;
    const m = this.m;
    const v = this.v;
    const decay = this.#decay;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i]! * clip;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      const wd = weightDecay * decay[i]! * params[i]!;
      params[i] = params[i]! - lr * (mi / bc1 / (Math.sqrt(vi / bc2) + eps) + wd);
    }
    return norm;
  }
}
