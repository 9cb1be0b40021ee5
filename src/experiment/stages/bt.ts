// Stage `bt`: the Bradley–Terry reward model (SFT weights + a reward head) trained on every
// gold-ordered pair among each preference prompt's SFT samples, the truth and two near
// misses — what a human-labelled comparison set would say. Trained on the exact input text
// its judge classifies (judge/bt.ts btInput), and measured through that judge.
import { z } from "zod";
import { btInput } from "../../judge/bt.ts";
import type { PreferenceRecord } from "../../train/data.ts";
import { loadDecoder } from "../../train/models.ts";
import { trainRewardModel } from "../../train/rm.ts";
import { RunDir, saveModel } from "../../train/rundir.ts";
import { saveWorldModel, WORLD_BT_FORMAT } from "../judge-models.ts";
import { openSeedJudge } from "../reward-config.ts";
import type { SetName } from "../world.ts";
import { candidates, goldOf, pct, type SeedContext, type Stage } from "./context.ts";

/** Every (better, worse) pair by gold among a set's candidates. */
async function pairsFor(ctx: SeedContext, set: SetName): Promise<PreferenceRecord[]> {
  const out: PreferenceRecord[] = [];
  for (const t of ctx.world[set]) {
    const cands = await candidates(ctx, set, t);
    const g = await goldOf(ctx, t, cands);
    for (let i = 0; i < cands.length; i++)
      for (let j = 0; j < cands.length; j++)
        if (g[i]! > g[j]!) out.push({ prompt: t.prompt ?? "", chosen: cands[i]!, rejected: cands[j]! });
  }
  return out;
}

/** Pairwise accuracy of a judge's scores against the gold ordering (ties count ½). */
async function accuracy(ctx: SeedContext, pairs: readonly PreferenceRecord[]): Promise<number> {
  const judge = await openSeedJudge(ctx.dir, "bt", ctx.kernel);
  try {
    const rollout = (p: PreferenceRecord, response: string, i: number) => ({
      id: i,
      domain: "general",
      prompt: p.prompt,
      response,
    });
    const chosen = await judge.judge(
      pairs.map((p, i) => rollout(p, p.chosen, i)),
      "none",
    );
    const rejected = await judge.judge(
      pairs.map((p, i) => rollout(p, p.rejected, i)),
      "none",
    );
    let acc = 0;
    pairs.forEach((_, i) => {
      const [a, b] = [chosen[i]!.score, rejected[i]!.score];
      acc += a > b ? 1 : a === b ? 0.5 : 0;
    });
    return acc / Math.max(1, pairs.length);
  } finally {
    await judge.close?.();
  }
}

const BtResult = z.object({ accuracy: z.number(), pairs: z.number().int(), trainPairs: z.number().int() });

export const btStage: Stage<z.infer<typeof BtResult>> = {
  name: "bt",
  what: () => "Bradley–Terry reward model on preference pairs",
  result: BtResult,
  async run(ctx: SeedContext) {
    const { config, tokenizer } = ctx;
    const train = await pairsFor(ctx, "preference");
    const held = await pairsFor(ctx, "eval");
    const dirs = ctx.model("bt");
    const model = loadDecoder(ctx.judgeBase(), { rewardHead: true }, config.seed, ctx.kernel);
    const texts = new Map<string, number[]>();
    for (const p of train)
      for (const r of [p.chosen, p.rejected]) {
        const text = btInput(WORLD_BT_FORMAT, p.prompt, r);
        if (!texts.has(text)) texts.set(text, await ctx.encode({ prompt: text }));
      }
    await trainRewardModel({
      model,
      tokenizer,
      train,
      options: { ...config.rm, warmup: 10, seed: config.seed, evalEvery: 0, checkpointEvery: 100 },
      runDir: new RunDir(dirs.root),
      encode: (prompt, response) => texts.get(btInput(WORLD_BT_FORMAT, prompt, response)) ?? [],
    });
    saveModel(dirs.engine, model);
    await saveWorldModel(dirs.hf, model);
    const acc = await accuracy(ctx, held);
    ctx.log(
      `  BT: ${train.length} training pairs; held-out pairwise accuracy ${pct(acc)} on ${held.length} pairs`,
    );
    return { accuracy: acc, pairs: held.length, trainPairs: train.length };
  },
};
