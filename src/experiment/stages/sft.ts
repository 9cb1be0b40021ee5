// Stage `sft`: a fresh decoder fine-tuned on the demonstrations (imperfect on purpose: RL
// needs room), saved for the trainers and as a Hugging Face model directory. When the judges
// train longer (`sft.judgeSteps`), a second SFT of that length is what BT and GenRM start from.

import type { Decoder } from "../../model/decoder.ts";
import { newDecoder } from "../../train/models.ts";
import { RunDir, saveModel } from "../../train/rundir.ts";
import { trainSft } from "../../train/sft.ts";
import { hasJudgeSft, judgeSftSteps, judgeShape } from "../config.ts";
import { saveWorldModel } from "../judge-models.ts";
import { goldByDomain, greedy, scoreResponses } from "../policy.ts";
import { GoldScore } from "../results.ts";
import { goldAnswer } from "../world.ts";
import { pct, type SeedContext, type Stage } from "./context.ts";

/** A fresh decoder trained `steps` on the demonstrations, saved as models/<name>/{model,hf}. */
async function trainDemoSft(ctx: SeedContext, name: "sft" | "judge-sft", steps: number): Promise<Decoder> {
  const { config, tokenizer, world } = ctx;
  const dirs = ctx.model(name);
  const shape = name === "sft" ? config.model : judgeShape(config);
  const model = newDecoder({ vocabSize: tokenizer.vocabSize, ...shape }, config.seed, ctx.kernel);
  const { judgeSteps: _j, ...sft } = config.sft;
  await trainSft({
    model,
    tokenizer,
    train: world.demo.map((t) => ({ prompt: t.prompt ?? "", response: goldAnswer(t) })),
    options: { ...sft, steps, warmup: 20, seed: config.seed, evalEvery: 0, checkpointEvery: 100 },
    runDir: new RunDir(dirs.root),
  });
  saveModel(dirs.engine, model);
  await saveWorldModel(dirs.hf, model);
  return model;
}

/** Greedy held-out gold of `model`, logged under `label`. */
async function heldOutGold(ctx: SeedContext, model: Decoder, label: string): Promise<GoldScore> {
  const { world } = ctx;
  const answers = await greedy(model, ctx.tokenizer, world.eval);
  const score = goldByDomain(world.eval, await scoreResponses(ctx.gold, world.eval, answers));
  ctx.log(`  ${label} held-out gold accuracy ${pct(score.overall)} ${JSON.stringify(score.byDomain)}`);
  return score;
}

/** The judges' own SFT (models/judge-sft): `sft.judgeSteps` steps at the judges' shape. */
export async function judgeSft(ctx: SeedContext): Promise<void> {
  const steps = judgeSftSteps(ctx.config);
  const { dim, nLayers } = judgeShape(ctx.config);
  await heldOutGold(
    ctx,
    await trainDemoSft(ctx, "judge-sft", steps),
    `judges' SFT (${steps} steps, ${nLayers}×${dim})`,
  );
}

export const sftStage: Stage<GoldScore> = {
  name: "sft",
  what: () => "supervised fine-tuning on demonstrations",
  result: GoldScore,
  async run(ctx: SeedContext) {
    const { config } = ctx;
    const score = await heldOutGold(ctx, await trainDemoSft(ctx, "sft", config.sft.steps), "SFT");
    if (hasJudgeSft(config)) await judgeSft(ctx);
    return score;
  },
};
