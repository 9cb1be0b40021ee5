// One PPO run of the experiment: from the SFT model, with one reward function and one prompt
// stream, evaluated on the held-out set every `evalEvery` steps (gold accuracy, the run's
// own proxy score on the same answers, sample diversity). Everything lands in the run's
// metrics.jsonl through the training loop, so a killed run resumes and keeps its evaluations.
import { join } from "node:path";
import type { z } from "zod";
import type { RewardFn, Task } from "../core/schemas.ts";
import { pairwiseEditDistances } from "../metrics/diversity.ts";
import type { Decoder } from "../model/decoder.ts";
import type { Kernel } from "../model/kernels/types.ts";
import type { Tokenizer } from "../model/types.ts";
import { promptsByStep } from "../schedule/sampler.ts";
import { paperScheduleFor } from "../schedule/schedule.ts";
import { loadDecoder } from "../train/models.ts";
import { DEFAULT_RL, trainRl } from "../train/ppo.ts";
import { RunDir } from "../train/rundir.ts";
import type { SeedConfig } from "./config.ts";
import { goldByDomain, MAX_RESPONSE_TOKENS, sampleK, scoreResponses } from "./policy.ts";
import { EvalPoint, type RunCurve } from "./results.ts";

export interface PpoRunSpec {
  name: string;
  description: string;
  tasks: readonly Task[];
  reward: RewardFn;
  /** Math and code first (the paper's curriculum) instead of uniform sampling. */
  curriculum: boolean;
}

export interface PpoContext {
  config: SeedConfig;
  dir: string;
  sftDir: string;
  kernel: Kernel;
  tokenizer: Tokenizer;
  /** Original prompts (in every run's training set; stages/ppo.ts takes a fixed sample): gold and proxy are measured here. */
  trainEvalTasks: readonly Task[];
  /** Held-out prompts. */
  evalTasks: readonly Task[];
  diversityTasks: readonly Task[];
  gold: RewardFn;
  /**
   * The decoder of a role, loaded from the SFT model as it was saved (default: a new one per
   * run). A seed's runs share one per role (stages/ppo.ts): the WASM kernel's memory only
   * grows, and eight runs × three fresh decoders with their training buffers outgrow it.
   */
  load?: ((role: "policy" | "reference" | "critic", heads: { valueHead: boolean }) => Decoder) | undefined;
}

/** What an evaluation records under `eval` in metrics.jsonl (read back through this schema). */
const EvalFigures = EvalPoint.pick({
  gold: true,
  heldout: true,
  proxy: true,
  proxyErrors: true,
  maxEditDistance: true,
});
type EvalFigures = z.infer<typeof EvalFigures>;

/** Samples per prompt at each evaluation (temperature 1: the policy RL optimises). */
export const EVAL_SAMPLES = 2;

async function sampledGold(
  policy: Decoder,
  ctx: PpoContext,
  tasks: readonly Task[],
  k: number,
  seed: number,
): Promise<{ tasks: Task[]; responses: string[]; gold: number[] }> {
  const samples = await sampleK(policy, ctx.tokenizer, tasks, k, seed);
  const expanded = tasks.flatMap((t) => Array.from({ length: k }, () => t));
  const responses = samples.flat();
  return { tasks: expanded, responses, gold: await scoreResponses(ctx.gold, expanded, responses) };
}

/**
 * Expected gold and proxy reward of the policy's samples (Gao et al. measure the policy's
 * samples, not greedy answers: RL sharpens the sampling distribution, and hacking shows up as
 * samples the proxy likes and gold does not). Every evaluation uses the same seeds, so
 * successive points differ by the policy only.
 */
async function evaluate(policy: Decoder, ctx: PpoContext, reward: RewardFn): Promise<EvalFigures> {
  const seed = ctx.config.seed;
  const train = await sampledGold(policy, ctx, ctx.trainEvalTasks, EVAL_SAMPLES, seed + 505);
  const held = await sampledGold(policy, ctx, ctx.evalTasks, ctx.config.ppo.heldoutSamples, seed + 606);
  const proxy = await scoreResponses(reward, train.tasks, train.responses);
  const valid = proxy.filter((x) => Number.isFinite(x));
  const proxyErrors = proxy.length - valid.length;
  const spread = (await sampleK(policy, ctx.tokenizer, ctx.diversityTasks, 4, seed + 707)).map(
    (s) => pairwiseEditDistances(s).max,
  );
  return {
    gold: goldByDomain(train.tasks, train.gold),
    heldout: goldByDomain(held.tasks, held.gold),
    proxy: valid.reduce((a, b) => a + b, 0) / Math.max(1, valid.length),
    proxyErrors,
    maxEditDistance: spread.reduce((a, b) => a + b, 0) / Math.max(1, spread.length),
  };
}

