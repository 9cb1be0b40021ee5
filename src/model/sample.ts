// Batched generation and scoring over any StepModel. Each sequence has its own seeded
// PRNG, so a seeded completion does not depend on what else is in the batch. Reported
// logprobs are those of the model's raw distribution (temperature 1, no truncation), the
// same numbers `score` gives for the same tokens — what PPO/GRPO ratios need.
import { DataScaleError } from "../core/errors.ts";
import type { StepModel, Tokenizer } from "./types.ts";

export interface SamplingParams {
  maxTokens: number;
  /** 0 = greedy. Default 1. */
  temperature?: number | undefined;
  /** Nucleus mass in (0, 1]. Default 1 (off). */
  topP?: number | undefined;
  /** Keep the k most likely tokens; 0 or undefined = off. */
  topK?: number | undefined;
  /** Seeds this sequence's PRNG; random when undefined. */
  seed?: number | undefined;
  /** Strings that end generation; the returned text stops before them. */
  stop?: readonly string[] | undefined;
  /** Token ids that end generation (typically EOS); not part of the returned text. */
  stopTokenIds?: readonly number[] | undefined;
  /** Return logprobs of the sampled tokens. */
  logprobs?: boolean | undefined;
  /** Return the entropy of the raw distribution at each generated position (PPO's metric). */
  entropy?: boolean | undefined;
  /** Also return this many most likely alternatives per position (≤ 20). */
  topLogprobs?: number | undefined;
}

export interface TokenLogprob {
  id: number;
  logprob: number;
}

export type FinishReason = "stop" | "length";

export interface Generation {
  tokens: number[];
  text: string;
  /** Per generated token; present when `logprobs` or `topLogprobs` was asked. */
  logprobs: number[] | undefined;
  topLogprobs: TokenLogprob[][] | undefined;
  /** Per generated token, the raw distribution's entropy; present when `entropy` was asked. */
  entropies?: number[] | undefined;
  finishReason: FinishReason;
  /** The stop string or stop token id that ended generation. */
  stopReason: string | number | undefined;
  promptTokens: number;
}

export interface GenerationDelta {
  text: string;
  tokens: number[];
  logprobs: number[] | undefined;
  topLogprobs: TokenLogprob[][] | undefined;
  /** Set on a sequence's last delta. */
  finishReason: FinishReason | undefined;
}

export interface GenerateOptions {
  /** Called as text becomes final (text that may still turn into a stop string is held back). */
  onDelta?: (index: number, delta: GenerationDelta) => void;
  /** Checked between steps; a cancelled sequence is dropped from the batch. */
  isCancelled?: (index: number) => boolean;
}

export interface GenerationRequest {
  prompt: readonly number[];
  params: SamplingParams;
}

/** sfc32: small, fast, and good enough for sampling; seeded through splitmix32. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A fresh random 32-bit seed, for requests that give none. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function logSumExp(row: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return max + Math.log(sum);
}

/** The `k` largest entries of a row, most likely first, as logprobs given its logsumexp. */
export function topEntries(row: Float32Array, k: number, lse: number): TokenLogprob[] {
  const top: TokenLogprob[] = [];
  if (k <= 0) return top;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (top.length === k && v <= top[k - 1]!.logprob) continue;
    let at = top.length;
    while (at > 0 && top[at - 1]!.logprob < v) at--;
    top.splice(at, 0, { id: i, logprob: v });
    if (top.length > k) top.pop();
  }
  for (const t of top) t.logprob -= lse;
  return top;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/**
 * The tokens sampling may draw from under top-k and top-p, most likely first, with their
 * unnormalized weights exp((logit − max) / temperature). Undefined ids: no truncation.
 */
