// PPO (value-head critic, GAE) and GRPO (group-relative advantages, no critic) in one loop:
// sample rollouts from the policy, score them through the RewardFn seam, compute old-policy
// and reference logprobs, build advantages, then run PPO epochs of mini-batch updates on
// the clipped surrogate (+ clipped value loss, + KL loss when KL is not in the reward).
import type { Reward, RewardFn, Rollout, Task } from "../core/schemas.ts";
import type { Decoder } from "../model/decoder.ts";
import type { Arr } from "../model/kernels/types.ts";
import { logprobsAndEntropy } from "../model/layers.ts";
import { Rng } from "../model/rng.ts";
import { type Generation, generate } from "../model/sample.ts";
import type { Tokenizer } from "../model/types.ts";
import { widthBuckets } from "./data.ts";
import { promptIds, taskPrompt } from "./evaluate.ts";
import { type EvalHook, mixSeed, type StepMetrics, trainLoop } from "./loop.ts";
import { type OptimizerOptions, scheduledLr, trainOptimizer } from "./optimizer.ts";
import {
  adaptiveKlCoef,
  clippedSurrogate,
  clippedValueLoss,
  gae,
  groupAdvantages,
  type KlEstimator,
  klEstimate,
  klGrad,
  logprobGradToLogits,
  whiten,
} from "./rl-math.ts";
import type { RunDir } from "./rundir.ts";

export interface KlOptions {
  /** Initial coefficient β. */
  coef: number;
  estimator: KlEstimator;
  /** "reward": −β·KL per token in the reward (PPO/InstructGPT); "loss": +β·KL in the loss (GRPO). */
  mode: "reward" | "loss";
  /** Adaptive controller (Ziegler et al.): target KL per sequence and horizon in samples. */
  target?: number | undefined;
  horizon?: number | undefined;
}

export interface RlOptions {
  algorithm: "ppo" | "grpo";
  steps: number;
  promptsPerStep: number;
  rolloutsPerPrompt: number;
  maxResponseTokens: number;
  temperature: number;
  ppoEpochs: number;
  /** Sequences per mini-batch update. */
  miniBatchSize: number;
  clipEps: number;
  /** Value clipping range; 0 disables. */
  valueClipEps: number;
  vfCoef: number;
  gamma: number;
  lambda: number;
  kl: KlOptions;
  /** Whiten PPO advantages over the batch's response tokens. */
  whitenAdvantages: boolean;
  /** Standardise the batch's scores before they enter the advantages. */
  whitenRewards: boolean;
  lr: number;
  warmup: number;
  seed: number;
  checkpointEvery: number;
  optimizer?: Partial<OptimizerOptions> | undefined;
  /**
   * Run every mini-batch at the batch's full width instead of in micro-batches of similar
   * width (the same gradients, slower when prompt lengths differ; what bench:ppo compares with).
   */
  padded?: boolean | undefined;
}

export const DEFAULT_RL: Omit<RlOptions, "algorithm" | "steps"> = {
  promptsPerStep: 8,
  rolloutsPerPrompt: 4,
  maxResponseTokens: 8,
  temperature: 1,
  ppoEpochs: 2,
  miniBatchSize: 16,
  clipEps: 0.2,
  valueClipEps: 0.2,
  vfCoef: 0.1,
  gamma: 1,
  lambda: 1,
  kl: { coef: 0.05, estimator: "k1", mode: "reward" },
  whitenAdvantages: true,
  whitenRewards: false,
  lr: 5e-4,
  warmup: 0,
  seed: 1,
  checkpointEvery: 0,
};

/** One batch of rollouts laid out as padded next-token rows. */
interface RolloutBatch {
  n: number;
  T: number;
  inputs: Int32Array;
  targets: Int32Array;
  /** 1 on positions whose target is a response token (an action). */
  action: Float32Array;
  /** Row index of each sequence's first and last action position. */
  first: number[];
  last: number[];
}

