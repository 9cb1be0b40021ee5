// Supervised fine-tuning: next-token cross-entropy on the response tokens only (prompt and
// padding masked out), mean over the batch's response tokens, AdamW with warmup + cosine.
import type { Decoder } from "../model/decoder.ts";
import { Rng } from "../model/rng.ts";
import type { Tokenizer } from "../model/types.ts";
import {
  type Block,
  type Encoded,
  encodeExample,
  type PromptResponse,
  padBlock,
  padIdOf,
  widthBuckets,
} from "./data.ts";
import { type EvalHook, mixSeed, type StepMetrics, trainLoop } from "./loop.ts";
import { type OptimizerOptions, scheduledLr, trainOptimizer } from "./optimizer.ts";
import type { RunDir } from "./rundir.ts";

export interface SftOptions {
  steps: number;
  batchSize: number;
  lr: number;
  warmup: number;
  seed: number;
  /** Evaluate on the eval set every this many steps (0 = never). */
  evalEvery: number;
  checkpointEvery: number;
  optimizer?: Partial<OptimizerOptions>;
}

/**
 * Masked cross-entropy of one block, written as dLogits (the gradient of the token-mean
 * loss) from the decoder's logits. Returns the summed loss and the number of response tokens.
 */
export function maskedCrossEntropy(
  dLogits: Float32Array | undefined,
  logits: ArrayLike<number>,
  block: Block,
  V: number,
  /** The token count gradients are averaged over (default: this block's; a micro-batch passes its batch's). */
  over?: number,
): { sum: number; count: number } {
  let count = 0;
  for (let n = 0; n < block.weights.length; n++) count += block.weights[n]!;
  const norm = over ?? count;
  let sum = 0;
  const N = block.batch * block.T;
  for (let n = 0; n < N; n++) {
    const w = block.weights[n]!;
    const o = n * V;
    if (w === 0) {
      dLogits?.fill(0, o, o + V);
      continue;
    }
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[o + v]! - max);
    const lse = max + Math.log(z);
    const t = block.targets[n]!;
    sum += w * (lse - logits[o + t]!);
    if (dLogits !== undefined) {
      const scale = w / norm;
      for (let v = 0; v < V; v++) dLogits[o + v] = Math.exp(logits[o + v]! - lse) * scale;
      dLogits[o + t] = dLogits[o + t]! - scale;
    }
  }
  return { sum, count };
}

/**
 * The block's loss positions (weight ≠ 0) and the block cut down to them, as one row: the
 * decoder runs its LM head on those positions only (a judge's answer is 3 of ~60 tokens).
 */
export function lossRows(block: Block): { rows: Int32Array; block: Block } {
  const idx: number[] = [];
  block.weights.forEach((w, n) => {
    if (w !== 0) idx.push(n);
  });
  const rows = Int32Array.from(idx);
  return {
    rows,
    block: {
      batch: 1,
      T: rows.length,
      inputs: Int32Array.from(rows, (n) => block.inputs[n]!),
      targets: Int32Array.from(rows, (n) => block.targets[n]!),
      weights: Float32Array.from(rows, (n) => block.weights[n]!),
    },
  };
}

/** Token-mean response loss of `examples`, evaluated in chunks without touching gradients. */
export function evalLoss(
  model: Decoder,
  tokenizer: Tokenizer,
  examples: readonly Encoded[],
  chunk = 32,
): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < examples.length; i += chunk) {
    const block = padBlock(examples.slice(i, i + chunk), padIdOf(tokenizer));
    const at = lossRows(block);
    const out = model.forward(block.inputs, block.batch, block.T, at.rows);
    const r = maskedCrossEntropy(undefined, out.logits, at.block, model.vocabSize);
    sum += r.sum;
    count += r.count;
  }
  return count === 0 ? 0 : sum / count;
}

/**
 * Gradients of the batch's mean response loss, accumulated over micro-batches of similar
 * length (train/data.ts widthBuckets): padding every example to the batch's longest cost more
 * than the tokens when prompts differ in length (a judge's question vs a terse prompt).
 */
export function accumulateGrads(
  model: Decoder,
  batch: readonly Encoded[],
  padId: number,
): { sum: number; count: number; padded: number } {
  let count = 0;
  for (const e of batch) for (let t = 1; t < e.ids.length; t++) count += e.loss[t]!;
  model.zeroGrad();
  const widths = batch.map((e) => e.ids.length - 1);
  const all = batch.map((_, i) => i);
  let sum = 0;
  let padded = 0;
  for (const rows of widthBuckets(widths, all, batch.length)) {
    const block = padBlock(
      rows.map((r) => batch[r]!),
      padId,
    );
    const at = lossRows(block);
    const out = model.forward(block.inputs, block.batch, block.T, at.rows);
    const dLogits = new Float32Array(out.logits.length);
    sum += maskedCrossEntropy(dLogits, out.logits, at.block, model.vocabSize, Math.max(1, count)).sum;
    model.backward(dLogits);
    padded += block.batch * block.T;
  }
  return { sum, count, padded };
}

export interface SftRun {
  model: Decoder;
  tokenizer: Tokenizer;
  train: readonly PromptResponse[];
  eval?: readonly PromptResponse[] | undefined;
  options: SftOptions;
  runDir?: RunDir | undefined;
  onStep?: ((step: number, metrics: StepMetrics) => void) | undefined;
  /** Evaluations between steps, beside the eval loss (see LoopOptions.evaluate). */
  evaluate?: EvalHook | undefined;
}

export async function trainSft(run: SftRun): Promise<{ trainLoss: number; evalLoss: number | undefined }> {
  const { model, tokenizer, options } = run;
  const maxLen = model.maxSeqLen;
  const train = run.train.map((e) => encodeExample(tokenizer, e, maxLen + 1));
  const evalSet = run.eval?.map((e) => encodeExample(tokenizer, e, maxLen + 1));
  const opt = trainOptimizer(model, { lr: options.lr, ...options.optimizer });
  let lastEval: number | undefined;
  const result = await trainLoop(
    model,
    opt,
    {
      steps: options.steps,
      checkpointEvery: options.checkpointEvery,
      runDir: run.runDir,
      label: "sft",
      tokenizer,
      onStep: run.onStep,
      evaluate: run.evaluate,
    },
    async (step) => {
      const t0 = performance.now();
      const rng = new Rng(mixSeed(options.seed, step));
      const batch = Array.from(
        { length: options.batchSize },
        () => train[Math.floor(rng.next() * train.length)]!,
      );
      const { sum, count, padded } = accumulateGrads(model, batch, padIdOf(tokenizer));
      const lr = scheduledLr(step, options.lr, options.warmup, options.steps);
      const gradNorm = opt.step(model.params, model.grads, lr);
      const secs = (performance.now() - t0) / 1000;
      const metrics: StepMetrics = {
        loss: count === 0 ? 0 : sum / count,
        lr,
        grad_norm: gradNorm,
        tokens: count,
        tokens_per_s: padded / secs,
      };
      const last = step + 1 === options.steps;
      if (
        evalSet !== undefined &&
        evalSet.length > 0 &&
        ((options.evalEvery > 0 && (step + 1) % options.evalEvery === 0) || last)
      ) {
        lastEval = evalLoss(model, tokenizer, evalSet);
        metrics["eval_loss"] = lastEval;
      }
      return metrics;
    },
  );
  const trainLoss = typeof result.last?.["loss"] === "number" ? result.last["loss"] : Number.NaN;
  return { trainLoss, evalLoss: lastEval };
}
