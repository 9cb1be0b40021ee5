// Stage `genrm`: the generative judge — the SFT model trained to answer YES/NO to the judge's
// own question (judge/genrm.ts genrmMessages, tokenized by the backend that serves it), so
// training and judging cannot drift: does this response match the reference? Trained against
// the truth; measured against the truth (GenRM-GT) and against the Best-of-N (GenRM-BoN).
// Its examples and its balanced accuracy are those of `datascale train genrm` with
// `format: reference` (train/genrm-reference.ts), so a user trains the same kind of judge.
import { z } from "zod";
import type { Task } from "../../core/schemas.ts";
import { Rng } from "../../model/rng.ts";
import type { PromptResponse } from "../../train/data.ts";
import { balancedAccuracy, referenceExample } from "../../train/genrm-reference.ts";
import { loadDecoder } from "../../train/models.ts";
import { RunDir, saveModel } from "../../train/rundir.ts";
import { trainSft } from "../../train/sft.ts";
import { saveWorldModel, WORLD_GENRM_TEMPLATE } from "../judge-models.ts";
import { goldAnswer, nearMisses, type SetName } from "../world.ts";
import { candidates, goldOf, pct, type SeedContext, type Stage } from "./context.ts";

interface JudgeItem {
  task: Task;
  /** The response judged. */
  a: string;
  /** The reference it is judged against. */
  b: string;
  /** Gold: is the response right (its family's verifier gives full marks)? */
  yes: boolean;
}

/**
 * Pointwise judgements against the truth: each candidate (SFT samples and near misses) and
 * the truth itself, YES when the candidate is right. A pointwise "does this answer match the
 * reference" is what GenRM-GT needs and what a small judge can learn; the pairwise "A at least
 * as good as B" between two samples it could not (measured: 61 % balanced accuracy against the
 * truth when half its data was pairwise). `balance` drops YES or NO items deterministically
 * until both classes are equal: a judge that always answers the majority is a cheap optimum.
 */
async function judgeItems(ctx: SeedContext, set: SetName, balance: boolean): Promise<JudgeItem[]> {
  const items = await itemsAgainst(ctx, set, ctx.world[set], goldAnswer);
  return balance ? balanced(items, ctx.config.seed + 17) : items;
}

/**
 * Each candidate of each task (the truth, its SFT samples, two near misses) against the
 * reference `refOf` gives it (none: the task sits out), labelled by gold.
 */
async function itemsAgainst(
  ctx: SeedContext,
  set: SetName,
  tasks: readonly Task[],
  refOf: (t: Task) => string | undefined,
): Promise<JudgeItem[]> {
  const items: JudgeItem[] = [];
  for (const t of tasks) {
    const ref = refOf(t);
    if (ref === undefined) continue;
    const truth = goldAnswer(t);
    const cands = [truth, ...(await candidates(ctx, set, t)).filter((c) => c !== truth)];
    const g = await goldOf(ctx, t, cands);
    for (const [i, a] of cands.entries()) items.push({ task: t, a, b: ref, yes: g[i]! >= 1 });
  }
  return items;
}

/** The items with the larger class thinned at random (seeded) to the smaller one's size. */
function balanced(items: readonly JudgeItem[], seed: number): JudgeItem[] {
  const no = items.filter((x) => !x.yes).length;
  const yes = items.length - no;
  const rng = new Rng(seed);
  const keep = (x: JudgeItem) =>
    x.yes ? yes <= no || rng.next() < no / yes : no <= yes || rng.next() < yes / no;
  return items.filter(keep);
}

/**
 * What GenRM-BoN sees on the held-out prompts: each candidate against the prompt's Best-of-N
 * reference (not the truth), labelled by gold. The judge is the same; only the reference is
 * noisier — the paper's point about judging without ground truth.
 */
async function bonItems(ctx: SeedContext): Promise<JudgeItem[]> {
  return itemsAgainst(ctx, "eval", await ctx.withRefs("eval"), (t) => {
    const ref = (t.reference as { response?: unknown } | undefined)?.response;
    return typeof ref === "string" ? ref : undefined;
  });
}

/** One judgement as `datascale train genrm` (format: reference) builds it, tokenized as served. */
function example(
  ctx: SeedContext,
  prompt: string,
  a: string,
  b: string,
  yes: boolean,
): Promise<PromptResponse> {
  return referenceExample(
    WORLD_GENRM_TEMPLATE,
    { prompt, response: a, reference: b, label: yes },
    (messages) => ctx.encode({ messages }),
  );
}

/** Training examples: balanced judgements of the preference and demonstration prompts. */
async function examples(ctx: SeedContext): Promise<{ judged: number; drills: number; ex: PromptResponse[] }> {
  const ex: PromptResponse[] = [];
  for (const x of await judgeItems(ctx, "preference", true))
    ex.push(await example(ctx, x.task.prompt ?? "", x.a, x.b, x.yes));
  const judged = ex.length;
  // The truth against itself (YES) and against a near miss (NO) on the demonstrations:
  // plentiful and balanced, they teach comparing with the reference beyond the preference set.
  for (const t of ctx.world.demo) {
    const truth = goldAnswer(t);
    ex.push(await example(ctx, t.prompt ?? "", truth, truth, true));
    for (const miss of nearMisses(truth, String(t.id)).slice(0, 1))
      ex.push(await example(ctx, t.prompt ?? "", miss, truth, false));
  }
  return { judged, drills: ex.length - judged, ex };
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
    const model = loadDecoder(ctx.judgeBase(), {}, config.seed, ctx.kernel);
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
    const accuracyOn = async (items: readonly JudgeItem[]) => {
      const rewards = await judge.judge(
        items.map((x, i) => ({ ...x.task, id: i, response: x.a, reference: { answer: x.b } })),
        "gt",
      );
      return balancedAccuracy(
        items.map((x) => x.yes),
        rewards.map((r) => (r.verdict === "error" ? Number.NaN : r.score)),
      );
    };
    const gt = await judgeItems(ctx, "eval", false);
    const bon = await bonItems(ctx);
    const gtAccuracy = await accuracyOn(gt);
    const bonAccuracy = await accuracyOn(bon);
    ctx.log(
      `  GenRM: ${judged} judgements + ${drills} comparison drills; held-out balanced accuracy against gold: against the ground truth ${pct(gtAccuracy)}, against the Best-of-${config.samples} reference ${pct(bonAccuracy)}`,
    );
    return { gtAccuracy, gtItems: gt.length, bonAccuracy, bonItems: bon.length, examples: ex.length };
  },
};