export function samplingSupport(
  row: Float32Array,
  params: SamplingParams,
): { ids: number[] | undefined; weights: Float64Array; total: number } {
  const temperature = params.temperature ?? 1;
  const topK = params.topK ?? 0;
  const topP = params.topP ?? 1;
  const v = row.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < v; i++) if (row[i]! > max) max = row[i]!;
  const weights = new Float64Array(v);
  let total = 0;
  for (let i = 0; i < v; i++) {
    const w = Math.exp((row[i]! - max) / temperature);
    weights[i] = w;
    total += w;
  }
  const useTopK = topK > 0 && topK < v;
  if (!useTopK && topP >= 1) return { ids: undefined, weights, total };
  let ids: number[];
  if (useTopK) ids = topEntries(row, topK, 0).map((t) => t.id);
  else {
    // Only tokens that can be in the nucleus need sorting: the tokens at or below
    // τ = (1 − p)·total / V weigh less than (1 − p)·total together, so the most likely
    // tokens above τ already hold more than p·total, and the nucleus is a prefix of them.
    const floor = ((1 - topP) * total) / v / (1 + 1e-9);
    ids = [];
    for (let i = 0; i < v; i++) if (weights[i]! > floor) ids.push(i);
    ids.sort((x, y) => row[y]! - row[x]! || x - y);
  }
  if (topP < 1) {
    const target = topP * (useTopK ? ids.reduce((a, i) => a + weights[i]!, 0) : total);
    let count = 0;
    let mass = 0;
    while (count < ids.length && mass < target) mass += weights[ids[count++]!]!;
    ids.length = Math.max(1, count);
  }
  return { ids, weights, total };
}

