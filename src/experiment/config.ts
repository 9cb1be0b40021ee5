// The main job's settings: a scale preset (`tiny` for tests and smoke runs, `small` for the
// default laptop reproduction) with any field overridable from a JSON/YAML file. Validated
// with zod so a bad file names the field.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { deepMerge } from "../core/merge.ts";

const Int = z.number().int().positive();

const PpoSettings = z
  .object({
    steps: Int,
    evalEvery: Int,
    promptsPerStep: Int,
    rolloutsPerPrompt: Int,
    lr: z.number().positive(),
    klCoef: z.number().nonnegative(),
    /** ppo (the paper's) or grpo; ppo's critic is a value head on the policy or a separate model. */
    algorithm: z.enum(["ppo", "grpo"]),
    critic: z.enum(["head", "separate"]),
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
    model: z.object({ dim: Int, nLayers: Int, nHeads: Int, maxSeqLen: Int }).strict(),
    /** Tasks per family in each set. */
    sizes: z
      .object({ demo: Int, preference: Int, original: Int, pool: Int, eval: Int, diversityPrompts: Int })
      .strict(),
    sft: z.object({ steps: Int, batchSize: Int, lr: z.number().positive() }).strict(),
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

const SMALL: ExperimentConfig = {
  scale: "small",
  seed: 1,
  seeds: 3,
  kernel: "auto",
  model: { dim: 64, nLayers: 2, nHeads: 4, maxSeqLen: 128 },
  sizes: { demo: 1200, preference: 300, original: 16, pool: 96, eval: 32, diversityPrompts: 24 },
  sft: { steps: 1500, batchSize: 32, lr: 2e-3 },
  rm: { steps: 800, batchSize: 32, lr: 1e-3 },
  genrm: { steps: 2500, batchSize: 32, lr: 5e-4 },
  samples: 4,
  keep: 0.1,
  ppo: {
    steps: 200,
    evalEvery: 25,
    promptsPerStep: 8,
    rolloutsPerPrompt: 8,
    lr: 2e-4,
    klCoef: 0.05,
    algorithm: "ppo",
    critic: "separate",
  },
  stage1Fraction: 2 / 7,
};

/** Small enough for the test suite: every stage runs, nothing is expected to learn much. */
const TINY: ExperimentConfig = {
  ...SMALL,
  scale: "tiny",
  model: { dim: 32, nLayers: 1, nHeads: 2, maxSeqLen: 128 },
  sizes: { demo: 24, preference: 8, original: 6, pool: 20, eval: 4, diversityPrompts: 4 },
  sft: { steps: 30, batchSize: 16, lr: 3e-3 },
  rm: { steps: 10, batchSize: 8, lr: 1e-3 },
  genrm: { steps: 20, batchSize: 16, lr: 1e-3 },
  samples: 3,
  keep: 0.25,
  ppo: { ...SMALL.ppo, steps: 6, evalEvery: 3, promptsPerStep: 4, rolloutsPerPrompt: 2 },
};

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