function layout(prompts: number[][], gens: Generation[], padId: number, maxSeqLen: number): RolloutBatch {
  const seqs = prompts.map((p, i) => [...p, ...gens[i]!.tokens].slice(0, maxSeqLen));
  const n = seqs.length;
  const T = Math.max(1, ...seqs.map((s) => s.length - 1));
  const inputs = new Int32Array(n * T).fill(padId);
  const targets = new Int32Array(n * T).fill(padId);
  const action = new Float32Array(n * T);
  const first: number[] = [];
  const last: number[] = [];
  seqs.forEach((s, b) => {
    for (let t = 0; t + 1 < s.length; t++) {
      inputs[b * T + t] = s[t]!;
      targets[b * T + t] = s[t + 1]!;
      if (t + 1 >= prompts[b]!.length) action[b * T + t] = 1;
    }
    first.push(prompts[b]!.length - 1);
    last.push(s.length - 2);
  });
  return { n, T, inputs, targets, action, first, last };
}

/** The width row `i` needs: its positions 0..last hold tokens, the rest is padding. */
const rowWidth = (b: RolloutBatch, i: number): number => b.last[i]! + 1;

/** Rows of a [n, T] array cut to width W (their tokens all lie before W), as [rows.length, W]. */
function gatherCut<A extends Int32Array | Float32Array>(
  src: A,
  rows: readonly number[],
  T: number,
  W: number,
  make: (n: number) => A,
): A {
  const out = make(rows.length * W);
  rows.forEach((r, i) => {
    out.set(src.subarray(r * T, r * T + W), i * W);
  });
  return out;
}

/** A micro-batch: its rows, their common width, and their tokens at that width. */
interface MicroBatch {
  rows: number[];
  W: number;
  ids: Int32Array;
  targets: Int32Array;
  action: Float32Array;
}

function microBatches(
  b: RolloutBatch,
  rows: readonly number[],
  maxRows: number,
  padded = false,
): MicroBatch[] {
  const widths = Array.from({ length: b.n }, (_, i) => rowWidth(b, i));
  const buckets = padded
    ? Array.from({ length: Math.ceil(rows.length / maxRows) }, (_, k) =>
        rows.slice(k * maxRows, (k + 1) * maxRows),
      )
    : widthBuckets(widths, rows, maxRows);
  return buckets.map((mb) => {
    const W = padded ? b.T : Math.max(1, ...mb.map((r) => widths[r]!));
    return {
      rows: mb,
      W,
      ids: gatherCut(b.inputs, mb, b.T, W, (k) => new Int32Array(k)),
      targets: gatherCut(b.targets, mb, b.T, W, (k) => new Int32Array(k)),
      action: gatherCut(b.action, mb, b.T, W, (k) => new Float32Array(k)),
    };
  });
}

/** A micro-batch's action positions (k·W + t): the only ones whose logits PPO reads. */
function actionRows(mb: MicroBatch): Int32Array {
  const rows: number[] = [];
  mb.action.forEach((a, m) => {
    if (a === 1) rows.push(m);
  });
  return Int32Array.from(rows);
}

/** Log p(target) and entropy at `rows` of a micro-batch, from the logits of those rows. */
function rowLogprobs(logits: Arr, mb: MicroBatch, rows: Int32Array, V: number) {
  const lp = new Float32Array(rows.length);
  const ent = new Float32Array(rows.length);
  const targets = Int32Array.from(rows, (m) => mb.targets[m]!);
  logprobsAndEntropy(logits, targets, rows.length, V, lp, ent);
  return { lp, ent };
}

/**
 * Old-policy (or reference) log-probabilities and entropies at every action position of the
 * batch, and values everywhere when the model has a value head; 0 elsewhere.
 */
function scoreBatch(
  model: Decoder,
  b: RolloutBatch,
  chunk: number,
  padded = false,
): { logp: Float32Array; entropy: Float32Array; values: Float32Array | undefined } {
  const N = b.n * b.T;
  const logp = new Float32Array(N);
  const entropy = new Float32Array(N);
  const values = model.config.valueHead ? new Float32Array(N) : undefined;
  const all = Array.from({ length: b.n }, (_, i) => i);
  for (const mb of microBatches(b, all, chunk, padded)) {
    const rows = actionRows(mb);
    const out = model.forward(mb.ids, mb.rows.length, mb.W, rows);
    const { lp, ent } = rowLogprobs(out.logits, mb, rows, model.vocabSize);
    rows.forEach((m, i) => {
      const at = mb.rows[Math.floor(m / mb.W)]! * b.T + (m % mb.W);
      logp[at] = lp[i]!;
      entropy[at] = ent[i]!;
      if (values !== undefined && out.values !== undefined) values[at] = out.values[i]!;
    });
  }
  return { logp, entropy, values };
}

