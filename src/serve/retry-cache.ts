// Rewards kept for the retry of a request that had to fail. When one sample of a multi-sample
// request hits an infrastructure failure (a judge backend down), protocols that carry only
// numbers (OpenRLHF) must fail the whole request so the client retries; the other samples'
// rewards are kept here, keyed by content, so the retry re-scores only what failed. Bounded;
// empty (and so free: no key is computed) unless a request has failed recently.
import type { Reward, Rollout } from "../core/schemas.ts";

export class RetryCache {
  readonly #max: number;
  readonly #map = new Map<string, Reward>();

  constructor(maxEntries = 16_384) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Everything a verifier or judge may read, without the id (a retry may renumber). */
  static key(r: Rollout): string {
    const { id: _id, ...content } = r;
    return JSON.stringify(content);
  }

  put(rollout: Rollout, reward: Reward): void {
    if (reward.verdict === "error") return;
    const key = RetryCache.key(rollout);
    this.#map.delete(key);
    this.#map.set(key, reward);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }

  /** The kept reward for this content (once), with the retry's id. */
  take(rollout: Rollout): Reward | undefined {
    if (this.#map.size === 0) return undefined;
    const key = RetryCache.key(rollout);
    const hit = this.#map.get(key);
    if (hit === undefined) return undefined;
    this.#map.delete(key);
    return { ...hit, id: rollout.id };
  }
}
