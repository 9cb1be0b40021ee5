// What the engine protocol routes (verl and the Python adapters, slime, NeMo-Gym) share:
// the reward server's scoring (retry cache, final verdicts settled), the admission config of
// a one-sample route, and how a failed sample fails its request.
import type { Reward, Rollout } from "../core/schemas.ts";
import { rewardFailure } from "./http-errors.ts";

export interface EngineRouteDeps {
  /** The server's scoring: rewards in order, final failures already `invalid`. */
  score(rollouts: Rollout[]): Promise<Reward[]>;
  /** Domain for labels given as a plain answer. */
  defaultDomain: string;
  /** Domains the server's verifiers serve. */
  domains: readonly string[];
  /** A fresh rollout id with this prefix. */
  nextId(prefix: string): string;
}

/** The 0/1 flags verl and slime report beside the score: acc (a correct verdict) and invalid. */
export function verdictFlags(reward: Reward): { acc: 0 | 1; invalid: 0 | 1 } {
  return { acc: reward.verdict === "correct" ? 1 : 0, invalid: reward.verdict === "invalid" ? 1 : 0 };
}

/** One sample per request, in the reward server's rollouts pool. */
export function oneSample(overloadStatus: 429 | 503) {
  return { admission: { pool: "rollouts", units: 1, overloadStatus } };
}

/**
 * Scores one rollout. A failed verdict fails the request as the shared classification says:
 * data 422, internal 500, infrastructure 503 with Retry-After — these protocols carry
 * numbers only, so there is no other way to say it. `field` names the sample's origin.
 */
export async function scoreOne(deps: EngineRouteDeps, rollout: Rollout, field: string): Promise<Reward> {
  const [reward] = await deps.score([rollout]);
  if (reward === undefined) throw new Error("the reward function returned no reward");
  if (reward.verdict === "error" && reward.error !== undefined) {
    throw rewardFailure(reward.error.code, reward.source, reward.error.message, field);
  }
  return reward;
}