/** Draws one token from a logit row under temperature, top-k and top-p. */
export function sampleFromLogits(row: Float32Array, params: SamplingParams, random: () => number): number {
  if ((params.temperature ?? 1) === 0 || params.topK === 1) return argmax(row);
  const { ids, weights, total } = samplingSupport(row, params);
  if (ids === undefined) {
    let u = random() * total;
    for (let i = 0; i < row.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return argmax(row);
  }
  let kept = 0;
  for (const i of ids) kept += weights[i]!;
  let u = random() * kept;
  for (const i of ids) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return ids[ids.length - 1]!;
}

/** Where it is safe to cut `text` for streaming: never between the halves of a surrogate pair. */
function safeCut(text: string, at: number): number {
  if (at <= 0) return 0;
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/** The sampled token's logprob, its alternatives and the distribution's entropy, as asked. */
function record(s: Live, row: Float32Array, token: number): void {
  if (s.logprobs === undefined && s.entropies === undefined) return;
  const { lse, entropy } =
    s.entropies === undefined ? { lse: logSumExp(row), entropy: 0 } : lseAndEntropy(row);
  if (s.logprobs !== undefined) {
    s.logprobs.push(row[token]! - lse);
    s.topLogprobs?.push(topEntries(row, s.params.topLogprobs ?? 0, lse));
  }
  s.entropies?.push(entropy);
}

/** log Z and the entropy log Z − Σ p·logit of softmax(row), in one pass of exp. */
function lseAndEntropy(row: Float32Array): { lse: number; entropy: number } {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  let sx = 0;
  for (let i = 0; i < row.length; i++) {
    const e = Math.exp(row[i]! - max);
    sum += e;
    sx += e * (row[i]! - max);
  }
  const logZ = Math.log(sum);
  return { lse: max + logZ, entropy: logZ - sx / sum };
}

interface Live {
  index: number;
  params: SamplingParams;
  random: () => number;
  tokens: number[];
  logprobs: number[] | undefined;
  topLogprobs: TokenLogprob[][] | undefined;
  entropies: number[] | undefined;
  /** Text of tokens[0..decodedCount), which ends on a whole character. */
  text: string;
  decodedCount: number;
  /** Tokens that are not part of the text (a final stop token). */
  hiddenTail: number;
  emittedText: number;
  emittedTokens: number;
  finish: FinishReason | undefined;
  stopReason: string | number | undefined;
  maxTokens: number;
  promptTokens: number;
}

/**
 * Generates a completion for every request, all in one batch: one prefill step for all
 * prompts, then one step per new token for the sequences still running.
 */
export async function generate<C>(
  model: StepModel<C>,
  tokenizer: Tokenizer,
  requests: readonly GenerationRequest[],
  options: GenerateOptions = {},
): Promise<Generation[]> {
  const live: Live[] = requests.map((r, index) => {
    const p = r.params;
    if (r.prompt.length === 0)
      throw new DataScaleError("bad_request", `request ${index}: the prompt has no tokens`);
    if (r.prompt.length >= model.maxSeqLen && p.maxTokens > 0) {
      throw new DataScaleError(
        "prompt_too_long",
        `request ${index}: the prompt has ${r.prompt.length} tokens; the model holds ${model.maxSeqLen} in all`,
      );
    }
    if (!Number.isInteger(p.maxTokens) || p.maxTokens < 0) {
      throw new DataScaleError("bad_request", `request ${index}: maxTokens must be a non-negative integer`);
    }
    const wantLogprobs = p.logprobs === true || (p.topLogprobs ?? 0) > 0;
    return {
      index,
      params: p,
      random: seededRandom(p.seed ?? randomSeed()),
      tokens: [],
      logprobs: wantLogprobs ? [] : undefined,
      topLogprobs: (p.topLogprobs ?? 0) > 0 ? [] : undefined,
      entropies: p.entropy === true ? [] : undefined,
      text: "",
      decodedCount: 0,
      hiddenTail: 0,
      emittedText: 0,
      emittedTokens: 0,
      finish: p.maxTokens === 0 ? "length" : undefined,
      stopReason: undefined,
      maxTokens: Math.min(p.maxTokens, model.maxSeqLen - r.prompt.length),
      promptTokens: r.prompt.length,
    };
  });
  const running = live.filter((s) => s.finish === undefined);
  const caches = new Map<Live, C>(running.map((s) => [s, model.newCache()]));
  let batch = running;
  let feed = batch.map((s) => Int32Array.from(requests[s.index]!.prompt));
  while (batch.length > 0) {
    const logits = await model.step(
      batch.map((s) => caches.get(s)!),
      feed,
    );
    const vocab = model.vocabSize;
    for (let r = 0; r < batch.length; r++) {
      const s = batch[r]!;
      const row = logits.subarray(r * vocab, (r + 1) * vocab);
      const token = sampleFromLogits(row, s.params, s.random);
      s.tokens.push(token);
      record(s, row, token);
      advance(s, token, tokenizer);
      if (options.isCancelled?.(s.index)) s.finish ??= "stop";
      emit(s, options);
    }
    batch = batch.filter((s) => s.finish === undefined);
    feed = batch.map((s) => Int32Array.of(s.tokens[s.tokens.length - 1]!));
  }
  for (const s of live) if (s.params.maxTokens === 0) emit(s, options);
  return live.map((s) => ({
    tokens: s.tokens,
    text: s.text,
    logprobs: s.logprobs,
    topLogprobs: s.topLogprobs,
    ...(s.entropies === undefined ? {} : { entropies: s.entropies }),
    finishReason: s.finish!,
    stopReason: s.stopReason,
    promptTokens: s.promptTokens,
  }));
}

/** Updates text and finish state after `token` was appended. */
function advance(s: Live, token: number, tokenizer: Tokenizer): void {
  const stopIds = s.params.stopTokenIds ?? [];
  if (stopIds.includes(token)) {
    s.hiddenTail = 1;
    s.finish = "stop";
    s.stopReason = token;
  } else if (s.tokens.length >= s.maxTokens) s.finish = "length";
  const visible = s.tokens.length - s.hiddenTail;
  const before = s.text.length;
  if (visible > s.decodedCount) {
    const pending = tokenizer.decode(s.tokens.slice(s.decodedCount, visible));
    // A token may end inside a multi-byte character; wait for the rest unless finishing.
    if (!pending.endsWith("\uFFFD") || s.finish !== undefined) {
      s.text += pending;
      s.decodedCount = visible;
    }
  }
  const stops = s.params.stop ?? [];
  if (stops.length > 0 && s.text.length > before) {
    let cut = -1;
    let which: string | undefined;
    for (const stop of stops) {
      if (stop.length === 0) continue;
      const from = Math.max(0, before - stop.length + 1);
      const at = s.text.indexOf(stop, from);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        which = stop;
      }
    }
    if (which !== undefined) {
      s.text = s.text.slice(0, cut);
      s.finish = "stop";
      s.stopReason = which;
    }
  }
}

function emit(s: Live, options: GenerateOptions): void {
  if (options.onDelta === undefined) return;
  const holdBack =
    s.finish === undefined ? Math.max(0, ...(s.params.stop ?? []).map((t) => t.length - 1)) : 0;
  const textEnd = s.finish === undefined ? safeCut(s.text, s.text.length - holdBack) : s.text.length;
  const text = textEnd > s.emittedText ? s.text.slice(s.emittedText, textEnd) : "";
  const tokens = s.tokens.slice(s.emittedTokens);
  if (text.length === 0 && tokens.length === 0 && s.finish === undefined) return;
  options.onDelta(s.index, {
    text,
    tokens,
    logprobs: s.logprobs?.slice(s.emittedTokens),
    topLogprobs: s.topLogprobs?.slice(s.emittedTokens),
    finishReason: s.finish,
  });
  s.emittedText = Math.max(s.emittedText, textEnd);
  s.emittedTokens = s.tokens.length;
}

export interface ScoreRequest {
  tokens: readonly number[];
  /** Score tokens[start..]; must be ≥ 1 (token 0 has no context). */
  start: number;
  topLogprobs?: number | undefined;
}

export interface Scored {
  /** logprob of tokens[start + i] given everything before it. */
  logprobs: number[];
  /** Entropy (nats) of the model's distribution at each scored position. */
  entropies: number[];
  topLogprobs: TokenLogprob[][] | undefined;
}

/** Per-token logprobs and entropies of given sequences, `batchSize` sequences per forward. */
export async function score<C>(
  model: StepModel<C>,
  requests: readonly ScoreRequest[],
  options: { batchSize?: number } = {},
): Promise<Scored[]> {
  const batchSize = options.batchSize ?? 8;
  requests.forEach((r, i) => {
    if (!Number.isInteger(r.start) || r.start < 1 || r.start > r.tokens.length) {
      throw new DataScaleError(
        "bad_request",
        `score request ${i}: start ${r.start} must be in [1, ${r.tokens.length}]`,
      );
    }
    if (r.tokens.length > model.maxSeqLen) {
      throw new DataScaleError(
        "prompt_too_long",
        `score request ${i}: ${r.tokens.length} tokens exceed ${model.maxSeqLen}`,
      );
    }
  });
  const out: Scored[] = [];
  const v = model.vocabSize;
  for (let b = 0; b < requests.length; b += batchSize) {
    const chunk = requests.slice(b, b + batchSize);
    const all = await model.logits(chunk.map((r) => Int32Array.from(r.tokens)));
    chunk.forEach((r, j) => {
      const logits = all[j]!;
      const scored: Scored = {
        logprobs: [],
        entropies: [],
        topLogprobs: (r.topLogprobs ?? 0) > 0 ? [] : undefined,
      };
      for (let i = r.start; i < r.tokens.length; i++) {
        const row = logits.subarray((i - 1) * v, i * v);
        const lse = logSumExp(row);
        scored.logprobs.push(row[r.tokens[i]!]! - lse);
        let entropy = 0;
        for (let k = 0; k < v; k++) {
          const lp = row[k]! - lse;
          if (lp > -Infinity) entropy -= Math.exp(lp) * lp;
        }
        scored.entropies.push(entropy);
        scored.topLogprobs?.push(topEntries(row, r.topLogprobs ?? 0, lse));
      }
      out.push(scored);
    });
  }
  return out;
}
