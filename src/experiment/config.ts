// The main job's settings: a scale preset (`tiny` for tests and smoke runs, `small` for the
// default laptop reproduction) with any field overridable from a JSON/YAML file. Validated
// with zod so a bad file names the field.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { deepMerge } from "../core/merge.ts";
import { World, type WorldFamily } from "./world.ts";

const Int = z.number().int().positive();

const ModelShape = z.object({ dim: Int, nLayers: Int, nHeads: Int, maxSeqLen: Int }).strict();
export type ModelShape = z.infer<typeof ModelShape>;

const PpoSettings = z
  .object({
    steps: Int,
    evalEvery: Int,
    promptsPerStep: Int,
    rolloutsPerPrompt: Int,
    /**
     * Passes over each step's rollouts (PPO epochs); unset, the trainer's default (2). One pass
     * over twice the prompts learned more than two over the same rollouts, for less time
     * (docs/experiment.md, "Choosing the world and the recipe").
     */
    epochs: Int.optional(),
    lr: z.number().positive(),
    klCoef: z.number().nonnegative(),
    /** ppo (the paper's) or grpo; ppo's critic is a value head on the policy or a separate model. */
    algorithm: z.enum(["ppo", "grpo"]),
    critic: z.enum(["head", "separate"]),
    /** Samples per held-out prompt at each evaluation (the findings' gold). */
    heldoutSamples: Int,
  })
  .strict();

export const ExperimentConfig = z
  .object({
    scale: z.string().min(1),
    /** The first seed; seed k of the run is `seed + k`. */
    seed: z.number().int().nonnegative(),
    /** Seeds: each its own world, models and PPO runs; findings pool them (docs/experiment.md). */
    seeds: Int,
    kernel: z.enum(["ts", "wasm", "blas", "auto"]),
    /** The task families, their domains, reward sources and difficulty levels (world.ts). */
    world: World,
    model: ModelShape,
    /**
     * The judges' shape (the SFT they start from, BT and GenRM); unset, the policy's. The
     * paper's judges are far larger than its policy; a deeper judge learns the comparison with
     * the reference on every seed (docs/experiment.md, "Choosing the world and the recipe").
     */
    judgeModel: ModelShape.optional(),
    /** Tasks per family in each set. */
    sizes: z
      .object({ demo: Int, preference: Int, original: Int, pool: Int, eval: Int, diversityPrompts: Int })
      .strict(),
    /**
     * SFT: the policy trains `steps`; the judges (BT, GenRM) start from an SFT trained
     * `judgeSteps` — a stronger model than the policy they grade, as the paper's judges are,
     * while the policy keeps room to learn under RL. At or below `steps` (or unset) the judges
     * start from the policy's SFT: overriding only `sft.steps` on a preset must not fail on a
     * judgeSteps the user never wrote.
     */
    sft: z
      .object({ steps: Int, judgeSteps: Int.optional(), batchSize: Int, lr: z.number().positive() })
      .strict(),
    rm: z.object({ steps: Int, batchSize: Int, lr: z.number().positive() }).strict(),
    genrm: z.object({ steps: Int, batchSize: Int, lr: z.number().positive() }).strict(),
    /** SFT samples per prompt for reward-model data, Best-of-N references and selection. */
    samples: Int,
    /** Pre-PPO selection: share of the filtered domains' new prompts to keep. */
    keep: z.number().gt(0).max(1),
    ppo: PpoSettings,
    /** Share of PPO steps in the math-and-code stage of the paper's curriculum. */
    stage1Fraction: z.number().gt(0).lt(1),
  })
  .strict();
export type ExperimentConfig = z.infer<typeof ExperimentConfig>;

/** One seed's settings: everything but the seed count (adding seeds later reuses the ones done). */
export type SeedConfig = Omit<ExperimentConfig, "seeds">;

/** The seeds a run has, in order. */
export function seedList(config: ExperimentConfig): number[] {
  return Array.from({ length: config.seeds }, (_, k) => config.seed + k);
}

export function seedConfig(config: ExperimentConfig, seed: number): SeedConfig {
  const { seeds: _n, ...rest } = config;
  return { ...rest, seed };
}

/**
 * The default world: one family per domain, each a procedure a 100k-parameter model can learn
 * from demonstrations and improve at under RL on prompts it has not seen (docs/experiment.md,
 * "Choosing the world"). Maze stands for the open-ended prompts: any shortest path is right,
 * so a single reference answer is one of several good ones — the judge sees only a Best-of-N.
 */