function curriculumFor(
  spec: PpoRunSpec,
  config: SeedConfig,
): ((step: number) => readonly Task[]) | undefined {
  if (!spec.curriculum) return undefined;
  return promptsByStep(
    paperScheduleFor({
      steps: config.ppo.steps,
      stage1Fraction: config.stage1Fraction,
      batchSize: config.ppo.promptsPerStep,
      seed: config.seed,
    }),
    spec.tasks,
  );
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export async function runPpo(spec: PpoRunSpec, ctx: PpoContext): Promise<RunCurve> {
  const { config } = ctx;
  const dir = join(ctx.dir, spec.name);
  const runDir = new RunDir(dir);
  const { algorithm, critic: criticKind } = config.ppo;
  const headOnPolicy = algorithm === "ppo" && criticKind === "head";
  const load =
    ctx.load ??
    ((_role: string, heads: { valueHead: boolean }) =>
      loadDecoder(ctx.sftDir, heads, config.seed, ctx.kernel));
  const policy = load("policy", { valueHead: headOnPolicy });
  const reference = load("reference", { valueHead: false });
  // A separate critic: the SFT weights plus a fresh value head, so value-loss gradients do not
  // reshape the policy's own layers (which a small shared model does not survive well).
  const critic =
    algorithm === "ppo" && criticKind === "separate" ? load("critic", { valueHead: true }) : undefined;
  const start = await evaluate(policy, ctx, spec.reward);
  await trainRl({
    policy,
    reference,
    critic,
    tokenizer: ctx.tokenizer,
    tasks: spec.tasks,
    promptsForStep: curriculumFor(spec, config),
    reward: spec.reward,
    options: {
      ...DEFAULT_RL,
      algorithm,
      steps: config.ppo.steps,
      promptsPerStep: config.ppo.promptsPerStep,
      rolloutsPerPrompt: config.ppo.rolloutsPerPrompt,
      ppoEpochs: config.ppo.epochs ?? DEFAULT_RL.ppoEpochs,
      maxResponseTokens: MAX_RESPONSE_TOKENS,
      lr: config.ppo.lr,
      kl:
        algorithm === "grpo"
          ? { coef: config.ppo.klCoef, estimator: "k3", mode: "loss" }
          : { ...DEFAULT_RL.kl, coef: config.ppo.klCoef },
      seed: config.seed,
      checkpointEvery: config.ppo.evalEvery,
    },
    runDir,
    evaluate: {
      every: config.ppo.evalEvery,
      run: async () => ({ ...(await evaluate(policy, ctx, spec.reward)) }),
    },
  });
  // The curve is read back from metrics.jsonl: the same whether this process ran every step or resumed.
  const metrics = runDir.readMetrics();
  const trainReward = metrics.map((m) => ({
    step: num(m.step),
    reward: num(m.reward),
    entropy: num(m.entropy),
    kl: num(m.kl),
  }));
  const points: EvalPoint[] = [{ step: 0, ...start, kl: 0, entropy: trainReward[0]?.entropy ?? 0 }];
  let from = 0;
  for (const m of metrics) {
    if (m.eval === undefined) continue;
    const ev = EvalFigures.parse(m.eval);
    const step = num(m.step);
    const window = trainReward.filter((r) => r.step > from && r.step <= step);
    const avg = (f: (r: (typeof window)[number]) => number) =>
      window.reduce((a, r) => a + f(r), 0) / Math.max(1, window.length);
    points.push({ step, ...ev, kl: avg((r) => r.kl), entropy: avg((r) => r.entropy) });
    from = step;
  }
  return { name: spec.name, description: spec.description, points, trainReward, ...bestAndFinal(points) };
}

/** The best evaluation after step 0 and the last one, by held-out gold (the findings' gold). */
export function bestAndFinal(points: readonly EvalPoint[]): Pick<RunCurve, "best" | "final"> {
  const later = points.filter((p) => p.step > 0);
  const pool = later.length > 0 ? later : points;
  const best = pool.reduce((a, p) => (p.heldout.overall > a.heldout.overall ? p : a), pool[0]!);
  const last = points[points.length - 1]!;
  return {
    best: { step: best.step, gold: best.heldout.overall },
    final: { step: last.step, gold: last.heldout.overall },
  };
}
