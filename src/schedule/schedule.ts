// Curricula: a schedule is a list of stages, each with a length (in optimiser steps or in
// samples) and domain weights. The default is the paper's: math and code first, then
// everything (with the Pre-PPO selection merged into the pool).
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";

export const Stage = z
  .object({
    name: z.string().min(1),
    /** Length in optimiser steps (batches) ... */
    steps: z.number().int().positive().optional(),
    /** ... or in samples (prompts); the last batch of the stage is then partial. */
    samples: z.number().int().positive().optional(),
    /**
     * Relative weight of each domain in a batch. Omitted: every domain in the task set,
     * weighted by how many tasks it has (plain uniform sampling over tasks).
     */
    weights: z.record(z.string().min(1), z.number().nonnegative()).optional(),
  })
  .refine((s) => (s.steps === undefined) !== (s.samples === undefined), {
    message: "a stage needs exactly one of `steps` or `samples`",
    path: ["steps"],
  })
  .refine((s) => s.weights === undefined || Object.values(s.weights).some((w) => w > 0), {
    message: "at least one weight must be positive",
    path: ["weights"],
  });
export type Stage = z.infer<typeof Stage>;

export const Schedule = z.object({
  batchSize: z.number().int().positive(),
  seed: z.number().int().default(0),
  stages: z.array(Stage).min(1),
});
export type Schedule = z.infer<typeof Schedule>;

/**
 * The paper's curriculum: stage 1 trains on math and code only (verifiable, hard to hack)
 * for ≈1,000 of ≈3,500 steps; stage 2 adds everything, including the selected prompts.
 */
export function paperSchedule(
  options: { batchSize?: number; stage1Steps?: number; stage2Steps?: number; seed?: number } = {},
): Schedule {
  return {
    batchSize: options.batchSize ?? 64,
    seed: options.seed ?? 0,
    stages: [
      { name: "stage1-math-code", steps: options.stage1Steps ?? 1000, weights: { math: 1, code: 1 } },
      { name: "stage2-all", steps: options.stage2Steps ?? 2500 },
    ],
  };
}

/** The paper's curriculum for a run of `steps` steps, `stage1Fraction` of them math and code only. */
export function paperScheduleFor(o: {
  steps: number;
  stage1Fraction: number;
  batchSize: number;
  seed: number;
}): Schedule {
  const stage1 = Math.round(o.steps * o.stage1Fraction);
  return paperSchedule({
    batchSize: o.batchSize,
    seed: o.seed,
    stage1Steps: Math.max(1, stage1),
    stage2Steps: Math.max(1, o.steps - stage1),
  });
}

export function parseSchedule(raw: unknown, name: string): Schedule {
  const parsed = Schedule.safeParse(raw);
  if (!parsed.success) throw new DataScaleError("bad_schedule", `${name}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/** Steps of a stage for a batch size. */
export function stageSteps(stage: Stage, batchSize: number): number {
  return stage.steps ?? Math.ceil(stage.samples! / batchSize);
}

/** Prompts a stage consumes. */
export function stageSamples(stage: Stage, batchSize: number): number {
  return stage.samples ?? stage.steps! * batchSize;
}
