// Bradley–Terry scoring: a reward-head model gives each (prompt, response) a scalar r. Against
// a reference the score is the BT preference probability σ(r(response) − r(reference)), so
// 0.5 is parity as for GenRM; without one it is σ(r). Works with any Backend that can
// `classify` (the embedded engine's reward head, vLLM's /classify, our model server).
import type { Backend } from "../backend/types.ts";
import { errorReward } from "../core/rewards.ts";
import type { Reward, Rollout } from "../core/schemas.ts";
import { JudgeCache } from "./cache.ts";
import { render } from "./genrm.ts";
import { promptText, referenceText } from "./rollout-text.ts";
import type { Judge, ReferenceKind } from "./types.ts";

/** How a (prompt, response) pair becomes the text the reward model reads. */
export const DEFAULT_BT_FORMAT = "{{prompt}}\n{{first}}";

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The one rendering of a (prompt, response) pair as the reward model's input text: what the
 * judge classifies, and what the main job trains its Bradley–Terry RM on.
 */
export function btInput(format: string, prompt: string, response: string): string {
  return render(format, { prompt, first: response, second: "" });
}

export class BTJudge implements Judge {
  readonly source = "bt";
  readonly #backend: Backend;
  readonly #format: string;
  readonly #cache: JudgeCache | undefined;

  constructor(backend: Backend, format = DEFAULT_BT_FORMAT, cache?: JudgeCache) {
    if (backend.classify === undefined)
      throw new Error(`${backend.model}: this backend cannot classify (no reward head)`);
    this.#backend = backend;
    this.#format = format;
    this.#cache = cache;
  }

  /** Raw reward-model scores of responses to prompts; cached texts cost no backend call. */
  async rewards(pairs: readonly { prompt: string; response: string }[]): Promise<number[]> {
    const texts = pairs.map((p) => btInput(this.#format, p.prompt, p.response));
    const cache = this.#cache;
    const keys = texts.map((t) => JudgeCache.key(["bt", this.#backend.model, t]));
    const out = keys.map((k) => cache?.get(k));
    const missing = texts.flatMap((_, i) => (typeof out[i] === "number" ? [] : [i]));
    if (missing.length > 0) {
      const classify = this.#backend.classify as NonNullable<Backend["classify"]>;
      const fresh = await classify.call(
        this.#backend,
        missing.map((i) => texts[i] as string),
      );
      for (const [j, i] of missing.entries()) {
        out[i] = fresh[j];
        cache?.set(keys[i] as string, fresh[j]);
      }
    }
    return out as number[];
  }

  async judge(rollouts: readonly Rollout[], kind: ReferenceKind): Promise<Reward[]> {
    const refs = rollouts.map((r) => referenceText(r, kind));
    const pairs = rollouts.map((r) => ({ prompt: promptText(r), response: r.response }));
    const refPairs = rollouts.flatMap((r, i) =>
      refs[i] === undefined ? [] : [{ prompt: promptText(r), response: refs[i] as string }],
    );
    let scores: number[];
    try {
      scores = await this.rewards([...pairs, ...refPairs]);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return rollouts.map((r) => errorReward(r.id, this.source, "judge_backend", message));
    }
    let k = rollouts.length;
    return rollouts.map((r, i) => {
      const reward = scores[i] as number;
      const referenceReward = refs[i] === undefined ? undefined : (scores[k++] as number);
      const score = sigmoid(referenceReward === undefined ? reward : reward - referenceReward);
      return {
        id: r.id,
        score,
        verdict: score >= 0.5 ? "correct" : "incorrect",
        source: this.source,
        details: {
          reward,
          ...(referenceReward === undefined ? {} : { referenceReward }),
          model: this.#backend.model,
        },
      };
    });
  }

  close(): Promise<void> {
    this.#cache?.close();
    return this.#backend.close();
  }
}
