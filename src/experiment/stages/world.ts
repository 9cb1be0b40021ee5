// Stage `world`: the seed's task sets, written to data/<set>.jsonl.
import { mkdir } from "node:fs/promises";
import { z } from "zod";
import { writeFileAtomic } from "../../io/rundir.ts";
import type { SeedContext, Stage } from "./context.ts";

const WorldResult = z.record(z.string(), z.number().int().nonnegative());

export const worldStage: Stage<z.infer<typeof WorldResult>> = {
  name: "world",
  what: () => "writing the task sets",
  result: WorldResult,
  async run(ctx: SeedContext) {
    await mkdir(ctx.data(""), { recursive: true });
    for (const [set, tasks] of Object.entries(ctx.world))
      await writeFileAtomic(ctx.data(`${set}.jsonl`), tasks.map((t) => `${JSON.stringify(t)}\n`).join(""));
    return Object.fromEntries(Object.entries(ctx.world).map(([k, v]) => [k, v.length]));
  },
};
