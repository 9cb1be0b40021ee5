// The main job's rewards as reward configs: the paper's hybrid system (reward.yaml) and one
// config per reward source for the ladder (reward-<source>.yaml), each naming the seed's
// judge model directories. The experiment scores every stage through these configs and
// reward/system.ts — the router, GenRM and BT judges and verifier pool `datascale
// serve-reward --config <seed>/reward.yaml` serves — so a user gets exactly its rewards.
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { DataScaleError } from "../core/errors.ts";
import type { RewardFn } from "../core/schemas.ts";
import { makeJudge } from "../judge/factory.ts";
import type { Judge } from "../judge/types.ts";
import type { Kernel } from "../model/kernels/types.ts";
import { ByteTokenizer } from "../model/tokenizer/byte.ts";
import { loadRewardConfig, type RewardConfig, type RewardLeaf } from "../reward/config.ts";
import { createRouter } from "../reward/router.ts";
import { createRewardSystem, type RewardSystem } from "../reward/system.ts";
import { WORLD_BT_FORMAT, WORLD_GENRM_TEMPLATE, worldBackendOpener } from "./judge-models.ts";
import { DOMAINS, REWARD_SOURCES, type RewardSource, type WorldFamily } from "./world.ts";

/** Where a seed's reward configs and judge models live. */
export interface RewardPaths {
  genrmModel: string;
  btModel: string;
  template: string;
}

export function rewardPaths(seedDir: string): RewardPaths {
  const dir = resolve(seedDir);
  return {
    genrmModel: join(dir, "models", "genrm", "hf"),
    btModel: join(dir, "models", "bt", "hf"),
    template: join(dir, "genrm-template.md"),
  };
}

/** The file a reward config is written to: reward.yaml (hybrid) or reward-<source>.yaml. */
export function rewardConfigPath(seedDir: string, which: "hybrid" | RewardSource): string {
  return join(seedDir, which === "hybrid" ? "reward.yaml" : `reward-${which}.yaml`);
}

/** The world's byte tokenizer's vocabulary: 256 bytes and 3 specials. */
const WORLD_VOCAB = new ByteTokenizer().vocabSize;

const LEAF: Record<RewardSource, RewardLeaf> = {
  rtv: { type: "rtv" },
  "genrm-gt": { type: "judge", judge: "genrm", reference: "gt" },
  "genrm-bon": { type: "judge", judge: "genrm", reference: "bon" },
  // The paper's BT RM scores a response alone: σ(r).
  bt: { type: "judge", judge: "bt", reference: "none" },
};

/** The raw config (as written to YAML) for the hybrid system or one source for every prompt. */
export function rewardConfigObject(
  paths: RewardPaths,
  which: "hybrid" | RewardSource,
  world: readonly WorldFamily[],
): unknown {
  const judges = {
    genrm: {
      kind: "genrm",
      backend: { type: "embedded", model: paths.genrmModel },
      templates: { gt: paths.template, bon: paths.template },
      // The world's GenRM is trained on one order (response, reference); see stages/genrm.ts.
      bothOrders: false,
      samples: 0,
      // The whole first-token distribution (an in-process engine is not capped at 20): p(YES)
      // is then defined for any judge, however little trained, as with the logits it replaced.
      topK: WORLD_VOCAB,
    },
    bt: { kind: "bt", backend: { type: "embedded", model: paths.btModel }, format: WORLD_BT_FORMAT },
  };
  const verify = { timeBudgetMs: 2000 };
  if (which !== "hybrid") return { judges, routes: [], fallback: LEAF[which], verify };
  // The paper's routing, by the world's domains: each domain to its families' source.
  const routes = DOMAINS.flatMap((domain) => {
    const source = world.find((f) => f.domain === domain)?.reward;
    return source === undefined ? [] : [{ match: { domain }, reward: LEAF[source] }];
  });
  return { judges, routes, verify };
}

/** Writes the seed's reward configs and the GenRM template they name; returns the paths. */
export async function writeRewardConfigs(seedDir: string, world: readonly WorldFamily[]): Promise<string[]> {
  const paths = rewardPaths(seedDir);
  await writeFile(paths.template, WORLD_GENRM_TEMPLATE);
  const written: string[] = [];
  for (const which of ["hybrid", ...REWARD_SOURCES] as const) {
    const path = rewardConfigPath(seedDir, which);
    const header =
      "# The main job's rewards for this seed: serve them with\n" +
      `#   datascale serve-reward --config ${path}\n`;
    await writeFile(
      path,
      header + stringify(rewardConfigObject(paths, which, world), { aliasDuplicateObjects: false }),
    );
    written.push(path);
  }
  return written;
}

/** One judge of the seed's reward.yaml, on `kernel` (for a stage that runs before both judges exist). */
export async function openSeedJudge(seedDir: string, name: "genrm" | "bt", kernel: Kernel): Promise<Judge> {
  const path = rewardConfigPath(seedDir, "hybrid");
  const config = (await loadRewardConfig(path)).judges[name];
  if (config === undefined) throw new DataScaleError("bad_config", `${path}: no judges.${name}`);
  return makeJudge(name, config, { openBackend: worldBackendOpener(kernel) });
}

/** A seed's reward functions: the hybrid system and each source alone, all on one reward system. */
export interface SeedRewards {
  hybrid: RewardFn;
  bySource: Record<RewardSource, RewardFn>;
  system: RewardSystem;
  close(): Promise<void>;
}

/**
 * Opens the seed's reward system from its hybrid config, on `kernel`. The per-source
 * functions are routers of the per-source configs over the same judges and verifier pool,
 * so every reward the experiment gives comes from one set of judge models.
 */
export async function openSeedRewards(seedDir: string, kernel: Kernel, workers = 2): Promise<SeedRewards> {
  // Read back from the files written: what is served is what was used.
  const configs = new Map<"hybrid" | RewardSource, RewardConfig>();
  for (const which of ["hybrid", ...REWARD_SOURCES] as const)
    configs.set(which, await loadRewardConfig(rewardConfigPath(seedDir, which)));
  const config = (which: "hybrid" | RewardSource): RewardConfig => configs.get(which) as RewardConfig;
  const openBackend = worldBackendOpener(kernel);
  const system = await createRewardSystem(config("hybrid"), {
    workers,
    makeJudge: (name, jc) => makeJudge(name, jc, { openBackend }),
  });
  const deps = { rtv: system.pool.rewardFn, judges: system.judges };
  const bySource = Object.fromEntries(
    REWARD_SOURCES.map((s) => [s, createRouter(config(s), deps)]),
  ) as Record<RewardSource, RewardFn>;
  return { hybrid: system.rewardFn, bySource, system, close: () => system.close() };
}
