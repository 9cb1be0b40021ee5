// The records and settings of Pre-PPO selection.
import { z } from "zod";
import { Id, type RewardFn, Task } from "../core/schemas.ts";

/** What selection needs from a policy: K responses for each task, in task order. */
export type SampleFn = (tasks: readonly Task[], k: number) => Promise<string[][]>;

/** A pool line: a Task, optionally with pre-generated responses to score. */
export const PoolRecord = z
  .looseObject({ ...Task.shape, responses: z.array(z.string()).optional() })
  .refine((t) => t.prompt !== undefined || t.messages !== undefined, {
    message: "a task needs `prompt` or `messages`",
    path: ["prompt"],
  });
export type PoolRecord = z.infer<typeof PoolRecord>;

export const NORMALISATIONS = ["zscore", "rank", "none"] as const;
export type Normalisation = (typeof NORMALISATIONS)[number];

/**
 * One line per non-blank pool line, in pool order (pass 1's output in the run directory).
 * `scored`: mean/var over `n` samples; `passthrough`: an unfiltered domain, not scored;
 * `bad`: the line failed to parse; `error`: a sample's reward was an `error` verdict (an
 * infrastructure failure), so the prompt has no trustworthy score and is not selected.
 */
export const ScoreRecord = z.object({
  line: z.number().int().positive(),
  status: z.enum(["scored", "passthrough", "bad", "error"]),
  id: Id.optional(),
  domain: z.string().optional(),
  n: z.number().int().nonnegative().optional(),
  mean: z.number().optional(),
  var: z.number().optional(),
  message: z.string().optional(),
});
export type ScoreRecord = z.infer<typeof ScoreRecord>;

export interface SelectOptions {
  pool: string;
  original?: string;
  out: string;
  runDir: string;
  resume: boolean;
  reward: RewardFn;
  /** Draws responses when a pool record has none. */
  sample?: SampleFn;
  /** Samples per prompt (K). Pre-generated responses beyond K are ignored. */
  samples: number;
  keep: number;
  normalisation: Normalisation;
  unfiltered: readonly string[];
  /** Drop prompts whose reward variance across samples is below this (Seed1.5). */
  minVariance?: number;
  /** Prompts per reward call, and reward calls in flight at once. */
  batchPrompts?: number;
  concurrency?: number;
  exactCapacity?: number;
  /** Seed for the deterministic tie-break at the cut. */
  seed?: number;
  progress?: boolean;
  /** Stops after this many newly scored prompts (tests use it to simulate a stop). */
  stopAfter?: number;
  log?: (line: string) => void;
}

/** What the key of a run directory holds: a resumed run must agree on all of it. */
export function runKey(o: SelectOptions, poolSize: number): Record<string, unknown> {
  return { pool: o.pool, poolSize, samples: o.samples, unfiltered: [...o.unfiltered] };
}
