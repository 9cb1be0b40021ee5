// Reward models. Bradley–Terry: a scalar head read at each sequence's last token, trained on
// preference pairs with −log σ(r_chosen − r_rejected). GenRM: the same decoder as a judge
// that answers YES/NO to "is A at least as good as B?", trained as next-token prediction
// on both orders of every pair (cancelling position bias); p(YES) is the score.
import type { Decoder } from "../model/decoder.ts";
import { Rng } from "../model/rng.ts";
import type { Tokenizer } from "../model/types.ts";
import { type PreferenceRecord, type PromptResponse, widthBuckets } from "./data.ts";
import { promptIds } from "./evaluate.ts";
import { mixSeed, type StepMetrics, trainLoop } from "./loop.ts";
import { type OptimizerOptions, scheduledLr, trainOptimizer } from "./optimizer.ts";
import type { RunDir } from "./rundir.ts";
import { trainSft } from "./sft.ts";

function sequenceIds(tokenizer: Tokenizer, prompt: string, response: string, maxLen: number): number[] {
  const ids = [...promptIds(tokenizer, prompt), ...tokenizer.encode(response)];
  if (tokenizer.eosId !== undefined) ids.push(tokenizer.eosId);
  // Keep the end: the head reads the last token.
  return ids.length > maxLen ? ids.slice(ids.length - maxLen) : ids;
}

/** Scalar rewards of (prompt, response) pairs, read at each sequence's last token. */
export function rewardScores(
  model: Decoder,
  tokenizer: Tokenizer,
  items: readonly PromptResponse[],
  chunk = 32,
): number[] {
  if (!model.config.rewardHead)
    throw new Error("rewardScores: the model has no reward head (config rewardHead: true)");
  const pad = tokenizer.eosId ?? 0;
  const seqs = items.map((x) => sequenceIds(tokenizer, x.prompt, x.response, model.maxSeqLen));
  const out = new Array<number>(items.length).fill(0);
  const all = seqs.map((_, i) => i);
  for (const rows of widthBuckets(
    seqs.map((q) => q.length),
    all,
    chunk,
  )) {
    const block = padRows(
      rows.map((i) => seqs[i]!),
      pad,
    );
    const r = model.forward(block.ids, rows.length, block.T, Int32Array.from(block.last)).rewards!;
    rows.forEach((i, b) => {
      out[i] = r[b]!;
    });
  }
  return out;
}

/** Fraction of pairs whose chosen response scores above the rejected one (ties count ½). */
export function pairwiseAccuracy(
  model: Decoder,
  tokenizer: Tokenizer,
  pairs: readonly PreferenceRecord[],
): number {
  const chosen = rewardScores(
    model,
    tokenizer,
    pairs.map((p) => ({ prompt: p.prompt, response: p.chosen })),
  );
  const rejected = rewardScores(
    model,
    tokenizer,
    pairs.map((p) => ({ prompt: p.prompt, response: p.rejected })),
  );
  let acc = 0;
  for (let i = 0; i < pairs.length; i++)
    acc += chosen[i]! > rejected[i]! ? 1 : chosen[i] === rejected[i] ? 0.5 : 0;
  return acc / Math.max(1, pairs.length);
}

/** Sequences as one [rows, T] block padded to the longest, and each one's last position. */
function padRows(seqs: readonly number[][], pad: number): { ids: Int32Array; T: number; last: number[] } {
  const T = Math.max(1, ...seqs.map((q) => q.length));
  const ids = new Int32Array(seqs.length * T).fill(pad);
  seqs.forEach((q, b) => {
    ids.set(q, b * T);
  });
  return { ids, T, last: seqs.map((q, b) => b * T + q.length - 1) };
}

/**
 * Gradients of the batch's mean −log σ(r_chosen − r_rejected), seqs holding the B chosen
 * then the B rejected sequences. Pairs run in micro-batches of similar width (both sides of
 * a pair together, so each micro-batch's loss is its own): padding 64 sequences to the
 * longest left half the positions padding (measured on the main job's pairs). Outputs at
 * the last tokens only (Decoder.forward's outRows): no LM head, a last layer on 2n rows.
 */
