// What the main job measured: the contract between the pipeline (which writes
// <run>/results.json) and the report (which renders it). A zod schema because the report can
// be rebuilt from a results file on disk (`datascale run --report-only`).
import { z } from "zod";

const num = z.number();
const nullableNum = z.number().nullable();
/** Gold accuracy overall and per domain (fraction of held-out prompts answered correctly). */
export const GoldScore = z.object({
  overall: num,
  byDomain: z.record(z.string(), num),
  /** Responses whose reward was an `error` (no verdict): left out of the means above. */
  errors: z.number().int().nonnegative().optional(),
});
export type GoldScore = z.infer<typeof GoldScore>;

/** One evaluation of a PPO run's policy on the held-out prompts. */
export const EvalPoint = z.object({
  step: z.number().int().nonnegative(),
  /**
   * Gold (verifier) accuracy of the policy's samples (temperature 1, 2 per prompt, fixed
   * seeds) on the original prompts — the part of the training set every run shares.
   */
  gold: GoldScore,
  /** The same on the held-out prompts (1 sample each): what RL at this scale does to generalisation. */
  heldout: GoldScore,
  /** Mean score the run's own training reward gives the same samples (errors left out). */
  proxy: num,
  /** Of those samples, how many the training reward could not score (`error` verdicts). */
  proxyErrors: z.number().int().nonnegative().optional(),
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
  /** The best evaluation (the paper reports the best checkpoint) and the last one. */
  best: z.object({ step: z.number().int(), gold: num }),
  final: z.object({ step: z.number().int(), gold: num }),
});
export type RunCurve = z.infer<typeof RunCurve>;

export const Finding = z.object({
  id: z.string(),
  title: z.string(),
  /** What the paper reports. */
  paper: z.string(),
  /** What this run measured, in one or two sentences with the numbers. */
  measured: z.string(),
  /** Whether the measurement agrees with the paper's direction; null when it cannot tell. */
  reproduced: z.boolean().nullable(),
});
export type Finding = z.infer<typeof Finding>;

export const SensitivityCurve = z.object({
  source: z.string(),
  bins: z.array(
    z.object({
      lo: num,
      hi: num,
      pairs: z.number().int(),
      meanGap: nullableNum,
      separated: nullableNum,
    }),
  ),
});

export const SelectionDomain = z.object({
  domain: z.string(),
  /** Prompts of this domain in the new pool, and how many the selection kept. */
  pool: z.number().int(),
  kept: z.number().int(),
  /** Whether the domain is filtered (math and code are kept whole). */
  filtered: z.boolean(),
  meanScore: num,
  /** Share of the domain's pool scoring above 0.5 (the paper: ≈90% of new prompts did). */
  aboveHalf: num,
  /** Mean SFT gold accuracy on the kept prompts vs on the whole pool: selection should pick hard ones. */
  goldKept: nullableNum,
  goldPool: nullableNum,
});

export const ExperimentResults = z.object({
  version: z.literal(1),
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
    model: z.object({
      dim: z.number().int(),
      nLayers: z.number().int(),
      nHeads: z.number().int(),
      params: z.number().int(),
    }),
    steps: z.record(z.string(), z.number().int()),
  }),
  models: z.object({
    sft: GoldScore,
    /** Bradley–Terry held-out pairwise accuracy. */
    btAccuracy: num,
    /** GenRM held-out balanced accuracy against the gold ordering, with ground-truth and with sample references. */
    genrmGtAccuracy: num,
    genrmBonAccuracy: num,
    /** Gold accuracy of the Best-of-N references vs a random SFT sample. */
    bonGold: num,
    sampleGold: num,
  }),
  sensitivity: z.array(SensitivityCurve),
  /** Finding 1: the same PPO run with one reward source at a time. */
  ladder: z.array(RunCurve),
  selection: z.object({
    keep: num,
    samples: z.number().int(),
    normalisation: z.string(),
    domains: z.array(SelectionDomain),
  }),
  /** Finding 3 and 4: baseline vs DataScale and the ablations. */
  comparison: z.array(RunCurve),
  findings: z.array(Finding),
});
export type ExperimentResults = z.infer<typeof ExperimentResults>;
