// What the router needs from any model-based reward source (GenRM, Bradley–Terry): score a
// batch of rollouts. Implementations own their backend, concurrency, retries and cache, and
// report infrastructure failures as `error` rewards.
import type { Reward, Rollout } from "../core/schemas.ts";

/**
 * Which reference a judge compares against: the ground truth, the Best-of-N response, or
 * none (a Bradley–Terry RM's plain σ(r); GenRM always needs a reference).
 */
export type ReferenceKind = "gt" | "bon" | "none";

export interface Judge {
  /** Written into Reward.source, e.g. `genrm:gt`, `genrm:bon`, `bt`. */
  readonly source: string;
  judge(rollouts: readonly Rollout[], reference: ReferenceKind): Promise<Reward[]>;
  close?(): Promise<void>;
}
