// Stage `genrm`: the generative judge — the SFT model trained to answer YES/NO to the judge's
// own question (judge/genrm.ts genrmMessages, tokenized by the backend that serves it), so
// training and judging cannot drift. Judgements by gold: a response against the truth (what
// GenRM-GT sees) and against another sample (what GenRM-BoN sees).
import { z } from "zod";
import type { Task } from "../../core/schemas.ts";
import { genrmMessages } from "../../judge/genrm.ts";
import { Rng } from "../../model/rng.ts";
import type { PromptResponse } from "../../train/data.ts";
import { loadDecoder } from "../../train/models.ts";
import { RunDir, saveModel } from "../../train/rundir.ts";
import { trainSft } from "../../train/sft.ts";
import { saveWorldModel, WORLD_GENRM_TEMPLATE } from "../judge-models.ts";
import { goldAnswer, nearMisses, type SetName } from "../world.ts";
import { goldOf, pct, type SeedContext, type Stage } from "./context.ts";

interface JudgeItem {
  task: Task;
  a: string;
  b: string;
  yes: boolean;
  bIsTruth: boolean;
}

/**
 * Every judgement of a set: each candidate (samples and near misses) against the truth and
 * against each other candidate, plus the truth against itself. YES would dominate (two wrong
 * answers tie), so training items are balanced by dropping YES ones deterministically;
 * otherwise answering YES always is a cheap optimum for a small judge.
 */
async function judgeItems(ctx: SeedContext, set: SetName, balance: boolean): Promise<JudgeItem[]> {
  const samples = await ctx.samples(set);
  const items: JudgeItem[] = [];
  for (const t of ctx.world[set]) {
    const truth = goldAnswer(t);
    const cands = [...new Set([...(samples.get(String(t.id)) ?? []), ...nearMisses(truth, String(t.id))])];
    const g = await goldOf(ctx, t, cands);
    for (let i = 0; i < cands.length; i++) {
      items.push({ task: t, a: cands[i]!, b: truth, yes: g[i]! >= 1, bIsTruth: true });
      for (let j = 0; j < cands.length; j++)
        if (i !== j)
          items.push({ task: t, a: cands[i]!, b: cands[j]!, yes: g[i]! >= g[j]!, bIsTruth: false });
    }
    items.push({ task: t, a: truth, b: truth, yes: true, bIsTruth: true });
  }
  if (!balance) return items;
  const no = items.filter((x) => !x.yes).length;
  const yes = items.length - no;
  const rng = new Rng(ctx.config.seed + 17);
  return items.filter((x) => !x.yes || yes <= no || rng.next() < no / yes);
}

async function example(
  ctx: SeedContext,
  prompt: string,
  a: string,
  b: string,
  yes: boolean,
): Promise<PromptResponse> {
  const messages = genrmMessages(WORLD_GENRM_TEMPLATE, { prompt, first: a, second: b });
  return { prompt: "", promptIds: await ctx.encode({ messages }), response: yes ? "YES" : "NO" };
}

/** Training examples: the balanced judgements plus comparison drills from the demonstrations. */
async function examples(ctx: SeedContext): Promise<{ judged: number; drills: number; ex: PromptResponse[] }> {
  const ex: PromptResponse[] = [];
  for (const x of await judgeItems(ctx, "preference", true))
    ex.push(await example(ctx, x.task.prompt ?? "", x.a, x.b, x.yes));
  const judged = ex.length;
  // The truth against itself (YES) and against a near miss (NO): plentiful and balanced, they
  // teach a small judge to compare with a reference, which it does not pick up from judgements alone.
  for (const t of ctx.world.demo) {
    const truth = goldAnswer(t);
    ex.push(await example(ctx, t.prompt ?? "", truth, truth, true));
    for (const miss of nearMisses(truth, String(t.id)).slice(0, 1))
      ex.push(await example(ctx, t.prompt ?? "", miss, truth, false));
  }
  return { judged, drills: ex.length - judged, ex };
}

/** Balanced accuracy (mean of the YES and the NO items' accuracies) of p ≥ 0.5 against gold. */
function balancedAccuracy(items: readonly JudgeItem[], p: readonly number[]): number {
  const acc = (yes: boolean) => {
    const idx = items.flatMap((x, i) => (x.yes === yes && Number.isFinite(p[i]) ? [i] : []));
    return idx.length === 0 ? null : idx.filter((i) => p[i]! >= 0.5 === yes).length / idx.length;
  };
  const parts = [acc(true), acc(false)].filter((x): x is number => x !== null);
  return parts.reduce((a, b) => a + b, 0) / Math.max(1, parts.length);
}

const GenrmResult = z.object({
  gtAccuracy: z.number(),
  gtItems: z.number().int(),
  bonAccuracy: z.number(),
  bonItems: z.number().int(),
  examples: z.number().int(),
});

export const genrmStage: Stage<z.infer<typeof GenrmResult>> = {
  name: "genrm",
  what: () => "generative judge (GenRM) on judgements",
  result: GenrmResult,
  async run(ctx: SeedContext) {
    const { config, tokenizer } = ctx;
    const { judged, drills, ex } = await examples(ctx);
    const dirs = ctx.model("genrm");
    const model = loadDecoder(ctx.model("sft").engine, {}, config.seed, ctx.kernel);
    await trainSft({
      model,
      tokenizer,
      train: ex,
      options: { ...config.genrm, warmup: 20, seed: config.seed, evalEvery: 0, checkpointEvery: 100 },
      runDir: new RunDir(dirs.root),
    });
    saveModel(dirs.engine, model);
    await saveWorldModel(dirs.hf, model);
    // Measured through the seed's reward system: the judge PPO will be rewarded by.
    const judge = (await ctx.rewards()).system.judges.get("genrm")!;
    const items = await judgeItems(ctx, "eval", false);
    const rewards = await judge.judge(
      items.map((x, i) => ({ ...x.task, id: i, response: x.a, reference: { answer: x.b } })),
      "gt",
    );
    const p = rewards.map((r) => (r.verdict === "error" ? Number.NaN : r.score));
    const part = (gt: boolean) => items.flatMap((x, i) => (x.bIsTruth === gt ? [i] : []));
    const [gt, bon] = [part(true), part(false)];
    const gtAccuracy = balancedAccuracy(
      gt.map((i) => items[i]!),
      gt.map((i) => p[i]!),
    );
    const bonAccuracy = balancedAccuracy(
      bon.map((i) => items[i]!),
      bon.map((i) => p[i]!),
    );
    ctx.log(
      `  GenRM: ${judged} judgements + ${drills} comparison drills; held-out balanced accuracy against gold: vs ground truth ${pct(gtAccuracy)}, vs a sample ${pct(bonAccuracy)}`,
    );
    return { gtAccuracy, gtItems: gt.length, bonAccuracy, bonItems: bon.length, examples: ex.length };
  },
};