export const DEFAULT_WORLD: WorldFamily[] = [
  { family: "word_problem", domain: "math", reward: "rtv", difficulties: [1, 1.5] },
  { family: "code_output", domain: "code", reward: "rtv", difficulties: [0, 0.5] },
  { family: "sorting", domain: "logic", reward: "genrm-gt", difficulties: [1, 1.5] },
  { family: "maze", domain: "general", reward: "genrm-bon", difficulties: [1] },
];

const SMALL: ExperimentConfig = {
  scale: "small",
  seed: 1,
  seeds: 3,
  kernel: "auto",
  world: DEFAULT_WORLD,
  model: { dim: 64, nLayers: 2, nHeads: 4, maxSeqLen: 128 },
  judgeModel: { dim: 64, nLayers: 3, nHeads: 4, maxSeqLen: 128 },
  sizes: { demo: 1200, preference: 1000, original: 512, pool: 768, eval: 150, diversityPrompts: 24 },
  sft: { steps: 1500, judgeSteps: 4000, batchSize: 32, lr: 2e-3 },
  rm: { steps: 3000, batchSize: 32, lr: 1e-3 },
  genrm: { steps: 6000, batchSize: 32, lr: 1e-3 },
  samples: 8,
  keep: 0.1,
  ppo: {
    steps: 160,
    evalEvery: 40,
    promptsPerStep: 32,
    rolloutsPerPrompt: 4,
    epochs: 1,
    lr: 5e-5,
    klCoef: 0.05,
    algorithm: "grpo",
    critic: "separate",
    heldoutSamples: 2,
  },
  stage1Fraction: 2 / 7,
};

/** Small enough for the test suite: every stage runs, nothing is expected to learn much. */
const TINY: ExperimentConfig = {
  ...SMALL,
  scale: "tiny",
  model: { dim: 32, nLayers: 1, nHeads: 2, maxSeqLen: 128 },
  judgeModel: { dim: 32, nLayers: 2, nHeads: 2, maxSeqLen: 128 },
  sizes: { demo: 24, preference: 8, original: 6, pool: 20, eval: 4, diversityPrompts: 4 },
  sft: { steps: 30, judgeSteps: 40, batchSize: 16, lr: 3e-3 },
  rm: { steps: 10, batchSize: 8, lr: 1e-3 },
  genrm: { steps: 20, batchSize: 16, lr: 1e-3 },
  samples: 3,
  keep: 0.25,
  ppo: { ...SMALL.ppo, steps: 6, evalEvery: 3, promptsPerStep: 4, rolloutsPerPrompt: 2 },
};

/** The steps of the SFT the judges start from. */
export function judgeSftSteps(config: Pick<ExperimentConfig, "sft">): number {
  return Math.max(config.sft.judgeSteps ?? config.sft.steps, config.sft.steps);
}

/** The judges' model shape: `judgeModel`, else the policy's. */
export function judgeShape(config: Pick<ExperimentConfig, "model" | "judgeModel">): ModelShape {
  return config.judgeModel ?? config.model;
}

/**
 * Whether the judges have their own SFT model (models/judge-sft): when it trains longer than
 * the policy's or has another shape.
 */
export function hasJudgeSft(config: Pick<ExperimentConfig, "sft" | "model" | "judgeModel">): boolean {
  const a = judgeShape(config);
  const b = config.model;
  const sameShape =
    a.dim === b.dim && a.nLayers === b.nLayers && a.nHeads === b.nHeads && a.maxSeqLen === b.maxSeqLen;
  return judgeSftSteps(config) > config.sft.steps || !sameShape;
}

export const SCALES: Record<string, ExperimentConfig> = { tiny: TINY, small: SMALL };

/** A preset plus overrides (from a file and flags), validated; errors name the source and field. */
export function experimentConfig(
  scale: string,
  overrides: unknown = {},
  source = "config",
): ExperimentConfig {
  const base = SCALES[scale];
  if (base === undefined)
    throw new DataScaleError(
      "bad_config",
      `unknown scale '${scale}' (known: ${Object.keys(SCALES).join(", ")})`,
    );
  const parsed = ExperimentConfig.safeParse(deepMerge(base, overrides));
  if (!parsed.success) throw new DataScaleError("bad_config", `${source}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new DataScaleError("not_found", `${path}: cannot read (${(e as Error).message})`);
  }
  try {
    return path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new DataScaleError("bad_config", `${path}: not valid JSON/YAML: ${(e as Error).message}`);
  }
}
