// The procedural world the main job trains in: task families standing for the paper's prompt
// categories (the default is config.ts DEFAULT_WORLD; `world:` in a run's config changes it).
// Every task has a gold score (its family's verifier), but the reward system sees only what
// the paper's would: math and code are checked by verifiers (RTV); logic puzzles come with a
// ground-truth answer a judge compares against (GenRM-GT); the "general" prompts stand for
// open-ended ones — no verifier and no ground truth, only a judge and a Best-of-N reference
// from the SFT model (GenRM-BoN).
import { z } from "zod";
import { DataScaleError } from "../core/errors.ts";
import type { Reward, RewardFn, Task } from "../core/schemas.ts";
import { Rng } from "../model/rng.ts";
import { getFamily } from "../tasks/index.ts";
import { createLogicVerifier } from "../verify/logic/index.ts";
import type { SeedConfig } from "./config.ts";

export type RewardSource = "rtv" | "genrm-gt" | "genrm-bon" | "bt";
export const REWARD_SOURCES: readonly RewardSource[] = ["rtv", "genrm-gt", "genrm-bon", "bt"];
export const DOMAINS = ["math", "code", "logic", "general"] as const;

export const WorldFamily = z
  .object({
    family: z.string().refine((f) => getFamily(f) !== undefined, { message: "unknown task family" }),
    /** The domain the experiment files the family under (curriculum and selection use it). */
    domain: z.enum(DOMAINS),
    /** The hybrid reward system's source for this domain. */
    reward: z.enum(["rtv", "genrm-gt", "genrm-bon"]),
    /**
     * Difficulty levels tasks are drawn from: where each family has thousands of distinct
     * prompts (so the held-out set can be disjoint from training) and a small model can learn
     * some but not all of them.
     */
    difficulties: z.array(z.number().min(0).max(10)).min(1),
  })
  .strict();
export type WorldFamily = z.infer<typeof WorldFamily>;

/**
 * The world every family list must be: one reward source per domain (the hybrid router routes
 * by domain), so a domain's families cannot disagree on who scores them.
 */
export const World = z
  .array(WorldFamily)
  .min(1)
  .superRefine((families, ctx) => {
    for (const [i, f] of families.entries()) {
      const first = families.find((g) => g.domain === f.domain)!;
      if (first.reward !== f.reward)
        ctx.addIssue({
          code: "custom",
          path: [i, "reward"],
          message: `domain ${f.domain} is already rewarded by ${first.reward} (${first.family})`,
        });
    }
  });

/** The previous design's seven families (kept for `--config` users; not the default world). */
export const SEVEN_FAMILIES: readonly WorldFamily[] = [
  { family: "arithmetic", domain: "math", reward: "rtv", difficulties: [1] },
  { family: "word_problem", domain: "math", reward: "rtv", difficulties: [0] },
  { family: "code_output", domain: "code", reward: "rtv", difficulties: [0, 0.5] },
  { family: "sorting", domain: "logic", reward: "genrm-gt", difficulties: [0, 0.5] },
  { family: "graph_reachability", domain: "logic", reward: "genrm-gt", difficulties: [0.5] },
  { family: "string_transform", domain: "general", reward: "genrm-bon", difficulties: [0, 0.5] },
  { family: "multiple_choice", domain: "general", reward: "genrm-bon", difficulties: [0] },
];

export type SetName = "demo" | "preference" | "original" | "pool" | "eval";
const SET_SEEDS: Record<SetName, number> = {
  demo: 1_000_000,
  preference: 2_000_000,
  original: 3_000_000,
  pool: 4_000_000,
  eval: 5_000_000,
};

/** The gold answer of a task (every family puts it in reference.answer). */
export function goldAnswer(task: Task): string {
  const answer = (task.reference as { answer?: unknown } | undefined)?.answer;
  return typeof answer === "string" ? answer : String(answer ?? "");
}

function makeTask(set: SetName, f: WorldFamily, seed: number, difficulty: number, index: number): Task {
  const family = getFamily(f.family);
  if (family === undefined) throw new Error(`unknown task family ${f.family}`);
  const t = family.generate(seed, difficulty);
  return { ...t, id: `${set}-${f.family}-${index}`, domain: f.domain, source: f.family };
}

/**
 * The task sets, deterministic in the seed. No prompt appears twice, in one set or across sets
 * (small difficulty levels repeat prompts): the held-out set is held out, and RL's prompts are
 * not demonstrations the SFT model has memorised — gold on them starts where held-out gold does.
 */
export function buildWorld(config: Pick<SeedConfig, "seed" | "sizes" | "world">): Record<SetName, Task[]> {
  const sets = {} as Record<SetName, Task[]>;
  const seen = new Set<string>();
  for (const set of ["demo", "preference", "original", "pool", "eval"] as const) {
    const out: Task[] = [];
    for (const [fi, f] of config.world.entries()) {
      const rng = new Rng(config.seed * 7919 + SET_SEEDS[set] + fi);
      let made = 0;
      for (let attempt = 0; made < config.sizes[set] && attempt < config.sizes[set] * 50; attempt++) {
        const difficulty = f.difficulties[Math.floor(rng.next() * f.difficulties.length)]!;
        const seed = SET_SEEDS[set] + config.seed * 100_003 + fi * 10_007 + attempt;
        const task = makeTask(set, f, seed, difficulty, made);
        if (seen.has(task.prompt ?? "")) continue;
        seen.add(task.prompt ?? "");
        out.push(task);
        made++;
      }
      if (made < config.sizes[set])
        throw new DataScaleError(
          "bad_config",
          `world: ${f.family} at difficulties [${f.difficulties.join(", ")}] has too few distinct prompts for the sets (${set}: ${made} of ${config.sizes[set]}); lower sizes or add a difficulty level`,
        );
    }
    sets[set] = out;
  }
  return sets;
}

/** The gold score of any response: its family's verifier, in-process (what the findings measure). */
export function goldRewardFn(): RewardFn {
  const verifier = createLogicVerifier();
  return async (rollouts) => rollouts.map((r) => verifier.verify(r) as Reward);
}

/**
 * Two near misses of the truth: wrong answers one edit away (or the other option of a yes/no
 * or multiple-choice answer). Reward-model data needs them — SFT samples alone rarely hold a
 * wrong answer that close to the right one — and the sensitivity test scores them.
 */
export function nearMisses(truth: string, id: string): string[] {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return [nearMiss(truth, h), nearMiss(truth, h + 3)].filter((x) => x !== truth);
}

/** A one-edit wrong variant of an answer (yes↔no, A→B for choices, one character changed otherwise). */
function nearMiss(s: string, salt: number): string {
  if (s === "yes") return "no";
  if (s === "no") return "yes";
  if (/^[A-E]$/.test(s)) return String.fromCharCode(65 + ((s.charCodeAt(0) - 65 + 1 + (salt % 2)) % 5));
  if (s.length === 0) return "0";
  const i = salt % s.length;
  const ch = s[i]!;
  const c = s.charCodeAt(i);
  const swap = /[0-9]/.test(ch)
    ? String.fromCharCode(48 + ((c - 48 + 1 + (salt % 8)) % 10))
    : /[a-z]/.test(ch)
      ? String.fromCharCode(97 + ((c - 97 + 1 + (salt % 24)) % 26))
      : /[A-Z]/.test(ch)
        ? String.fromCharCode(65 + ((c - 65 + 1 + (salt % 24)) % 26))
        : ch === "-"
          ? ""
          : "1";
  return s.slice(0, i) + swap + s.slice(i + 1);
}
