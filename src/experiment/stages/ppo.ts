// The PPO stages, one per run: the ladder (every prompt scored by one reward source) and the
// comparison (hybrid reward: baseline, DataScale and the two ablations). Each run starts
// from the SFT model and is evaluated through the training loop's hook, so a killed run
// resumes from its checkpoint with its evaluations intact.
import type { Task } from "../../core/schemas.ts";
import { type PpoContext, type PpoRunSpec, runPpo } from "../ppo-run.ts";
import { RunCurve } from "../results.ts";
import { REWARD_SOURCES, type RewardSource } from "../world.ts";
import { pct, type SeedContext, type Stage } from "./context.ts";
import { selectedTasks } from "./select.ts";

/**
 * Gold "on its own prompts" is measured on this many original prompts per family: a fixed
 * sample of the prompts every run trains on, so the evaluation's cost does not grow with the
 * training set (2 samples each, every evaluation, proxy-scored by the run's judge).
 */
const TRAIN_EVAL_PER_FAMILY = 128;

/** The first `n` tasks of each family of the world, in order. */
function firstPerFamily(tasks: readonly Task[], families: readonly string[], n: number): Task[] {
  return families.flatMap((f) => tasks.filter((t) => t.source === f).slice(0, n));
}

async function ppoContext(ctx: SeedContext): Promise<PpoContext> {
  const original = await ctx.withRefs("original");
  const evalTasks = await ctx.withRefs("eval");
  const families = ctx.config.world.map((f) => f.family);
  const perFamily = Math.max(1, Math.ceil(ctx.config.sizes.diversityPrompts / families.length));
  return {
    config: ctx.config,
    dir: `${ctx.dir}/ppo`,
    sftDir: ctx.model("sft").engine,
    kernel: ctx.kernel,
    tokenizer: ctx.tokenizer,
    trainEvalTasks: firstPerFamily(original, families, TRAIN_EVAL_PER_FAMILY),
    evalTasks,
    diversityTasks: firstPerFamily(evalTasks, families, perFamily),
    gold: ctx.gold,
    load: (role, heads) => ctx.ppoDecoder(role, heads),
  };
}

const runLine = (c: RunCurve) =>
  `  ${c.name}: held-out gold ${pct(c.points[0]!.heldout.overall)} → best ${pct(c.best.gold)} (step ${c.best.step}) → final ${pct(c.final.gold)}`;

function ppoStage(
  name: string,
  description: string,
  spec: (ctx: SeedContext) => Promise<Omit<PpoRunSpec, "name" | "description">>,
): Stage<RunCurve> {
  return {
    name: `ppo-${name}`,
    what: () => description,
    result: RunCurve,
    async run(ctx) {
      const c = await runPpo({ name, description, ...(await spec(ctx)) }, await ppoContext(ctx));
      ctx.log(runLine(c));
      return c;
    },
  };
}

const LADDER: Record<RewardSource, string> = {
  rtv: "every prompt rewarded by its verifier (RTV)",
  "genrm-gt": "every prompt rewarded by the GenRM against the ground truth",
  "genrm-bon": "every prompt rewarded by the GenRM against the SFT Best-of-N reference",
  bt: "every prompt rewarded by the Bradley–Terry reward model",
};

export const ladderStages: Stage<RunCurve>[] = REWARD_SOURCES.map((source) =>
  ppoStage(`ladder-${source}`, LADDER[source], async (ctx) => ({
    tasks: await ctx.withRefs("original"),
    reward: (await ctx.rewards()).bySource[source],
    curriculum: false,
  })),
);

/** The comparison runs: which prompts, and whether math and code go first. */
const COMPARISON: { name: string; description: string; selected: boolean; curriculum: boolean }[] = [
  {
    name: "baseline",
    description: "original + the whole new pool, uniform sampling, hybrid reward",
    selected: false,
    curriculum: false,
  },
  {
    name: "datascale",
    description: "original + Pre-PPO selected prompts, math and code first, hybrid reward",
    selected: true,
    curriculum: true,
  },
  {
    name: "selection-only",
    description: "original + Pre-PPO selected prompts, uniform sampling",
    selected: true,
    curriculum: false,
  },
  {
    name: "curriculum-only",
    description: "original + the whole new pool, math and code first",
    selected: false,
    curriculum: true,
  },
];

export const comparisonStages: Stage<RunCurve>[] = COMPARISON.map((c) =>
  ppoStage(c.name, c.description, async (ctx) => {
    const extra: Task[] = c.selected ? await selectedTasks(ctx) : await ctx.withRefs("pool");
    return {
      tasks: [...(await ctx.withRefs("original")), ...extra],
      reward: (await ctx.rewards()).hybrid,
      curriculum: c.curriculum,
    };
  }),
);
