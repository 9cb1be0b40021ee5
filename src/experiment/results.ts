// What the main job measured: the contracts between the stages (which write each seed's
// <run>/seed-<k>/results.json), the pooling (which writes <run>/results.json) and the report.
// zod schemas, because the report is rebuilt from these files (`datascale run --report-only`).
import { z } from "zod";

const num = z.number();
const nullableNum = z.number().nullable();
const count = z.number().int().nonnegative();

/** A model's shape and parameter count. */
const ModelSummary = z.object({
  dim: z.number().int(),
  nLayers: z.number().int(),
  nHeads: z.number().int(),
  params: z.number().int(),
});

/** Gold (verifier) score overall and per domain, with the samples behind each figure. */
export const GoldScore = z.object({
  overall: num,
  byDomain: z.record(z.string(), num),
  /** Samples scored (overall, and per domain): the n of each figure's sampling error. */
  n: count.default(0),
  nByDomain: z.record(z.string(), count).default({}),
  /** Responses whose reward was an `error` (no verdict): left out of the means above. */
  errors: count.optional(),
});
export type GoldScore = z.infer<typeof GoldScore>;

/** One evaluation of a PPO run's policy. */
export const EvalPoint = z.object({
  step: count,
  /** Gold of the policy's samples (temperature 1, fixed seeds) on the original (training) prompts. */
  gold: GoldScore,
  /** The same on the held-out prompts: the findings' gold (docs/experiment.md, the decision rule). */
  heldout: GoldScore,
  /** Mean score the run's own training reward gives the original-prompt samples (errors left out). */
  proxy: num,
  /** Of those samples, how many the training reward could not score (`error` verdicts). */
  proxyErrors: count.optional(),
  /** KL(π‖π_ref) per sequence, mean over the last training steps before this point (0 at step 0). */
  kl: num,
  /** Mean token entropy of sampled responses (nats). */
  entropy: num,
  /** Mean over prompts of the maximum pairwise edit distance (characters) among 4 samples (the paper's diversity measure). */
  maxEditDistance: num,
});
export type EvalPoint = z.infer<typeof EvalPoint>;

export const RunCurve = z.object({
  name: z.string(),
  description: z.string(),
  points: z.array(EvalPoint),
  /** Mean training reward (proxy) per training step, for the proxy-vs-step plots. */
  trainReward: z.array(z.object({ step: z.number().int(), reward: num, entropy: num, kl: num })),
  /** The best evaluation after step 0 (the paper reports the best checkpoint) and the last, by held-out gold. */
  best: z.object({ step: z.number().int(), gold: num }),
  final: z.object({ step: z.number().int(), gold: num }),
});
export type RunCurve = z.infer<typeof RunCurve>;

export const SensitivityCurve = z.object({
  source: z.string(),
  bins: z.array(z.object({ lo: num, hi: num, pairs: count, meanGap: nullableNum, separated: nullableNum })),
  /** Pairs with normalised edit distance < 0.2: their gaps' mean and standard deviation. */
  near: z.object({ pairs: count, meanGap: num, sdGap: num }),
});
export type SensitivityCurve = z.infer<typeof SensitivityCurve>;

export const SelectionDomain = z.object({
  domain: z.string(),
  /** Prompts of this domain in the new pool, and how many the selection kept. */
  pool: count,
  kept: count,
  /** Whether the domain is filtered (math and code are kept whole). */
  filtered: z.boolean(),
  meanScore: num,
  /** Share of the domain's pool scoring above 0.5 (the paper: ≈90% of new prompts did). */
  aboveHalf: num,
  /** Mean SFT gold of the K samples on the kept prompts vs on the whole pool: selection should pick hard ones. */
  goldKept: nullableNum,
  goldPool: nullableNum,
});
export type SelectionDomain = z.infer<typeof SelectionDomain>;

export const Selection = z.object({
  keep: num,
  samples: z.number().int(),
  normalisation: z.string(),
  domains: z.array(SelectionDomain),
});
export type Selection = z.infer<typeof Selection>;

/** The judges' quality on held-out data, with the items behind each figure. */
export const JudgeQuality = z.object({
  sft: GoldScore,
  /** Bradley–Terry pairwise accuracy against the gold ordering (ties ½). */
  bt: z.object({ accuracy: num, pairs: count }),
  /** GenRM balanced accuracy against gold, with the ground truth and with a sample as reference. */
  genrm: z.object({ gtAccuracy: num, gtItems: count, bonAccuracy: num, bonItems: count }),
  /** Gold of the BT RM's Best-of-N pick vs the first SFT sample, over `prompts` prompts. */
  bon: z.object({ bonGold: num, sampleGold: num, prompts: count }),
});
export type JudgeQuality = z.infer<typeof JudgeQuality>;

