// Drawing responses from an embedded policy for the experiment: K seeded samples per task
// (reward-model data, Best-of-N, selection, diversity) and greedy answers (evaluation).
import type { RewardFn, Task } from "../core/schemas.ts";
import type { Decoder } from "../model/decoder.ts";
import { generate } from "../model/sample.ts";
import type { Tokenizer } from "../model/types.ts";
import { promptIds, taskPrompt } from "../train/evaluate.ts";
import { mixSeed } from "../train/loop.ts";

/** Response length cap: the world's answers are at most ≈12 characters at its difficulties. */
export const MAX_RESPONSE_TOKENS = 16;
const CHUNK = 64;

function taskSeedOf(id: string | number, seed: number): number {
  let h = 0x811c9dc5;
  const s = String(id);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mixSeed(seed, h >>> 0);
}

/** `k` samples per task at temperature 1, seeded by (seed, task id, sample index). */
export async function sampleK(
  model: Decoder,
  tokenizer: Tokenizer,
  tasks: readonly Task[],
  k: number,
  seed: number,
): Promise<string[][]> {
  const out: string[][] = [];
  const stop = tokenizer.eosId === undefined ? [] : [tokenizer.eosId];
  for (let s = 0; s < tasks.length; s += CHUNK) {
    const chunk = tasks.slice(s, s + CHUNK);
    const gens = await generate(
      model,
      tokenizer,
      chunk.flatMap((t) => {
        const prompt = promptIds(tokenizer, taskPrompt(t));
        const base = taskSeedOf(t.id, seed);
        return Array.from({ length: k }, (_, j) => ({
          prompt,
          params: {
            maxTokens: MAX_RESPONSE_TOKENS,
            temperature: 1,
            seed: mixSeed(base, j),
            stopTokenIds: stop,
          },
        }));
      }),
    );
    for (let i = 0; i < chunk.length; i++) out.push(gens.slice(i * k, (i + 1) * k).map((g) => g.text));
  }
  return out;
}

/** Greedy answers, one per task. */
export async function greedy(
  model: Decoder,
  tokenizer: Tokenizer,
  tasks: readonly Task[],
): Promise<string[]> {
  const out: string[] = [];
  const stop = tokenizer.eosId === undefined ? [] : [tokenizer.eosId];
  for (let s = 0; s < tasks.length; s += CHUNK) {
    const gens = await generate(
      model,
      tokenizer,
      tasks.slice(s, s + CHUNK).map((t) => ({
        prompt: promptIds(tokenizer, taskPrompt(t)),
        params: { maxTokens: MAX_RESPONSE_TOKENS, temperature: 0, stopTokenIds: stop },
      })),
    );
    out.push(...gens.map((g) => g.text));
  }
  return out;
}

/** Scores responses (one per task) with a RewardFn; returns the scores in task order. */
export async function scoreResponses(
  reward: RewardFn,
  tasks: readonly Task[],
  responses: readonly string[],
): Promise<number[]> {
  const rewards = await reward(tasks.map((t, i) => ({ ...t, response: responses[i] ?? "" })));
  return rewards.map((r) => (r.verdict === "error" ? Number.NaN : r.score));
}

/**
 * Mean accuracy overall and per domain from per-task gold scores. A NaN score is an `error`
 * reward (see scoreResponses): it is neither correct nor incorrect, so it is left out of
 * every mean and counted in `errors`.
 */
export function goldByDomain(
  tasks: readonly Task[],
  scores: readonly number[],
): { overall: number; byDomain: Record<string, number>; errors: number } {
  const sums = new Map<string, { s: number; n: number }>();
  let total = 0;
  let n = 0;
  let errors = 0;
  tasks.forEach((t, i) => {
    const score = scores[i] ?? Number.NaN;
    if (!Number.isFinite(score)) {
      errors++;
      return;
    }
    const e = sums.get(t.domain) ?? { s: 0, n: 0 };
    e.s += score;
    e.n++;
    sums.set(t.domain, e);
    total += score;
    n++;
  });
  return {
    overall: total / Math.max(1, n),
    byDomain: Object.fromEntries(
      [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([d, e]) => [d, e.s / e.n]),
    ),
    errors,
  };
}