export function pairGrads(
  model: Decoder,
  seqs: readonly number[][],
  pad: number,
): { loss: number; correct: number; margin: number } {
  const B = seqs.length / 2;
  const widths = Array.from({ length: B }, (_, i) => Math.max(seqs[i]!.length, seqs[B + i]!.length));
  const all = widths.map((_, i) => i);
  let [loss, correct, margin] = [0, 0, 0];
  for (const pairs of widthBuckets(widths, all, B)) {
    const n = pairs.length;
    const block = padRows([...pairs.map((i) => seqs[i]!), ...pairs.map((i) => seqs[B + i]!)], pad);
    // Rewards at the sequences' last tokens only: row k chosen, n + k rejected.
    const r = model.forward(block.ids, 2 * n, block.T, Int32Array.from(block.last)).rewards!;
    const dRewards = new Float32Array(2 * n);
    for (let k = 0; k < n; k++) {
      const [ci, ri] = [k, n + k];
      const d = r[ci]! - r[ri]!;
      // −log σ(d) = softplus(−d), computed stably; its derivative is −σ(−d).
      loss += d > 0 ? Math.log1p(Math.exp(-d)) : -d + Math.log1p(Math.exp(d));
      const g = -1 / (1 + Math.exp(d));
      dRewards[ci] = g / B;
      dRewards[ri] = -g / B;
      if (d > 0) correct++;
      margin += d;
    }
    model.backward(undefined, undefined, dRewards);
  }
  return { loss, correct, margin };
}

export interface RmOptions {
  steps: number;
  /** Pairs per step. */
  batchSize: number;
  lr: number;
  warmup: number;
  seed: number;
  evalEvery: number;
  checkpointEvery: number;
  optimizer?: Partial<OptimizerOptions> | undefined;
}

export interface RmRun {
  model: Decoder;
  tokenizer: Tokenizer;
  train: readonly PreferenceRecord[];
  eval?: readonly PreferenceRecord[] | undefined;
  options: RmOptions;
  runDir?: RunDir | undefined;
  onStep?: ((step: number, metrics: StepMetrics) => void) | undefined;
  /**
   * A (prompt, response) pair's token ids as the serving judge will see them (default BOS +
   * prompt + response + EOS); the head reads the last one.
   */
  encode?: ((prompt: string, response: string) => number[]) | undefined;
}

export async function trainRewardModel(run: RmRun): Promise<{ evalAccuracy: number | undefined }> {
  const { model, tokenizer, options: o } = run;
  if (!model.config.rewardHead) throw new Error("a Bradley–Terry reward model needs config rewardHead: true");
  const opt = trainOptimizer(model, { lr: o.lr, ...o.optimizer });
  const pad = tokenizer.eosId ?? 0;
  let evalAccuracy: number | undefined;
  await trainLoop(
    model,
    opt,
    {
      steps: o.steps,
      checkpointEvery: o.checkpointEvery,
      runDir: run.runDir,
      label: "rm",
      tokenizer,
      onStep: run.onStep,
    },
    async (step) => {
      const rng = new Rng(mixSeed(o.seed, step));
      const pairs = Array.from(
        { length: o.batchSize },
        () => run.train[Math.floor(rng.next() * run.train.length)]!,
      );
      // Rows 0..B−1 chosen, B..2B−1 rejected.
      const encode = (prompt: string, response: string): number[] => {
        if (run.encode === undefined) return sequenceIds(tokenizer, prompt, response, model.maxSeqLen);
        const all = run.encode(prompt, response);
        return all.length > model.maxSeqLen ? all.slice(all.length - model.maxSeqLen) : all;
      };
      const seqs = [
        ...pairs.map((p) => encode(p.prompt, p.chosen)),
        ...pairs.map((p) => encode(p.prompt, p.rejected)),
      ];
      model.zeroGrad();
      const { loss, correct, margin } = pairGrads(model, seqs, pad);
      const B = pairs.length;
      // −log σ(r_c − r_r) does not depend on the head's bias, so its true gradient is 0; the
      // summed ±g/B terms leave float rounding that AdamW would normalise into steps of size
      // lr. Held at 0, the head is exactly transformers' bias-free `score` (hf export).
      model.g.rewardB?.fill(0);
      const lr = scheduledLr(step, o.lr, o.warmup, o.steps);
      const gradNorm = opt.step(model.params, model.grads, lr);
      const metrics: StepMetrics = {
        loss: loss / B,
        accuracy: correct / B,
        margin: margin / B,
        lr,
        grad_norm: gradNorm,
      };
      const last = step + 1 === o.steps;
      if (
        run.eval !== undefined &&
        run.eval.length > 0 &&
        ((o.evalEvery > 0 && (step + 1) % o.evalEvery === 0) || last)
      ) {
        evalAccuracy = pairwiseAccuracy(model, tokenizer, run.eval);
        metrics["eval_accuracy"] = evalAccuracy;
      }
      return metrics;
    },
  );
  return { evalAccuracy };
}

// ---- GenRM ----

/**
 * How judges (src/judge, `serve-reward`) reach a model trained here with its own input
 * format. A GenRM's template file (`templates.gt` / `templates.bon`): a single user message
 * that the saved chat template renders as <bos> + this text, the judgePrompt the model was
 * trained on (judgePrompt also cuts each part to maxChars; the template does not). A BT
 * model's `format`: the sequence it was trained to score, <bos> prompt response <eos>, read
 * at its last token (the same text the chat template gives the conversation
 * [user: prompt, assistant: response]).
 */