/** One seed's measurements: `<run>/seed-<k>/results.json`. */
export const SeedResults = z.object({
  version: z.literal(2),
  scale: z.string(),
  seed: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string(),
  wallSeconds: num,
  kernel: z.string(),
  machine: z.object({ cpus: z.number().int(), node: z.string(), platform: z.string() }),
  world: z.object({
    families: z.array(z.object({ family: z.string(), domain: z.string(), reward: z.string() })),
    sizes: z.record(z.string(), z.number().int()),
    model: ModelSummary,
    /** The judges' model (the SFT they start from, BT, GenRM); absent in runs before it could differ. */
    judgeModel: ModelSummary.optional(),
    steps: z.record(z.string(), z.number().int()),
  }),
  models: JudgeQuality,
  sensitivity: z.array(SensitivityCurve),
  /** The same PPO run with one reward source at a time. */
  ladder: z.array(RunCurve),
  selection: Selection,
  /** Baseline vs DataScale and the ablations. */
  comparison: z.array(RunCurve),
});
export type SeedResults = z.infer<typeof SeedResults>;

/** A pooled figure: per-seed values with their within-seed errors and the 95 % interval of the mean. */
export const Estimate = z.object({
  perSeed: z.array(z.object({ seed: z.number().int(), value: num, se: num })),
  mean: num,
  lo: num,
  hi: num,
  /** Which term of the half-width won: the across-seed t-interval or the within-seed floor. */
  method: z.enum(["t", "floor"]),
});
export type Estimate = z.infer<typeof Estimate>;

export const Verdict = z.enum(["reproduced", "not reproduced", "inconclusive"]);
export type Verdict = z.infer<typeof Verdict>;

/** One paired comparison of a finding: the effect in the paper's direction, its interval, its verdict. */
export const Comparison = z.object({
  id: z.string(),
  label: z.string(),
  unit: z.enum(["gold", "score", "nats"]),
  delta: num,
  effect: Estimate,
  verdict: Verdict,
  /** Why, in a few words (e.g. "interval above 0", "upper end below δ (reversed)"). */
  why: z.string(),
});
export type Comparison = z.infer<typeof Comparison>;

export const Finding = z.object({
  id: z.string(),
  title: z.string(),
  /** What the paper reports. */
  paper: z.string(),
  /** What this run measured, in one or two sentences with the numbers and intervals. */
  measured: z.string(),
  verdict: Verdict,
  /** true = reproduced, false = not reproduced, null = inconclusive. */
  reproduced: z.boolean().nullable(),
  comparisons: z.array(Comparison),
  /** Preconditions of this finding that failed (reported, they do not change the verdict). */
  unmet: z.array(z.string()).default([]),
});
export type Finding = z.infer<typeof Finding>;

/** A precondition of the findings: a pooled figure against a threshold. */
export const Precondition = z.object({
  id: z.string(),
  label: z.string(),
  threshold: num,
  estimate: Estimate,
  /** Met when the pooled mean reaches the threshold (for `rl-generalises`: when the interval is above 0). */
  met: z.boolean(),
});
export type Precondition = z.infer<typeof Precondition>;

/** Gao et al.'s gold(d) = d(α − β log d), d = √KL, fit per reward source over every seed's ladder run. */
export const GaoFit = z.object({
  source: z.string(),
  alpha: num,
  beta: num,
  r2: nullableNum,
  points: count,
  /** d at the fitted peak, exp(α/β − 1), when β > 0. */
  peak: nullableNum,
});
export type GaoFit = z.infer<typeof GaoFit>;

/** The pooled results: `<run>/results.json`. */
export const PooledResults = z.object({
  version: z.literal(2),
  kind: z.literal("pooled"),
  scale: z.string(),
  seeds: z.array(z.number().int()),
  /** Wall time of the whole run (first seed's start to the pooling). */
  wallSeconds: num,
  finishedAt: z.string(),
  findings: z.array(Finding),
  preconditions: z.array(Precondition),
  gao: z.array(GaoFit),
});
export type PooledResults = z.infer<typeof PooledResults>;
