// The trainers' optimizer is the engine's AdamW (model/optim.ts), so every trainer takes the
// kernel's fused update (WASM SIMD or native) instead of a TypeScript loop. Its whole state —
// both moments and the step count — is saved in checkpoints and restored (train/rundir.ts),
// so a resumed run takes exactly the updates an uninterrupted run takes.
import type { Decoder } from "../model/decoder.ts";
import { AdamW, type AdamWOptions } from "../model/optim.ts";

export type OptimizerOptions = Required<AdamWOptions>;

/** The trainers' defaults: no weight decay unless the config asks (the engine's AdamW defaults to 0.1). */
export const DEFAULT_OPTIMIZER: OptimizerOptions = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.0,
  gradClip: 1,
};

export type TrainOptimizer = AdamW;

/** AdamW over `model`'s parameters with the trainers' defaults under `options`. */
export function trainOptimizer(model: Decoder, options: Partial<OptimizerOptions> = {}): AdamW {
  return new AdamW(model, { ...DEFAULT_OPTIMIZER, ...options });
}

/** Warmup then cosine to `minRatio`·lr over `total` steps. */
export function scheduledLr(step: number, lr: number, warmup: number, total: number, minRatio = 0.1): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  if (step >= total) return lr * minRatio;
  const r = (step - warmup) / Math.max(1, total - warmup);
  return lr * (minRatio + 0.5 * (1 - minRatio) * (1 + Math.cos(Math.PI * r)));
}
