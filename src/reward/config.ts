// The hybrid reward configuration: which reward source judges which rollouts. Defaults
// follow the paper — verifiers where they exist, GenRM against the ground truth for other
// reasoning data, GenRM against the SFT Best-of-N reference for everything else.
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { BackendConfig } from "../backend/open.ts";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { VERL_DATA_SOURCES } from "./data-sources.ts";

export { BackendConfig };

export const JudgeConfig = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("genrm"),
    backend: BackendConfig,
    /** Prompt template files; defaults ship for both reference kinds. */
    templates: z.object({ gt: z.string().optional(), bon: z.string().optional() }).default({}),
    /** Score both orders (response vs reference and reference vs response) to cancel position bias. */
    bothOrders: z.boolean().default(true),
    /** 0: read p(YES) from top_logprobs; k > 0: sample k verdicts and average (servers without logprobs). */
    samples: z.number().int().nonnegative().default(0),
    /** First-token candidates read for p(YES) (default 20; servers cap it, OpenAI's API at 20). */
    topK: z.number().int().positive().optional(),
    cache: z.string().optional(),
  }),
  z.object({
    kind: z.literal("bt"),
    backend: BackendConfig,
    /** How (prompt, response) becomes the reward model's input text: {{prompt}}, {{first}} (the response). */
    format: z.string().default("{{prompt}}\n{{first}}"),
    cache: z.string().optional(),
  }),
]);
export type JudgeConfig = z.infer<typeof JudgeConfig>;

const RewardLeaf = z.discriminatedUnion("type", [
  /** A reasoning-task verifier; `family` defaults to the rollout's domain. */
  z.object({ type: z.literal("rtv"), family: z.string().optional() }),
  /**
   * A named judge from `judges`, against the ground truth (`gt`), a Best-of-N reference
   * (`bon`), or no reference (`none`: a Bradley–Terry RM's σ(r) of the response alone).
   */
  z.object({
    type: z.literal("judge"),
    judge: z.string().min(1),
    reference: z.enum(["gt", "bon", "none"]).default("gt"),
  }),
]);
export type RewardLeaf = z.infer<typeof RewardLeaf>;

export const RewardSpec = z.union([
  RewardLeaf,
  z.object({
    type: z.literal("combine"),
    /** Weighted mean of the parts' scores (weights are normalised). */
    parts: z.array(z.object({ reward: RewardLeaf, weight: z.number().positive() })).min(1),
    /** A gate whose score is below `below` caps the combined score at `cap` (e.g. a failed format check). */
    gates: z
      .array(
        z.object({
          reward: RewardLeaf,
          below: z.number().default(1),
          cap: z.number().min(0).max(1).default(0),
        }),
      )
      .default([]),
  }),
]);
export type RewardSpec = z.infer<typeof RewardSpec>;

const OneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const RouteMatch = z
  .object({
    /** Domain(s); `*` matches any. */
    domain: OneOrMany.optional(),
    /** Task `source` (a dataset name) or verl's `data_source`. */
    source: OneOrMany.optional(),
    /** Which reference field must be present: `answer` (ground truth), `response` (BoN), `tests`, `instructions`. */
    has: z.enum(["answer", "response", "tests", "instructions"]).optional(),
  })
  .strict();
export type RouteMatch = z.infer<typeof RouteMatch>;

export const RewardConfig = z
  .object({
    judges: z.record(z.string(), JudgeConfig).default({}),
    routes: z.array(z.object({ match: RouteMatch, reward: RewardSpec })).default([]),
    /** When no route matches. */
    fallback: RewardSpec.optional(),
    /** Domain for OpenRLHF labels that are plain strings. */
    defaultDomain: z.string().default("math"),
    verify: z
      .object({
        workers: z.number().int().positive().optional(),
        timeBudgetMs: z.number().int().positive().default(2000),
        /** Per-domain budgets (default: code 60 s). */
        budgetsMs: z.record(z.string(), z.number().int().positive()).default({}),
        plugins: z.array(z.string()).default([]),
      })
      .default({ timeBudgetMs: 2000, budgetsMs: {}, plugins: [] }),
  })
  .strict();
export type RewardConfig = z.infer<typeof RewardConfig>;

export const VERIFIED_DOMAINS = ["math", "code", "instruction", "logic", "qa"];

/** verl's data sources (Task.source or data_source) to the verifier family that scores them. */
export function verlSourceRoutes(): RewardConfig["routes"] {
  return (["math", "code", "qa"] as const).map((family) => ({
    match: { source: VERL_DATA_SOURCES.filter((e) => e.kind === family).flatMap((e) => e.names) },
    reward: { type: "rtv", family },
  }));
}

/**
 * The paper's routing: RTV for verifiable domains and for verl's known data sources,
 * GenRM-GT with ground truth, GenRM-BoN otherwise.
 */
export function paperRoutes(judge = "genrm"): Pick<RewardConfig, "routes" | "fallback"> {
  return {
    routes: [
      ...verlSourceRoutes(),
      { match: { domain: VERIFIED_DOMAINS }, reward: { type: "rtv" } },
      { match: { has: "answer" }, reward: { type: "judge", judge, reference: "gt" } },
    ],
    fallback: { type: "judge", judge, reference: "bon" },
  };
}

/** Parses a config object; routes default to the paper's when none are given. */
export function parseRewardConfig(raw: unknown, name = "reward config"): RewardConfig {
  const parsed = RewardConfig.safeParse(raw ?? {});
  if (!parsed.success) throw new DataScaleError("bad_config", `${name}: ${formatZodError(parsed.error)}`);
  const config = parsed.data;
  const userRouted = config.routes.length > 0 || config.fallback !== undefined;
  if (!userRouted) Object.assign(config, paperRoutes());
  const judgeNames = new Set(Object.keys(config.judges));
  const specs = [...config.routes.map((r) => r.reward), ...(config.fallback ? [config.fallback] : [])];
  const leaves = specs.flatMap((s) =>
    s.type === "combine" ? [...s.parts.map((p) => p.reward), ...s.gates.map((g) => g.reward)] : [s],
  );
  // A judge named by the paper defaults but not configured is reported per rollout (an
  // `error` verdict); a judge named explicitly by the user must exist.
  if (userRouted) {
    for (const leaf of leaves) {
      if (leaf.type === "judge" && !judgeNames.has(leaf.judge)) {
        throw new DataScaleError(
          "bad_config",
          `${name}: routes name judge '${leaf.judge}', which is not in judges`,
        );
      }
    }
  }
  return config;
}

/** Reads a config file: JSON, or YAML when the name ends in .yaml/.yml. */
export async function loadRewardConfig(path: string): Promise<RewardConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new DataScaleError("bad_config", `${path}: ${e instanceof Error ? e.message : e}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new DataScaleError("bad_config", `${path}: cannot parse: ${e instanceof Error ? e.message : e}`);
  }
  return parseRewardConfig(raw, path);
}
