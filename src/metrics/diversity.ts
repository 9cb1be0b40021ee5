// Response diversity among the K samples of one prompt: the paper's maximum pairwise edit
// distance, plus mean pairwise edit distance, distinct-n, self-BLEU, and mean token
// entropy estimated from the sampled tokens' logprobs.
import { distance } from "fastest-levenshtein";

/** Character-level Levenshtein distance (fastest-levenshtein, Myers' bit-parallel algorithm). */
export function editDistance(a: string, b: string): number {
  return distance(a, b);
}

/** Edit distance divided by the longer length: 0 = identical, 1 = nothing in common. */
export function normalisedEditDistance(a: string, b: string): number {
  const m = Math.max(a.length, b.length);
  return m === 0 ? 0 : distance(a, b) / m;
}

export function pairwiseEditDistances(samples: readonly string[]): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const d = distance(samples[i]!, samples[j]!);
      max = Math.max(max, d);
      sum += d;
      pairs++;
    }
  }
  return { max, mean: pairs === 0 ? 0 : sum / pairs };
}

/** Whitespace tokens: simple, tokenizer-free, and the same for every model. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== "");
}

function ngrams(tokens: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join("\u0001"));
  return out;
}

/** Distinct n-grams over all n-grams of all samples (Li et al. 2016); 0 when there are none. */
export function distinctN(samples: readonly string[], n: number): number {
  const all = samples.flatMap((s) => ngrams(words(s), n));
  return all.length === 0 ? 0 : new Set(all).size / all.length;
}

function counts(items: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/**
 * Sentence BLEU of `hyp` against `refs` up to `maxN`-grams: clipped precisions, brevity
 * penalty against the closest reference length, and Lin & Och (2004) add-one smoothing for
 * n > 1 so that one missing 4-gram does not zero the score.
 */
export function sentenceBleu(hyp: readonly string[], refs: readonly (readonly string[])[], maxN = 4): number {
  if (hyp.length === 0 || refs.length === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= maxN; n++) {
    const h = counts(ngrams(hyp, n));
    const maxRef = new Map<string, number>();
    for (const r of refs)
      for (const [g, c] of counts(ngrams(r, n))) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, c));
    let clipped = 0;
    let total = 0;
    for (const [g, c] of h) {
      clipped += Math.min(c, maxRef.get(g) ?? 0);
      total += c;
    }
    const p = n === 1 ? (total === 0 ? 0 : clipped / total) : (clipped + 1) / (total + 1);
    if (p === 0) return 0;
    logSum += Math.log(p) / maxN;
  }
  let closest = refs[0]!.length;
  for (const r of refs) {
    const d = Math.abs(r.length - hyp.length);
    const best = Math.abs(closest - hyp.length);
    if (d < best || (d === best && r.length < closest)) closest = r.length;
  }
  const bp = hyp.length >= closest ? 1 : Math.exp(1 - closest / hyp.length);
  return bp * Math.exp(logSum);
}

/** Mean BLEU of each sample against the others (Zhu et al. 2018): higher = less diverse. */
export function selfBleu(samples: readonly string[], maxN = 4): number {
  if (samples.length < 2) return 0;
  const toks = samples.map(words);
  let sum = 0;
  for (let i = 0; i < toks.length; i++) {
    sum += sentenceBleu(
      toks[i]!,
      toks.filter((_, j) => j !== i),
      maxN,
    );
  }
  return sum / toks.length;
}

/**
 * Mean per-token entropy, estimated as the mean negative logprob of the sampled tokens
 * (an unbiased Monte Carlo estimate of the policy's entropy, needing only what every
 * OpenAI-compatible server returns). Undefined when no sample has logprobs.
 */
export function meanTokenEntropy(logprobs: readonly (readonly number[] | undefined)[]): number | undefined {
  let sum = 0;
  let n = 0;
  for (const lp of logprobs) {
    for (const x of lp ?? []) {
      sum -= x;
      n++;
    }
  }
  return n === 0 ? undefined : sum / n;
}

export interface DiversityRecord {
  id: string | number;
  samples: number;
  maxEditDistance: number;
  meanEditDistance: number;
  distinct1: number;
  distinct2: number;
  selfBleu: number;
  meanTokenEntropy: number | null;
}

export function diversity(
  id: string | number,
  samples: readonly string[],
  logprobs: readonly (readonly number[] | undefined)[] = [],
): DiversityRecord {
  const ed = pairwiseEditDistances(samples);
  return {
    id,
    samples: samples.length,
    maxEditDistance: ed.max,
    meanEditDistance: ed.mean,
    distinct1: distinctN(samples, 1),
    distinct2: distinctN(samples, 2),
    selfBleu: selfBleu(samples),
    meanTokenEntropy: meanTokenEntropy(logprobs) ?? null,
  };
}
