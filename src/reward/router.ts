// The hybrid router: sends each rollout to the reward source that is hardest to hack for
// it (first matching route), runs each source on its share as one batch, and puts the
// rewards back in input order. Combined sources are weighted means with optional gates.
import { errorReward } from "../core/rewards.ts";
import type { Reward, RewardFn, Rollout } from "../core/schemas.ts";
import type { Judge } from "../judge/types.ts";
import type { RewardConfig, RewardLeaf, RewardSpec, RouteMatch } from "./config.ts";

export interface RouterDeps {
  /** The reasoning-task verifiers (usually a VerifyPool's rewardFn). */
  rtv: RewardFn;
  /** Judges by the names used in the config. */
  judges: ReadonlyMap<string, Judge>;
}

function oneOf(value: string | undefined, want: string | string[] | undefined): boolean {
  if (want === undefined) return true;
  if (value === undefined) return false;
  const list = typeof want === "string" ? [want] : want;
  return list.includes("*") || list.includes(value);
}

/** The dataset name of a rollout: Task.source, else verl's data_source (top level or in meta). */
export function dataSourceOf(r: Rollout): string | undefined {
  const extra = r as Record<string, unknown>;
  const candidates = [r.source, extra["data_source"], r.meta?.["data_source"]];
  return candidates.find((c): c is string => typeof c === "string");
}

export function matches(match: RouteMatch, r: Rollout): boolean {
  if (!oneOf(r.domain, match.domain)) return false;
  if (!oneOf(dataSourceOf(r), match.source)) return false;
  if (match.has !== undefined) {
    const v = r.reference?.[match.has];
    if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) return false;
  }
  return true;
}

export function routeOf(config: RewardConfig, r: Rollout): RewardSpec | undefined {
  return config.routes.find((route) => matches(route.match, r))?.reward ?? config.fallback;
}

function leafKey(leaf: RewardLeaf): string {
  return leaf.type === "rtv" ? `rtv:${leaf.family ?? ""}` : `judge:${leaf.judge}:${leaf.reference}`;
}

function leavesOf(spec: RewardSpec): RewardLeaf[] {
  return spec.type === "combine"
    ? [...spec.parts.map((p) => p.reward), ...spec.gates.map((g) => g.reward)]
    : [spec];
}

function combine(
  id: Rollout["id"],
  spec: Extract<RewardSpec, { type: "combine" }>,
  get: (l: RewardLeaf) => Reward,
): Reward {
  const parts = spec.parts.map((p) => ({ weight: p.weight, reward: get(p.reward) }));
  const gates = spec.gates.map((g) => ({ gate: g, reward: get(g.reward) }));
  const source = `combine(${parts.map((p) => `${p.reward.source}*${p.weight}`).join("+")})`;
  const failed = [...parts.map((p) => p.reward), ...gates.map((g) => g.reward)].find(
    (r) => r.verdict === "error",
  );
  if (failed?.error !== undefined) {
    return { ...errorReward(id, source, failed.error.code, `${failed.source}: ${failed.error.message}`) };
  }
  const total = parts.reduce((s, p) => s + p.weight, 0);
  let score = parts.reduce((s, p) => s + p.weight * p.reward.score, 0) / total;
  const capped: string[] = [];
  for (const { gate, reward } of gates) {
    if (reward.score < gate.below && score > gate.cap) {
      score = gate.cap;
      capped.push(reward.source);
    }
  }
  const verdict = score >= 1 ? "correct" : score <= 0 ? "incorrect" : "partial";
  return {
    id,
    score,
    verdict,
    source,
    details: {
      parts: parts.map((p) => ({ weight: p.weight, ...p.reward })),
      gates: gates.map((g) => g.reward),
      ...(capped.length > 0 ? { cappedBy: capped } : {}),
    },
  };
}

export function createRouter(config: RewardConfig, deps: RouterDeps): RewardFn {
  const runLeaf = async (leaf: RewardLeaf, rollouts: Rollout[]): Promise<Reward[]> => {
    if (leaf.type === "rtv") {
      const input =
        leaf.family === undefined ? rollouts : rollouts.map((r) => ({ ...r, domain: leaf.family as string }));
      return deps.rtv(input);
    }
    const judge = deps.judges.get(leaf.judge);
    if (judge === undefined) {
      const against = {
        gt: "GenRM against the ground truth",
        bon: "GenRM against a Best-of-N reference",
        none: "a judge without a reference",
      }[leaf.reference];
      const message =
        `no judge '${leaf.judge}' is configured; this rollout's route needs ${against} ` +
        `— add judges.${leaf.judge} to the reward config`;
      return rollouts.map((r) => errorReward(r.id, `genrm:${leaf.reference}`, "no_judge", message));
    }
    try {
      return await judge.judge(rollouts, leaf.reference);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return rollouts.map((r) => errorReward(r.id, judge.source, "judge_failed", message));
    }
  };

  return async (rollouts) => {
    const specs = rollouts.map((r) => routeOf(config, r));
    // Group every needed (leaf, rollout) pair by leaf so each source sees one batch.
    const groups = new Map<string, { leaf: RewardLeaf; indices: number[] }>();
    specs.forEach((spec, i) => {
      if (spec === undefined) return;
      for (const leaf of leavesOf(spec)) {
        const key = leafKey(leaf);
        let g = groups.get(key);
        if (g === undefined) {
          g = { leaf, indices: [] };
          groups.set(key, g);
        }
        if (g.indices.at(-1) !== i) g.indices.push(i);
      }
    });
    const results = new Map<string, Map<number, Reward>>();
    await Promise.all(
      [...groups].map(async ([key, g]) => {
        const rewards = await runLeaf(
          g.leaf,
          g.indices.map((i) => rollouts[i] as Rollout),
        );
        results.set(key, new Map(g.indices.map((i, k) => [i, rewards[k] as Reward])));
      }),
    );
    return rollouts.map((r, i) => {
      const spec = specs[i];
      if (spec === undefined) {
        return errorReward(
          r.id,
          "router",
          "no_route",
          `no route matches domain '${r.domain}' and no fallback is set`,
        );
      }
      const get = (leaf: RewardLeaf): Reward => results.get(leafKey(leaf))?.get(i) as Reward;
      return spec.type === "combine" ? combine(r.id, spec, get) : get(spec);
    });
  };
}