export const TRAINED_GENRM_TEMPLATE = "{{prompt}}\nA:{{first}}\nB:{{second}}\nA>=B?";
export const TRAINED_BT_FORMAT = "<|bos|>{{prompt}}{{first}}<|eos|>";

/** The judge prompt: compact, because the procedural world's models hold few tokens. */
export function judgePrompt(prompt: string, a: string, b: string, maxChars = 64): string {
  const cut = (s: string) => (s.length > maxChars ? s.slice(0, maxChars) : s);
  return `${cut(prompt)}\nA:${cut(a)}\nB:${cut(b)}\nA>=B?`;
}

/** Both orders of every pair: (chosen, rejected) → YES, (rejected, chosen) → NO. */
export function genrmExamples(pairs: readonly PreferenceRecord[], maxChars = 64): PromptResponse[] {
  return pairs.flatMap((p) => [
    { prompt: judgePrompt(p.prompt, p.chosen, p.rejected, maxChars), response: "YES" },
    { prompt: judgePrompt(p.prompt, p.rejected, p.chosen, maxChars), response: "NO" },
  ]);
}

/**
 * p(YES) for "is `response` at least as good as `reference`", from the first answer
 * token's logits, renormalised over the two answers' first tokens.
 */
export async function genrmScores(
  model: Decoder,
  tokenizer: Tokenizer,
  items: readonly { prompt: string; response: string; reference: string }[],
  maxChars = 64,
): Promise<number[]> {
  const yes = tokenizer.encode("YES")[0]!;
  const no = tokenizer.encode("NO")[0]!;
  const seqs = items.map((x) =>
    Int32Array.from(promptIds(tokenizer, judgePrompt(x.prompt, x.response, x.reference, maxChars))),
  );
  const out: number[] = [];
  for (let s = 0; s < seqs.length; s += 32) {
    const logits = await model.logits(seqs.slice(s, s + 32));
    logits.forEach((l, j) => {
      const len = seqs[s + j]!.length;
      const row = l.subarray((len - 1) * model.vocabSize, len * model.vocabSize);
      const d = row[no]! - row[yes]!;
      out.push(1 / (1 + Math.exp(d)));
    });
  }
  return out;
}

export interface GenRmEval {
  /** Fraction of pairs where p(YES | chosen vs rejected) > p(YES | rejected vs chosen). */
  pairwiseAccuracy: number;
  /** Mean squared error of p(YES) against the 1/0 labels of both orders (Brier score). */
  brier: number;
  /** Mean of p(YES | A=x, B=y) + p(YES | A=y, B=x) − 1: 0 for a judge without position bias. */
  positionBias: number;
}

export async function evaluateGenRm(
  model: Decoder,
  tokenizer: Tokenizer,
  pairs: readonly PreferenceRecord[],
  maxChars = 64,
): Promise<GenRmEval> {
  const fwd = await genrmScores(
    model,
    tokenizer,
    pairs.map((p) => ({ prompt: p.prompt, response: p.chosen, reference: p.rejected })),
    maxChars,
  );
  const rev = await genrmScores(
    model,
    tokenizer,
    pairs.map((p) => ({ prompt: p.prompt, response: p.rejected, reference: p.chosen })),
    maxChars,
  );
  let acc = 0;
  let brier = 0;
  let bias = 0;
  for (let i = 0; i < pairs.length; i++) {
    acc += fwd[i]! > rev[i]! ? 1 : fwd[i] === rev[i] ? 0.5 : 0;
    brier += (fwd[i]! - 1) ** 2 + rev[i]! ** 2;
    bias += fwd[i]! + rev[i]! - 1;
  }
  const n = Math.max(1, pairs.length);
  return { pairwiseAccuracy: acc / n, brier: brier / (2 * n), positionBias: bias / n };
}

export interface GenRmRun {
  model: Decoder;
  tokenizer: Tokenizer;
  train: readonly PreferenceRecord[];
  eval?: readonly PreferenceRecord[] | undefined;
  options: RmOptions & { maxChars?: number };
  runDir?: RunDir | undefined;
  onStep?: ((step: number, metrics: StepMetrics) => void) | undefined;
}

/** GenRM training is SFT on the YES/NO judgements of both orders. */
export async function trainGenRm(run: GenRmRun): Promise<GenRmEval | undefined> {
  const maxChars = run.options.maxChars ?? 64;
  await trainSft({
    model: run.model,
    tokenizer: run.tokenizer,
    train: genrmExamples(run.train, maxChars),
    eval: run.eval === undefined ? undefined : genrmExamples(run.eval, maxChars),
    options: run.options,
    runDir: run.runDir,
    onStep: run.onStep,
  });
  return run.eval === undefined ? undefined : evaluateGenRm(run.model, run.tokenizer, run.eval, maxChars);
}
