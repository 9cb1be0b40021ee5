// The step loop every trainer shares: resume from the run directory's newest checkpoint,
// run the remaining steps, append one metrics line per finished step, checkpoint every N
// steps and at the end, save the final model in the Hugging Face layout, and show progress
// on a terminal. Each trainer derives all its
// randomness from (seed, step), so resuming from step k replays exactly what an
// uninterrupted run does after step k.
import { Progress } from "../io/progress.ts";
import type { Decoder } from "../model/decoder.ts";
import type { Arr } from "../model/kernels/types.ts";
import type { Tokenizer } from "../model/types.ts";
import type { TrainOptimizer } from "./optimizer.ts";
import { type RunDir, saveModel } from "./rundir.ts";

export type StepMetrics = Record<string, number | string | Record<string, number>>;

export interface LoopOptions {
  steps: number;
  /** Checkpoint every this many steps (0 = only at the end). */
  checkpointEvery: number;
  runDir?: RunDir | undefined;
  /**
   * With a runDir, the model is saved to <runDir>/model at the end in the Hugging Face layout
   * (saveModel) with this tokenizer's files — also when a resumed run had no steps left.
   */
  tokenizer?: Tokenizer | undefined;
  /** Continue from the newest checkpoint in runDir when there is one. Default true. */
  resume?: boolean | undefined;
  label: string;
  /** Scalars the step function may change (e.g. an adaptive KL coefficient); saved with checkpoints. */
  scalars?: Record<string, number>;
  onStep?: ((step: number, metrics: StepMetrics) => void) | undefined;
  /** Other trained models (e.g. a separate PPO critic) checkpointed and restored with the main one. */
  companions?: readonly Companion[] | undefined;
  /**
   * An evaluation run after every `every` steps and after the last, before the step's metrics
   * are written: its figures land in the metrics line under `eval`, so a resumed run has
   * every finished evaluation and redoes only those of the steps it redoes.
   */
  evaluate?: EvalHook | undefined;
}

export interface EvalHook {
  every: number;
  run: (step: number) => Promise<Record<string, unknown>>;
}

export interface Companion {
  name: string;
  model: Decoder;
  opt: TrainOptimizer;
}

function companionArrays(companions: readonly Companion[]): Record<string, Arr> {
  const out: Record<string, Arr> = {};
  for (const c of companions) {
    out[`${c.name}_params`] = c.model.params;
    out[`${c.name}_adam_m`] = c.opt.m;
    out[`${c.name}_adam_v`] = c.opt.v;
  }
  return out;
}

export interface LoopResult {
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  last: StepMetrics | undefined;
  scalars: Record<string, number>;
}

export async function trainLoop(
  model: Decoder,
  opt: TrainOptimizer,
  options: LoopOptions,
  step: (index: number, scalars: Record<string, number>) => Promise<StepMetrics>,
): Promise<LoopResult> {
  const { runDir } = options;
  let scalars = { ...options.scalars };
  let start = 0;
  if (runDir !== undefined && options.resume !== false) {
    const latest = runDir.latest();
    if (latest !== undefined) {
      const companions = options.companions ?? [];
      const sizes: Record<string, number> = {};
      for (const c of companions)
        for (const k of ["params", "adam_m", "adam_v"]) sizes[`${c.name}_${k}`] = c.model.params.length;
      const { state, extra } = runDir.loadCheckpoint(latest.dir, model, opt, sizes);
      start = state.step;
      scalars = { ...scalars, ...state.scalars };
      for (const c of companions) {
        c.model.params.set(extra[`${c.name}_params`]!);
        c.opt.m.set(extra[`${c.name}_adam_m`]!);
        c.opt.v.set(extra[`${c.name}_adam_v`]!);
        c.opt.t = scalars[`${c.name}_opt_t`] ?? 0;
      }
    }
    runDir.truncateMetrics(start);
  }
  const progress = new Progress(options.label, { total: options.steps });
  progress.add(start);
  let last: StepMetrics | undefined;
  for (let i = start; i < options.steps; i++) {
    const t0 = performance.now();
    const metrics = await step(i, scalars);
    metrics["step_s"] = (performance.now() - t0) / 1000;
    last = metrics;
    const ev = options.evaluate;
    const evaluation =
      ev !== undefined && ((ev.every > 0 && (i + 1) % ev.every === 0) || i + 1 === options.steps)
        ? await ev.run(i + 1)
        : undefined;
    runDir?.appendMetrics({
      step: i + 1,
      ...metrics,
      ...(evaluation === undefined ? {} : { eval: evaluation }),
    });
    options.onStep?.(i + 1, metrics);
    // A step's awaits resolve as microtasks: without a turn of the event loop, timers (a seed
    // process watching for its parent's death, progress) would wait for the whole run.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const done = i + 1 === options.steps;
    if (
      runDir !== undefined &&
      (done || (options.checkpointEvery > 0 && (i + 1) % options.checkpointEvery === 0))
    ) {
      const companions = options.companions ?? [];
      for (const c of companions) scalars[`${c.name}_opt_t`] = c.opt.t;
      runDir.saveCheckpoint(model, opt, { step: i + 1, scalars }, companionArrays(companions));
    }
    progress.add();
  }
  progress.done();
  if (runDir !== undefined && options.tokenizer !== undefined)
    saveModel(runDir.modelDir, model, options.tokenizer);
  return { resumedFrom: start, last, scalars };
}

/** A deterministic 32-bit seed from a run seed and small integers (step, index, ...). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = (h ^ (h >>> 12)) >>> 0;
  }
  return h >>> 0;
}