/**
 * The old policy's log-probabilities and entropies at every action position: the sampler's,
 * which are the raw (temperature-1) distribution's — the numbers a scoring pass of the
 * policy would give, up to rounding, so no second pass over the batch is run.
 */
function rolloutScores(b: RolloutBatch, prompts: readonly number[][], gens: readonly Generation[]) {
  const logp = new Float32Array(b.n * b.T);
  const entropy = new Float32Array(b.n * b.T);
  gens.forEach((g, i) => {
    const from = i * b.T + prompts[i]!.length - 1;
    const n = b.last[i]! - b.first[i]! + 1;
    if (g.logprobs === undefined || g.entropies === undefined)
      throw new Error("rollout: the sampler returned no logprobs or entropies");
    logp.set(g.logprobs.slice(0, n), from);
    entropy.set(g.entropies.slice(0, n), from);
  });
  return { logp, entropy };
}

export interface RlRun {
  policy: Decoder;
  reference: Decoder;
  /** A separate value model (config valueHead: true) for PPO; default: the policy's own value head. */
  critic?: Decoder | undefined;
  tokenizer: Tokenizer;
  tasks: readonly Task[];
  /**
   * The prompts of each step, e.g. from a curriculum (schedule/sampleSchedule); default:
   * `promptsPerStep` tasks drawn uniformly from `tasks` with a per-step seed.
   */
  promptsForStep?: ((step: number) => readonly Task[]) | undefined;
  reward: RewardFn;
  options: RlOptions;
  runDir?: RunDir | undefined;
  onStep?: ((step: number, metrics: StepMetrics) => void) | undefined;
  /** Evaluations between steps (see LoopOptions.evaluate). */
  evaluate?: EvalHook | undefined;
}

function addTo(map: Record<string, { sum: number; n: number }>, key: string, v: number): void {
  const e = map[key] ?? { sum: 0, n: 0 };
  e.sum += v;
  e.n++;
  map[key] = e;
}

function means(map: Record<string, { sum: number; n: number }>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).map(([k, e]) => [k, e.sum / e.n]));
}

/**
 * Each rollout's score and whether it has one. An `error` verdict is an infrastructure
 * failure, not a 0: that row sits out of the gradient (its action mask is cleared), of every
 * statistic built from scores (GRPO's group mean and std, reward whitening, PPO's advantage
 * whitening over the action mask) and of the reward metrics. Its score slot holds 0 only so
 * the arrays stay aligned; nothing reads it.
 */
export function scoredRows(rewards: readonly Reward[]): { valid: boolean[]; scores: number[] } {
  const valid = rewards.map((r) => r.verdict !== "error");
  return { valid, scores: rewards.map((r, i) => (valid[i] ? r.score : 0)) };
}

/** Scores standardised over the valid rows only. */
function whitenedScores(scores: readonly number[], valid: readonly boolean[]): number[] {
  const s = Float64Array.from(scores);
  whiten(
    s,
    valid.map((v) => (v ? 1 : 0)),
  );
  return Array.from(s);
}

/**
 * GRPO's per-rollout advantages from the RewardFn's rewards: group-relative over the rows
 * that have a score (see `scoredRows`); error rows and groups with fewer than two scored rows
 * get 0. `groups[i]` is rollout i's prompt.
 */
export function grpoAdvantages(
  rewards: readonly Reward[],
  groups: readonly number[],
  whitenRewards = false,
): Float64Array {
  const { valid, scores } = scoredRows(rewards);
  return groupAdvantages(whitenRewards ? whitenedScores(scores, valid) : scores, groups, { valid });
}

/** What one micro-batch's update needs from its step. */
interface UpdateInputs {
  b: RolloutBatch;
  policy: Decoder;
  critic: Decoder | undefined;
  old: { logp: Float32Array };
  ref: { logp: Float32Array };
  adv: Float64Array;
  ret: Float64Array;
  oldValues: Float32Array | undefined;
  o: RlOptions;
  beta: number;
  /** Action tokens in the whole mini-batch (each token's weight is 1/count). */
  count: number;
}

