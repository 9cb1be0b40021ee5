// Stage `sft`: a fresh decoder fine-tuned on the demonstrations (imperfect on purpose: RL
// needs room), saved for the trainers and as a Hugging Face model directory.

import { newDecoder } from "../../train/models.ts";
import { RunDir, saveModel } from "../../train/rundir.ts";
import { trainSft } from "../../train/sft.ts";
import { saveWorldModel } from "../judge-models.ts";
import { goldByDomain, greedy, scoreResponses } from "../policy.ts";
import { GoldScore } from "../results.ts";
import { goldAnswer } from "../world.ts";
import { pct, type SeedContext, type Stage } from "./context.ts";

export const sftStage: Stage<GoldScore> = {
  name: "sft",
  what: () => "supervised fine-tuning on demonstrations",
  result: GoldScore,
  async run(ctx: SeedContext) {
    const { config, tokenizer, world } = ctx;
    const dirs = ctx.model("sft");
    const model = newDecoder({ vocabSize: tokenizer.vocabSize, ...config.model }, config.seed, ctx.kernel);
    await trainSft({
      model,
      tokenizer,
      train: world.demo.map((t) => ({ prompt: t.prompt ?? "", response: goldAnswer(t) })),
      options: { ...config.sft, warmup: 20, seed: config.seed, evalEvery: 0, checkpointEvery: 100 },
      runDir: new RunDir(dirs.root),
    });
    saveModel(dirs.engine, model);
    await saveWorldModel(dirs.hf, model);
    const answers = await greedy(model, tokenizer, world.eval);
    const score = goldByDomain(world.eval, await scoreResponses(ctx.gold, world.eval, answers));
    ctx.log(`  SFT held-out gold accuracy ${pct(score.overall)} ${JSON.stringify(score.byDomain)}`);
    return score;
  },
};
