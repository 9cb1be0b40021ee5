// The one type every reasoning-task verifier (RTV) implements, whatever its family.
import type { Reward, Rollout } from "../core/schemas.ts";

export interface VerifyOptions {
  /** Wall-clock budget for one call; a verifier returns an `error`/`invalid` verdict rather than exceed it. */
  timeBudgetMs?: number;
}

export interface Verifier {
  /** The domain this verifier serves (`math`, `code`, `instruction`, `logic`, ...). */
  readonly domain: string;
  /** Written into Reward.source, e.g. `rtv:math`. */
  readonly source: string;
  verify(rollout: Rollout, options?: VerifyOptions): Reward | Promise<Reward>;
}
