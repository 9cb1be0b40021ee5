// The reward sources of the experiment as RewardFns (the trainers' one way in), and the
// hybrid system that routes each domain to its source. The gold score is the family
// verifier; the judges are models trained in the pipeline and can be wrong, which is the point.
import { errorReward } from "../core/rewards.ts";
import type { Reward, RewardFn, Rollout } from "../core/schemas.ts";
import type { Decoder } from "../model/decoder.ts";
import type { Tokenizer } from "../model/types.ts";
import { genrmScores, rewardScores } from "../train/rm.ts";
import { createLogicVerifier } from "../verify/logic/index.ts";
import { goldAnswer, hybridSource, type RewardSource } from "./world.ts";

/** The Best-of-N reference a task carries (meta.bon), when one was built. */
export function bonReference(r: Pick<Rollout, "meta">): string | undefined {
  const bon = (r.meta as { bon?: unknown } | undefined)?.bon;
  return typeof bon === "string" ? bon : undefined;
}

const judged = (r: Rollout, source: string, score: number): Reward => ({
  id: r.id,
  score,
  verdict: score >= 0.5 ? "correct" : "incorrect",
  source,
});

export interface Judges {
  tokenizer: Tokenizer;
  /** Bradley–Terry reward model (reward head). */
  bt: Decoder;
  /** Generative judge: p(YES) for "is A at least as good as B?". */
  genrm: Decoder;
}

export function goldRewardFn(): RewardFn {
  const verifier = createLogicVerifier();
  return async (rollouts) => rollouts.map((r) => verifier.verify(r) as Reward);
}

/** One reward function per source; `judges` is needed for all but rtv. */
export function rewardFns(judges: Judges): Record<RewardSource, RewardFn> {
  const { tokenizer } = judges;
  const genrm =
    (source: "genrm-gt" | "genrm-bon"): RewardFn =>
    async (rollouts) => {
      const refs = rollouts.map((r) => (source === "genrm-gt" ? goldAnswer(r) : bonReference(r)));
      const ok = refs.flatMap((ref, i) => (ref === undefined ? [] : [i]));
      const scores = await genrmScores(
        judges.genrm,
        tokenizer,
        ok.map((i) => ({
          prompt: rollouts[i]!.prompt ?? "",
          response: rollouts[i]!.response,
          reference: refs[i]!,
        })),
      );
      const out: Reward[] = rollouts.map((r) =>
        errorReward(r.id, source, "no_reference", "the task has no Best-of-N reference (meta.bon)"),
      );
      ok.forEach((i, j) => {
        out[i] = judged(rollouts[i]!, source, scores[j]!);
      });
      return out;
    };
  return {
    rtv: goldRewardFn(),
    "genrm-gt": genrm("genrm-gt"),
    "genrm-bon": genrm("genrm-bon"),
    bt: async (rollouts) => {
      const raw = rewardScores(
        judges.bt,
        tokenizer,
        rollouts.map((r) => ({ prompt: r.prompt ?? "", response: r.response })),
      );
      // σ(r) puts the BT score in [0, 1] as Reward requires; PPO whitens advantages anyway.
      return rollouts.map((r, i) => judged(r, "bt", 1 / (1 + Math.exp(-raw[i]!))));
    },
  };
}

/** The paper's hybrid reward system: each rollout goes to its domain's source, in one call per source. */
export function hybridRewardFn(fns: Record<RewardSource, RewardFn>): RewardFn {
  return async (rollouts) => {
    const groups = new Map<RewardSource, number[]>();
    rollouts.forEach((r, i) => {
      const s = hybridSource(r.domain);
      groups.set(s, [...(groups.get(s) ?? []), i]);
    });
    const out: Reward[] = new Array(rollouts.length);
    // One source at a time: the judges share the kernel's worker threads.
    for (const [source, idx] of groups) {
      const rewards = await fns[source](idx.map((i) => rollouts[i]!));
      idx.forEach((i, j) => {
        out[i] = rewards[j]!;
      });
    }
    return out;
  };
}