/**
 * Forward and backward of one micro-batch: the clipped surrogate (+ the KL term in loss mode)
 * into the policy's gradients, the clipped value loss into the value head's (the policy's
 * or the critic's). Gradients accumulate; the caller steps the optimizers.
 */
function microBatchGrads(mb: MicroBatch, u: UpdateInputs) {
  const { b, policy, critic, old, ref, adv, ret, oldValues, o, beta, count } = u;
  const st = { polLoss: 0, valLoss: 0, clipped: 0, vClipped: 0, approxKl: 0, tokens: 0 };
  const V = policy.vocabSize;
  const rows = actionRows(mb);
  const out = policy.forward(mb.ids, mb.rows.length, mb.W, rows);
  const { lp } = rowLogprobs(out.logits, mb, rows, V);
  const dLogp = new Float64Array(rows.length);
  const dValues = o.algorithm === "ppo" ? new Float32Array(rows.length) : undefined;
  // A separate critic runs its own forward on the same rows; values from whichever holds the head.
  const values =
    critic === undefined ? out.values : critic.forward(mb.ids, mb.rows.length, mb.W, rows).values;
  rows.forEach((m, i) => {
    const src = mb.rows[Math.floor(m / mb.W)]! * b.T + (m % mb.W);
    const sur = clippedSurrogate(lp[i]!, old.logp[src]!, adv[src]!, o.clipEps);
    st.polLoss += sur.loss;
    if (sur.clipped) st.clipped++;
    st.approxKl += old.logp[src]! - lp[i]!;
    let g = sur.grad;
    if (o.kl.mode === "loss") g += beta * klGrad(lp[i]!, ref.logp[src]!, o.kl.estimator);
    dLogp[i] = g / count;
    if (dValues !== undefined && values !== undefined) {
      const vt = clippedValueLoss(values[i]!, oldValues![src]!, ret[src]!, o.valueClipEps);
      st.valLoss += vt.loss;
      if (vt.clipped) st.vClipped++;
      dValues[i] = (o.vfCoef * vt.grad) / count;
    }
    st.tokens++;
  });
  const dLogits = new Float32Array(rows.length * V);
  logprobGradToLogits(
    dLogits,
    out.logits,
    Int32Array.from(rows, (m) => mb.targets[m]!),
    dLogp,
    rows.length,
    V,
  );
  if (critic !== undefined) {
    policy.backward(dLogits);
    critic.backward(undefined, dValues);
  } else policy.backward(dLogits, dValues);
  return st;
}

