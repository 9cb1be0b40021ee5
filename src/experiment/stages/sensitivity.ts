// Stage `sensitivity`: for each held-out prompt, its SFT samples, the truth and two near
// misses are scored by each reward source; score gaps are binned by normalised edit distance
// (the paper's fine-grained-difference analysis), and the near pairs (distance < 0.2) are
// summarised for the decision rule.
import { z } from "zod";
import { normalisedEditDistance } from "../../metrics/diversity.ts";
import { SensitivityBins } from "../../metrics/sensitivity.ts";
import { scoreResponses } from "../policy.ts";
import { SensitivityCurve } from "../results.ts";
import { REWARD_SOURCES } from "../world.ts";
import { candidates, type SeedContext, type Stage } from "./context.ts";

/** Pairs closer than this (normalised edit distance) are "near-identical" (docs/experiment.md). */
export const NEAR = 0.2;

function nearStats(gaps: readonly number[]): { pairs: number; meanGap: number; sdGap: number } {
  const n = gaps.length;
  const m = gaps.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const v = n > 1 ? gaps.reduce((a, g) => a + (g - m) ** 2, 0) / (n - 1) : 0;
  return { pairs: n, meanGap: m, sdGap: Math.sqrt(v) };
}

const SensitivityResult = z.array(SensitivityCurve);

export const sensitivityStage: Stage<z.infer<typeof SensitivityResult>> = {
  name: "sensitivity",
  what: () => "score gap against edit distance, per reward source",
  result: SensitivityResult,
  async run(ctx: SeedContext) {
    const rewards = await ctx.rewards();
    const tasks = await ctx.withRefs("eval");
    const groups = [];
    for (const t of tasks) groups.push({ task: t, responses: await candidates(ctx, "eval", t) });
    // One batch per source: every group's responses at once.
    const flatTasks = groups.flatMap((g) => g.responses.map(() => g.task));
    const flatResponses = groups.flatMap((g) => g.responses);
    const out = [];
    for (const source of REWARD_SOURCES) {
      const scores = await scoreResponses(rewards.bySource[source], flatTasks, flatResponses);
      const bins = new SensitivityBins();
      const near: number[] = [];
      let k = 0;
      for (const g of groups) {
        // A response the source could not score (an `error` verdict, e.g. a judge input longer
        // than the judge holds) has no gap to anything: it sits out, and the pair counts show it.
        const scored = g.responses
          .map((response) => ({ response, score: scores[k++] ?? Number.NaN }))
          .filter((x) => Number.isFinite(x.score));
        bins.addGroup(scored);
        for (let i = 0; i < scored.length; i++)
          for (let j = i + 1; j < scored.length; j++)
            if (normalisedEditDistance(scored[i]!.response, scored[j]!.response) < NEAR)
              near.push(Math.abs(scored[i]!.score - scored[j]!.score));
      }
      out.push({ source, bins: bins.result(), near: nearStats(near) });
    }
    return out;
  },
};
