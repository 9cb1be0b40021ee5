// Stage `references`: Best-of-N references — the BT RM's pick among each prompt's K SFT
// samples, written as reference.response by the code behind `datascale references build`
// (judge/references.ts), for the sets the policy is trained and evaluated on.
import { z } from "zod";
import { Task } from "../../core/schemas.ts";
import { readJsonlAll } from "../../io/jsonl.ts";
import type { BTJudge } from "../../judge/bt.ts";
import { buildReferences } from "../../judge/references.ts";
import { openSeedJudge } from "../reward-config.ts";
import { goldOf, mean, pct, type SeedContext, type Stage } from "./context.ts";

const REF_SETS = ["original", "pool", "eval"] as const;

/** What judge/references.ts records per task (meta.references). */
const WithReferences = z.looseObject({
  ...Task.shape,
  meta: z.looseObject({
    references: z.object({ best: z.number().int().nonnegative(), samples: z.array(z.string()) }),
  }),
});

const BonResult = z.object({ bonGold: z.number(), sampleGold: z.number(), prompts: z.number().int() });

export const referencesStage: Stage<z.infer<typeof BonResult>> = {
  name: "references",
  what: (c) => `Best-of-${c.samples} references picked by the BT model`,
  result: BonResult,
  async run(ctx: SeedContext) {
    const judge = (await openSeedJudge(ctx.dir, "bt", ctx.kernel)) as BTJudge;
    try {
      for (const set of REF_SETS) {
        const samples = await ctx.samples(set);
        await buildReferences({
          input: ctx.data(`${set}.jsonl`),
          output: ctx.refsPath(set),
          policy: {
            name: "sft (data/samples)",
            sample: async (tasks) => tasks.map((t) => samples.get(String(t.id)) ?? [""]),
          },
          rm: judge,
          n: ctx.config.samples,
          maxTokens: 0,
          temperature: 1,
          seed: ctx.config.seed,
          batch: 64,
          resume: false,
        });
      }
    } finally {
      await judge.close();
    }
    const bonGold: number[] = [];
    const firstGold: number[] = [];
    for (const set of REF_SETS)
      for (const t of await readJsonlAll(ctx.refsPath(set), WithReferences)) {
        const { best, samples } = t.meta.references;
        const g = await goldOf(ctx, t as Task, samples);
        bonGold.push(g[best]!);
        firstGold.push(g[0]!);
      }
    ctx.log(
      `  Best-of-${ctx.config.samples} gold ${pct(mean(bonGold))} vs one sample ${pct(mean(firstGold))}`,
    );
    return { bonGold: mean(bonGold), sampleGold: mean(firstGold), prompts: bonGold.length };
  },
};
