// Stage `samples`: K SFT samples (temperature 1, seeded) per prompt of every set that needs
// them — reward-model data, Best-of-N references, selection, sensitivity.
import { z } from "zod";
import { writeFileAtomic } from "../../io/rundir.ts";
import { sampleK } from "../policy.ts";
import type { SeedContext, Stage } from "./context.ts";

const SAMPLED = ["preference", "original", "pool", "eval"] as const;
const SamplesResult = z.record(z.string(), z.number().int().nonnegative());

export const samplesStage: Stage<z.infer<typeof SamplesResult>> = {
  name: "samples",
  what: (c) => `${c.samples} SFT samples per prompt`,
  result: SamplesResult,
  async run(ctx: SeedContext) {
    const out: Record<string, number> = {};
    for (const set of SAMPLED) {
      const tasks = ctx.world[set];
      const samples = await sampleK(
        ctx.sft(),
        ctx.tokenizer,
        tasks,
        ctx.config.samples,
        ctx.config.seed + 101,
      );
      await writeFileAtomic(
        ctx.samplesPath(set),
        tasks.map((t, i) => `${JSON.stringify({ id: t.id, samples: samples[i] })}\n`).join(""),
      );
      out[set] = tasks.length;
    }
    return out;
  },
};
