// The training configuration file (YAML or JSON), validated with zod. One schema for every
// stage; each stage reads the sections it needs and `datascale train <stage>` flags
// override single fields.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { deepMerge } from "../core/merge.ts";

export const STAGES = ["sft", "rm", "genrm", "ppo", "grpo"] as const;
export type Stage = (typeof STAGES)[number];

const TaskSource = z.union([
  z.object({ file: z.string().min(1) }).strict(),
  z
    .object({
      family: z.string().min(1),
      n: z.number().int().positive(),
      seed: z.number().int().nonnegative().default(0),
      difficulty: z.number().min(0).max(10).default(0),
    })
    .strict(),
]);
export type TaskSource = z.infer<typeof TaskSource>;

export const GENRM_FORMATS = ["pairwise", "reference"] as const;

/**
 * genrm: which judge is trained. `pairwise` (the default): "is A at least as good as B?" on
 * {prompt, chosen, rejected}, both orders, each text cut to maxResponseChars (default 64).
 * `reference`: the paper's pointwise judge, "does this response match the reference?" on
 * {prompt, response, reference, label}, asked exactly as the served GenRM asks it with
 * `template` (a file; default REFERENCE_GENRM_TEMPLATE) — so nothing is cut, and each
 * option belongs to one format only.
 */
const GenRmSection = z
  .object({
    format: z.enum(GENRM_FORMATS).default("pairwise"),
    maxResponseChars: z.number().int().positive().optional(),
    template: z.string().min(1).optional(),
  })
  .strict()
  .refine((g) => g.format === "pairwise" || g.maxResponseChars === undefined, {
    path: ["maxResponseChars"],
    message: "pairwise only: the reference judge sees whole texts, as it is served",
  })
  .refine((g) => g.format === "reference" || g.template === undefined, {
    path: ["template"],
    message: "reference format only (the pairwise prompt is fixed: TRAINED_GENRM_TEMPLATE)",
  })
  .default({ format: "pairwise" });

export const TrainConfig = z
  .object({
    /** Where metrics.jsonl, checkpoints and the final model go. */
    runDir: z.string().min(1),
    seed: z.number().int().nonnegative().default(1),
    model: z
      .object({
        /** A saved model directory (the Hugging Face layout a stage writes to <runDir>/model) to start from. */
        init: z.string().min(1).optional(),
        /** Compute kernel: auto (default: blas when the native addon loads, else wasm), wasm, blas, ts (reference). */
        kernel: z.enum(["ts", "wasm", "blas", "auto"]).default("auto"),
        /** Shape of a fresh model (ignored with `init`); vocabSize defaults to the byte tokenizer's. */
        config: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .default({ config: {}, kernel: "auto" }),
    data: z
      .object({
        /**
         * SFT: prompt/response or messages JSONL. rm/genrm: prompt, chosen, rejected JSONL;
         * genrm with `format: reference`: prompt, response, reference, label JSONL.
         */
        train: z.string().min(1).optional(),
        eval: z.string().min(1).optional(),
        /** Held-out fraction of `train` when there is no eval file (rm/genrm). */
        evalFraction: z.number().min(0).max(0.9).default(0.2),
        /** ppo/grpo: the prompts, as a Task JSONL file or a procedural family. */
        tasks: TaskSource.optional(),
        /**
         * ppo/grpo: a curriculum over `tasks` — `paper` (math and code first for the first
         * `stage1Fraction` of the steps, then everything) or a schedule JSON file
         * (`datascale export`'s format). Batches are `rl.promptsPerStep` prompts.
         */
        schedule: z.union([z.literal("paper"), z.string().min(1)]).optional(),
        stage1Fraction: z
          .number()
          .gt(0)
          .lt(1)
          .default(2 / 7),
      })
      .strict()
      .default({ evalFraction: 0.2, stage1Fraction: 2 / 7 }),
    train: z
      .object({
        steps: z.number().int().positive().default(100),
        batchSize: z.number().int().positive().default(32),
        lr: z.number().positive().default(1e-3),
        warmup: z.number().int().nonnegative().default(10),
        weightDecay: z.number().nonnegative().default(0),
        gradClip: z.number().nonnegative().default(1),
        checkpointEvery: z.number().int().nonnegative().default(50),
        evalEvery: z.number().int().nonnegative().default(0),
      })
      .strict()
      .default({
        steps: 100,
        batchSize: 32,
        lr: 1e-3,
        warmup: 10,
        weightDecay: 0,
        gradClip: 1,
        checkpointEvery: 50,
        evalEvery: 0,
      }),
    /** ppo/grpo: rewards come from this verifier domain (any domain of src/verify/registry.ts). */
    reward: z
      .object({ verifier: z.string().min(1).default("logic") })
      .strict()
      .default({ verifier: "logic" }),
    rl: z
      .object({
        promptsPerStep: z.number().int().positive(),
        rolloutsPerPrompt: z.number().int().positive(),
        maxResponseTokens: z.number().int().positive(),
        temperature: z.number().positive(),
        ppoEpochs: z.number().int().positive(),
        miniBatchSize: z.number().int().positive(),
        clipEps: z.number().positive(),
        valueClipEps: z.number().nonnegative(),
        vfCoef: z.number().nonnegative(),
        gamma: z.number().min(0).max(1),
        lambda: z.number().min(0).max(1),
        whitenAdvantages: z.boolean(),
        whitenRewards: z.boolean(),
        /** ppo: the critic is a value head on the policy ("head") or a separate value model ("separate"). */
        critic: z.enum(["head", "separate"]),
        kl: z
          .object({
            coef: z.number().nonnegative(),
            estimator: z.enum(["k1", "k3"]),
            mode: z.enum(["reward", "loss"]),
            target: z.number().positive().optional(),
            horizon: z.number().positive().optional(),
          })
          .strict()
          .partial(),
      })
      .strict()
      .partial()
      .default({}),
    genrm: GenRmSection,
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfig>;

/** Reads and validates a YAML or JSON config, naming the file and the bad field. */
export function loadTrainConfig(path: string, overrides: Record<string, unknown> = {}): TrainConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new DataScaleError("not_found", `${path}: cannot read (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new DataScaleError(
      "bad_config",
      `${path}: not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`,
    );
  }
  return parseTrainConfig(raw, path, overrides);
}

export function parseTrainConfig(
  raw: unknown,
  name: string,
  overrides: Record<string, unknown> = {},
): TrainConfig {
  const merged = deepMerge(raw ?? {}, overrides);
  const parsed = TrainConfig.safeParse(merged);
  if (!parsed.success) throw new DataScaleError("bad_config", `${name}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}
