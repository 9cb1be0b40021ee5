// Shared fixtures for the trainer tests: a tiny decoder and the arithmetic family at
// difficulty 0 ("7+5="), verified by the logic verifier through the RewardFn seam.
import type { Task } from "../../src/core/schemas.ts";
import { createKernel } from "../../src/model/kernels/index.ts";
import { generateTasks } from "../../src/tasks/generate.ts";
import type { PromptResponse } from "../../src/train/data.ts";
import { verifierRewardFn } from "../../src/train/evaluate.ts";
import { byteTokenizer, newDecoder } from "../../src/train/models.ts";
import { createLogicVerifier } from "../../src/verify/logic/index.ts";

export const tokenizer = byteTokenizer();
/** Single-threaded WASM SIMD: several times the reference kernel's speed, no workers to stop. */
export const kernel = createKernel("wasm", { threads: 1 });
export const TINY = { vocabSize: tokenizer.vocabSize, dim: 64, nLayers: 2, nHeads: 4, maxSeqLen: 32 };

export function tinyModel(seed = 1, heads: { valueHead?: boolean; rewardHead?: boolean } = {}) {
  return newDecoder({ ...TINY, ...heads }, seed, kernel);
}

export function arithmetic(n: number, seed: number): Task[] {
  return [...generateTasks({ family: "arithmetic", n, seed, difficulty: 0 })];
}

export function sftPairs(tasks: readonly Task[]): PromptResponse[] {
  return tasks.map((t) => ({ prompt: t.prompt!, response: String(t.reference!.answer) }));
}

export const logicReward = verifierRewardFn(createLogicVerifier());

/**
 * A synthetic preference set with a known quality: responses are random 8-letter words and
 * quality is the number of vowels; `chosen` has strictly more vowels than `rejected`.
 */
export function vowelPairs(n: number, seed: number): { prompt: string; chosen: string; rejected: string }[] {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const word = () => Array.from({ length: 8 }, () => letters[Math.floor(rand() * 26)]!).join("");
  const quality = (w: string) => [...w].filter((c) => "aeiou".includes(c)).length;
  const out: { prompt: string; chosen: string; rejected: string }[] = [];
  while (out.length < n) {
    // Vowel-rich words are rare at random; bias half the draws toward vowels.
    const a =
      rand() < 0.5
        ? word()
        : word().replace(/[b-df-hj-np-tv-z]/g, (c) => (rand() < 0.4 ? "aeiou"[Math.floor(rand() * 5)]! : c));
    const b = word();
    if (quality(a) === quality(b)) continue;
    out.push(
      quality(a) > quality(b)
        ? { prompt: "say:", chosen: a, rejected: b }
        : { prompt: "say:", chosen: b, rejected: a },
    );
  }
  return out;
}

export const vowels = (w: string): number => [...w].filter((c) => "aeiou".includes(c)).length;

/**
 * Pointwise judgements a small judge can learn from the reference alone: the reference is one
 * letter, the response the same letter (label true) or another one (false), alternating.
 */
export function letterJudgements(
  n: number,
  seed: number,
): { prompt: string; response: string; reference: string; label: boolean }[] {
  let s = seed >>> 0 || 1;
  const letter = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return "abcdefghijklmnopqrstuvwxyz"[Math.floor((s / 4294967296) * 26)]!;
  };
  return Array.from({ length: n }, (_, i) => {
    const reference = letter();
    let response = reference;
    while (i % 2 === 1 && response === reference) response = letter();
    return { prompt: "say:", response, reference, label: i % 2 === 0 };
  });
}
