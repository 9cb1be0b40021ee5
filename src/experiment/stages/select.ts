// Stage `select`: Pre-PPO selection (src/select, the code of `datascale select`) on the new
// pool with its SFT samples, scored by the seed's hybrid reward system, z-scored per domain,
// the lowest `keep` of the filtered domains kept, math and code kept whole.
import { join } from "node:path";
import { Task } from "../../core/schemas.ts";
import { JsonlWriter, readJsonlAll } from "../../io/jsonl.ts";
import { selectPrompts } from "../../select/select.ts";
import { ScoreRecord } from "../../select/types.ts";
import { Selection } from "../results.ts";
import { DOMAINS } from "../world.ts";
import { goldOf, mean, pct, type SeedContext, type Stage } from "./context.ts";

const UNFILTERED = ["math", "code"];

async function runSelection(ctx: SeedContext): Promise<void> {
  const samples = await ctx.samples("pool");
  const poolPath = ctx.data("pool-with-samples.jsonl");
  const w = new JsonlWriter(poolPath);
  for (const t of await ctx.withRefs("pool"))
    await w.write({ ...t, responses: samples.get(String(t.id)) ?? [] });
  await w.close();
  const result = await selectPrompts({
    pool: poolPath,
    out: ctx.data("selected.jsonl"),
    runDir: join(ctx.dir, "select"),
    resume: true,
    reward: (await ctx.rewards()).hybrid,
    samples: ctx.config.samples,
    keep: ctx.config.keep,
    normalisation: "zscore",
    unfiltered: UNFILTERED,
    seed: ctx.config.seed,
    // One reward call at a time: the judges' batches, and so the run, stay deterministic.
    concurrency: 1,
  });
  ctx.log(`  selected ${result.report.kept} prompts`);
}

/** The selected prompts from the new pool (data/selected.jsonl less the original prompts). */
export async function selectedTasks(ctx: SeedContext): Promise<Task[]> {
  const all = await readJsonlAll(ctx.data("selected.jsonl"), Task);
  return all.filter((t) => !String(t.id).startsWith("original-"));
}

export const selectStage: Stage<Selection> = {
  name: "select",
  what: (c) => `Pre-PPO selection: keep the hardest ${pct(c.keep)} of the filtered domains`,
  result: Selection,
  async run(ctx: SeedContext) {
    await runSelection(ctx);
    // Per-domain figures from pass 1's scores and the selected file.
    const scores = new Map<string, number>();
    for (const r of await readJsonlAll(join(ctx.dir, "select", "scores.jsonl"), ScoreRecord))
      if (r.id !== undefined && r.mean !== undefined) scores.set(String(r.id), r.mean);
    const kept = new Set((await selectedTasks(ctx)).map((t) => String(t.id)));
    const pool = await ctx.withRefs("pool");
    const samples = await ctx.samples("pool");
    const goldMean = new Map<string, number>();
    for (const t of pool)
      goldMean.set(String(t.id), mean(await goldOf(ctx, t, samples.get(String(t.id)) ?? [""])));
    const domains = DOMAINS.map((domain) => {
      const ts = pool.filter((t) => t.domain === domain);
      const keptTs = ts.filter((t) => kept.has(String(t.id)));
      const sc = ts.flatMap((t) => (scores.has(String(t.id)) ? [scores.get(String(t.id))!] : []));
      const goldIn = (xs: Task[]) =>
        xs.length === 0 ? null : mean(xs.map((t) => goldMean.get(String(t.id))!));
      return {
        domain,
        pool: ts.length,
        kept: keptTs.length,
        filtered: !UNFILTERED.includes(domain),
        meanScore: mean(sc),
        aboveHalf: mean(sc.map((s) => (s > 0.5 ? 1 : 0))),
        goldKept: goldIn(keptTs),
        goldPool: goldIn(ts),
      };
    });
    ctx.log(`  ${domains.map((d) => `${d.domain} ${d.kept}/${d.pool}`).join(", ")}`);
    return { keep: ctx.config.keep, samples: ctx.config.samples, normalisation: "zscore", domains };
  },
};