/** Runs PPO or GRPO; returns the last step's metrics. */
export async function trainRl(run: RlRun): Promise<StepMetrics | undefined> {
  const { policy, reference, tokenizer, options: o } = run;
  const critic = o.algorithm === "ppo" ? run.critic : undefined;
  if (o.algorithm === "ppo" && !(critic ?? policy).config.valueHead)
    throw new Error(
      "ppo needs a value head on the policy or on a separate critic (config valueHead: true); use grpo for no critic",
    );
  const criticOpt = critic === undefined ? undefined : trainOptimizer(critic, { lr: o.lr, ...o.optimizer });
  if (run.tasks.length === 0) throw new Error("no tasks to train on");
  const padId = tokenizer.eosId ?? 0;
  const stopIds = tokenizer.eosId === undefined ? [] : [tokenizer.eosId];
  const opt = trainOptimizer(policy, { lr: o.lr, ...o.optimizer });
  const result = await trainLoop(
    policy,
    opt,
    {
      steps: o.steps,
      checkpointEvery: o.checkpointEvery,
      runDir: run.runDir,
      label: o.algorithm,
      tokenizer,
      scalars: { kl_coef: o.kl.coef },
      onStep: run.onStep,
      evaluate: run.evaluate,
      companions:
        critic === undefined || criticOpt === undefined
          ? []
          : [{ name: "critic", model: critic, opt: criticOpt }],
    },
    async (step, scalars) => {
      const beta = scalars["kl_coef"] ?? o.kl.coef;
      // ---- Rollout ----
      const t0 = performance.now();
      const chosen: Task[] = [];
      if (run.promptsForStep !== undefined) chosen.push(...run.promptsForStep(step));
      else {
        const pick = new Rng(mixSeed(o.seed, step, 1));
        for (let i = 0; i < o.promptsPerStep; i++)
          chosen.push(run.tasks[Math.floor(pick.next() * run.tasks.length)]!);
      }
      const tasks: Task[] = [];
      const groups: number[] = [];
      chosen.forEach((t, g) => {
        for (let k = 0; k < o.rolloutsPerPrompt; k++) {
          tasks.push(t);
          groups.push(g);
        }
      });
      const prompts = tasks.map((t) => promptIds(tokenizer, taskPrompt(t)));
      const gens = await generate(
        policy,
        tokenizer,
        tasks.map((_, i) => ({
          prompt: prompts[i]!,
          params: {
            maxTokens: o.maxResponseTokens,
            temperature: o.temperature,
            seed: mixSeed(o.seed, step, 2, i),
            stopTokenIds: stopIds,
            logprobs: true,
            entropy: true,
          },
        })),
      );
      const t1 = performance.now();
      // ---- Reward ----
      const rollouts: Rollout[] = tasks.map((t, i) => ({ ...t, response: gens[i]!.text, step }));
      const rewards: Reward[] = await run.reward(rollouts);
      if (rewards.length !== rollouts.length)
        throw new Error(`reward function returned ${rewards.length} rewards for ${rollouts.length} rollouts`);
      const t2 = performance.now();
      const { valid, scores } = scoredRows(rewards);
      // ---- Score with old policy and reference ----
      const b = layout(prompts, gens, padId, policy.maxSeqLen);
      for (let i = 0; i < b.n; i++) if (!valid[i]) b.action.fill(0, i * b.T, (i + 1) * b.T);
      const old = rolloutScores(b, prompts, gens);
      const ref = scoreBatch(reference, b, o.miniBatchSize, o.padded);
      const oldValues =
        o.algorithm === "ppo" ? scoreBatch(critic ?? policy, b, o.miniBatchSize, o.padded).values : undefined;
      const t3 = performance.now();
      // ---- Advantages ----
      const N = b.n * b.T;
      const adv = new Float64Array(N);
      const ret = new Float64Array(N);
      const kl = new Float64Array(N);
      for (let n = 0; n < N; n++)
        if (b.action[n] === 1) kl[n] = klEstimate(old.logp[n]!, ref.logp[n]!, o.kl.estimator);
      if (o.algorithm === "grpo") {
        const a = grpoAdvantages(rewards, groups, o.whitenRewards);
        for (let i = 0; i < b.n; i++) adv.fill(a[i]!, i * b.T + b.first[i]!, i * b.T + b.last[i]! + 1);
      } else {
        const useScores = o.whitenRewards ? whitenedScores(scores, valid) : scores;
        for (let i = 0; i < b.n; i++) {
          if (!valid[i]) continue;
          const from = i * b.T + b.first[i]!;
          const to = i * b.T + b.last[i]! + 1;
          const r = new Float64Array(to - from);
          if (o.kl.mode === "reward") for (let t = 0; t < r.length; t++) r[t] = -beta * kl[from + t]!;
          r[r.length - 1] = r[r.length - 1]! + useScores[i]!;
          const g = gae(r, oldValues!.subarray(from, to), o.gamma, o.lambda);
          adv.set(g.advantages, from);
          ret.set(g.returns, from);
        }
        if (o.whitenAdvantages) whiten(adv, b.action);
      }
      // ---- Update: PPO epochs over shuffled mini-batches ----
      const shuffle = new Rng(mixSeed(o.seed, step, 3));
      const lr = scheduledLr(step, o.lr, o.warmup, o.steps, 1);
      let polLoss = 0;
      let valLoss = 0;
      let clipped = 0;
      let vClipped = 0;
      let tokens = 0;
      let approxKl = 0;
      let gradNorm = 0;
      let updates = 0;
      for (let epoch = 0; epoch < o.ppoEpochs; epoch++) {
        const order = Array.from({ length: b.n }, (_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(shuffle.next() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        for (let s = 0; s < b.n; s += o.miniBatchSize) {
          const rows = order.slice(s, s + o.miniBatchSize);
          let count = 0;
          for (const r of rows) for (let t = 0; t < b.T; t++) count += b.action[r * b.T + t]!;
          if (count === 0) continue;
          policy.zeroGrad();
          if (critic !== undefined) critic.zeroGrad();
          // Gradients accumulate over the micro-batches; every token is weighed by 1/count of
          // the whole mini-batch, as if it ran as one.
          for (const mb of microBatches(b, rows, rows.length, o.padded)) {
            const st = microBatchGrads(mb, {
              b,
              policy,
              critic,
              old,
              ref,
              adv,
              ret,
              oldValues,
              o,
              beta,
              count,
            });
            polLoss += st.polLoss;
            valLoss += st.valLoss;
            clipped += st.clipped;
            vClipped += st.vClipped;
            approxKl += st.approxKl;
            tokens += st.tokens;
          }
          if (critic !== undefined && criticOpt !== undefined)
            criticOpt.step(critic.params, critic.grads, lr);
          gradNorm += opt.step(policy.params, policy.grads, lr);
          updates++;
        }
      }
      const t4 = performance.now();
      // ---- Metrics and KL control ----
      const byDomain: Record<string, { sum: number; n: number }> = {};
      const bySource: Record<string, { sum: number; n: number }> = {};
      let correct = 0;
      let respLen = 0;
      let seqKl = 0;
      let entropy = 0;
      let actionTokens = 0;
      rewards.forEach((r, i) => {
        if (!valid[i]) return;
        addTo(byDomain, tasks[i]!.domain, r.score);
        addTo(bySource, r.source, r.score);
        if (r.verdict === "correct") correct++;
      });
      for (let i = 0; i < b.n; i++) {
        respLen += gens[i]!.tokens.length;
        for (let t = b.first[i]!; t <= b.last[i]!; t++) {
          const n = i * b.T + t;
          if (b.action[n] !== 1) continue;
          seqKl += kl[n]!;
          entropy += old.entropy[n]!;
          actionTokens++;
        }
      }
      const nValid = valid.filter(Boolean).length;
      const klPerSeq = seqKl / Math.max(1, nValid);
      if (o.kl.target !== undefined && o.kl.target > 0)
        scalars["kl_coef"] = adaptiveKlCoef(beta, klPerSeq, o.kl.target, b.n, o.kl.horizon ?? 10000);
      const genTokens = respLen;
      const totalTokens = b.n * b.T;
      return {
        reward: scores.reduce((a, s, i) => a + (valid[i] ? s : 0), 0) / Math.max(1, nValid),
        accuracy: correct / Math.max(1, nValid),
        reward_by_domain: means(byDomain),
        reward_by_source: means(bySource),
        reward_errors: b.n - nValid,
        kl: klPerSeq,
        kl_per_token: seqKl / Math.max(1, actionTokens),
        kl_coef: beta,
        entropy: entropy / Math.max(1, actionTokens),
        clip_frac: clipped / Math.max(1, tokens),
        approx_kl_old: approxKl / Math.max(1, tokens),
        policy_loss: polLoss / Math.max(1, tokens),
        ...(o.algorithm === "ppo"
          ? { value_loss: valLoss / Math.max(1, tokens), value_clip_frac: vClipped / Math.max(1, tokens) }
          : {}),
        grad_norm: gradNorm / Math.max(1, updates),
        response_length: respLen / b.n,
        padded_len: b.T,
        rollout_s: (t1 - t0) / 1000,
        reward_s: (t2 - t1) / 1000,
        score_s: (t3 - t2) / 1000,
        update_s: (t4 - t3) / 1000,
        rollout_tokens_per_s: genTokens / Math.max(1e-9, (t1 - t0) / 1000),
        update_tokens_per_s: (o.ppoEpochs * totalTokens) / Math.max(1e-9, (t4 - t3) / 1000),
        tokens_per_s: (genTokens + (o.ppoEpochs + 2) * totalTokens) / Math.max(1e-9, (t4 - t0) / 1000),
        lr,
      };
    },
  );
  return result.last;
}
