// Stage `rewards`: the seed's reward configs (reward.yaml, reward-<source>.yaml) and the GenRM
// template they name. Every later score goes through them (reward-config.ts).
import { basename } from "node:path";
import { z } from "zod";
import { writeRewardConfigs } from "../reward-config.ts";
import type { SeedContext, Stage } from "./context.ts";

const RewardFiles = z.object({ configs: z.array(z.string()) });

export const rewardFilesStage: Stage<z.infer<typeof RewardFiles>> = {
  name: "rewards",
  what: () => "the reward configs every stage scores through",
  result: RewardFiles,
  async run(ctx: SeedContext) {
    return { configs: (await writeRewardConfigs(ctx.dir, ctx.config.world)).map((p) => basename(p)) };
  },
};
