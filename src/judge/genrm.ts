// GenRM: a generative judge that scores a response against a reference, after the paper and
// Seed's Pairwise-RL: score = p("YES" | "is A at least as good as B?"). Both orders are asked
// and combined, score = (p(resp ≥ ref) + 1 − p(ref ≥ resp)) / 2, which cancels position bias
// and puts parity at 0.5. p(YES) comes from the first token's top logprobs when the server
// gives them (vLLM, SGLang, llama.cpp, our model server), else from k sampled verdicts.
import { readFileSync } from "node:fs";
import { ConcurrencyLimit } from "../backend/limit.ts";
import { errorReward, invalidReward } from "../core/rewards.ts";
import type { Message, Reward, Rollout } from "../core/schemas.ts";
import { JudgeCache } from "./cache.ts";
import { promptText, referenceText } from "./rollout-text.ts";
import type { Judge, ReferenceKind } from "./types.ts";

export interface TokenLogprob {
  token: string;
  logprob: number;
}

/** The two operations GenRM needs from a model backend. */
export interface VerdictBackend {
  /** Names the model, for cache keys. */
  readonly model: string;
  /** The top-k candidates for the first token the model would write after `messages`. */
  firstTokenLogprobs(messages: Message[], topK: number): Promise<TokenLogprob[]>;
  /** `n` sampled completions of at most `maxTokens` tokens. */
  sample(messages: Message[], n: number, maxTokens: number): Promise<string[]>;
  /**
   * Optional: `firstTokenLogprobs` for many questions in one call (an in-process engine steps
   * them as one batch); per question the candidates, or the Error that question met.
   */
  firstTokenLogprobsMany?(questions: readonly Message[][], topK: number): Promise<(TokenLogprob[] | Error)[]>;
}

type Vars = Record<"prompt" | "first" | "second", string>;

/** The kinds of reference GenRM compares against (it has no use for `none`). */
export type GenRMReference = Exclude<ReferenceKind, "none">;

export interface GenRMOptions {
  backend: VerdictBackend;
  /** Template texts with {{prompt}}, {{first}}, {{second}}; defaults ship in templates/. */
  templates?: Partial<Record<GenRMReference, string>>;
  bothOrders?: boolean;
  /** 0: read p(YES) from logprobs; k > 0: sample k verdicts per order. */
  samples?: number;
  topK?: number;
  concurrency?: number;
  cache?: JudgeCache;
}

export function defaultTemplate(kind: GenRMReference): string {
  return readFileSync(new URL(`./templates/genrm-${kind}.md`, import.meta.url), "utf8");
}

export function render(template: string, vars: Vars): string {
  // One pass, so text inside a response that looks like a placeholder is left alone.
  return template.replace(/\{\{(prompt|first|second)\}\}/g, (_, k: "prompt" | "first" | "second") => vars[k]);
}

/**
 * The one rendering of a GenRM question "is `first` at least as good as `second`?": what the
 * judge sends its backend, and what a GenRM is trained on (the main job trains on exactly
 * these messages, tokenized by the backend that later serves them), so the two cannot drift.
 */
export function genrmMessages(template: string, vars: Vars): Message[] {
  return [{ role: "user", content: render(template, vars) }];
}

const YES = /^(yes|y)$/i;
const NO = /^(no|n)$/i;

/** Normalises a vocabulary token: byte-level BPE (Ġ) and SentencePiece (▁) space marks, punctuation. */
function word(token: string): string {
  return token.replace(/^[\sĠ▁]+/, "").replace(/[\s.,!:;"'*]+$/, "");
}

/** p(YES) / (p(YES) + p(NO)) over the top-k first tokens; undefined when neither appears. */
export function pYesFromLogprobs(top: readonly TokenLogprob[]): number | undefined {
  let yes = 0;
  let no = 0;
  for (const t of top) {
    const w = word(t.token);
    if (YES.test(w)) yes += Math.exp(t.logprob);
    else if (NO.test(w)) no += Math.exp(t.logprob);
  }
  return yes + no > 0 ? yes / (yes + no) : undefined;
}

export function pYesFromSamples(texts: readonly string[]): number | undefined {
  let yes = 0;
  let no = 0;
  for (const t of texts) {
    const m = /\b(yes|no)\b/i.exec(t);
    if (m?.[1]?.toLowerCase() === "yes") yes++;
    else if (m) no++;
  }
  return yes + no > 0 ? yes / (yes + no) : undefined;
}

class NoVerdict extends Error {}

const noVerdict = (samples: number, topK: number): NoVerdict =>
  new NoVerdict(
    samples > 0
      ? `none of ${samples} sampled verdicts said YES or NO`
      : `neither YES nor NO among the top ${topK} first tokens`,
  );

export class GenRM implements Judge {
  readonly source = "genrm";
  readonly #o: Required<Omit<GenRMOptions, "cache" | "templates">> & { cache: JudgeCache | undefined };
  readonly #templates: Record<GenRMReference, string>;
  readonly #limit: ConcurrencyLimit;

  constructor(options: GenRMOptions) {
    this.#o = {
      backend: options.backend,
      bothOrders: options.bothOrders ?? true,
      samples: options.samples ?? 0,
      topK: options.topK ?? 20,
      concurrency: options.concurrency ?? 16,
      cache: options.cache,
    };
    this.#templates = {
      gt: options.templates?.gt ?? defaultTemplate("gt"),
      bon: options.templates?.bon ?? defaultTemplate("bon"),
    };
    this.#limit = new ConcurrencyLimit(this.#o.concurrency);
  }

  #messages(kind: GenRMReference, prompt: string, first: string, second: string): Message[] {
    return genrmMessages(this.#templates[kind], { prompt, first, second });
  }

  #cacheKey(messages: Message[]): string | undefined {
    const { backend, samples, topK, cache } = this.#o;
    return cache && JudgeCache.key(["genrm", backend.model, messages, samples, topK]);
  }

  /** p(first ≥ second) for one ordering. */
  async #pYes(messages: Message[]): Promise<number> {
    const { backend, samples, topK, cache } = this.#o;
    const key = this.#cacheKey(messages);
    const hit = key === undefined ? undefined : cache?.get(key);
    if (typeof hit === "number") return hit;
    const p = await this.#limit.run(async () =>
      samples > 0
        ? pYesFromSamples(await backend.sample(messages, samples, 4))
        : pYesFromLogprobs(await backend.firstTokenLogprobs(messages, topK)),
    );
    if (p === undefined) throw noVerdict(samples, topK);
    if (key !== undefined) cache?.set(key, p);
    return p;
  }

  /** The questions a rollout needs (response vs reference, and the reverse when both orders), or why none. */
  #questions(r: Rollout, kind: ReferenceKind): Message[][] | Reward {
    const source = `genrm:${kind}`;
    if (kind === "none") return invalidReward(r.id, source, "GenRM needs a reference (gt or bon)");
    const ref = referenceText(r, kind);
    if (ref === undefined) {
      return invalidReward(
        r.id,
        source,
        kind === "gt"
          ? "no reference.answer for GenRM with ground truth"
          : "no reference.response (Best-of-N) for GenRM",
      );
    }
    const prompt = promptText(r);
    const forward = this.#messages(kind, prompt, r.response, ref);
    return this.#o.bothOrders ? [forward, this.#messages(kind, prompt, ref, r.response)] : [forward];
  }

  #reward(r: Rollout, kind: ReferenceKind, p1: number, p2: number | undefined): Reward {
    const score = p2 === undefined ? p1 : (p1 + (1 - p2)) / 2;
    return {
      id: r.id,
      score,
      verdict: score >= 0.5 ? "correct" : "incorrect",
      source: `genrm:${kind}`,
      details: {
        pResponseFirst: p1,
        ...(p2 !== undefined ? { pReferenceFirst: p2 } : {}),
        mode: this.#o.samples > 0 ? `sample:${this.#o.samples}` : "logprobs",
        model: this.#o.backend.model,
      },
    };
  }

  #failed(r: Rollout, kind: ReferenceKind, e: unknown): Reward {
    const code = e instanceof NoVerdict ? "no_verdict" : "judge_backend";
    return errorReward(r.id, `genrm:${kind}`, code, e instanceof Error ? e.message : String(e));
  }

  async judgeOne(r: Rollout, kind: ReferenceKind): Promise<Reward> {
    const questions = this.#questions(r, kind);
    if (!Array.isArray(questions)) return questions;
    try {
      const [p1, p2] = await Promise.all(questions.map((m) => this.#pYes(m)));
      return this.#reward(r, kind, p1 as number, p2);
    } catch (e) {
      return this.#failed(r, kind, e);
    }
  }

  judge(rollouts: readonly Rollout[], kind: ReferenceKind): Promise<Reward[]> {
    if (this.#o.samples === 0 && this.#o.backend.firstTokenLogprobsMany !== undefined)
      return this.#judgeBatched(rollouts, kind);
    return Promise.all(rollouts.map((r) => this.judgeOne(r, kind)));
  }

  /**
   * Every distinct question of the batch in one backend call: PPO's rollouts repeat (several
   * samples of one prompt often agree), and an in-process engine steps one big batch faster
   * than many small ones.
   */
  async #judgeBatched(rollouts: readonly Rollout[], kind: ReferenceKind): Promise<Reward[]> {
    const { backend, topK, cache } = this.#o;
    const asked = rollouts.map((r) => this.#questions(r, kind));
    const answers = new Map<string, { messages: Message[]; p?: number; error?: Error }>();
    for (const q of asked) {
      if (!Array.isArray(q)) continue;
      for (const messages of q) {
        const text = JSON.stringify(messages);
        if (answers.has(text)) continue;
        const key = this.#cacheKey(messages);
        const hit = key === undefined ? undefined : cache?.get(key);
        answers.set(text, typeof hit === "number" ? { messages, p: hit } : { messages });
      }
    }
    const missing = [...answers.values()].filter((a) => a.p === undefined);
    if (missing.length > 0) {
      let tops: (TokenLogprob[] | Error)[];
      try {
        tops = await (
          backend.firstTokenLogprobsMany as NonNullable<VerdictBackend["firstTokenLogprobsMany"]>
        )(
          missing.map((a) => a.messages),
          topK,
        );
      } catch (e) {
        tops = missing.map(() => (e instanceof Error ? e : new Error(String(e))));
      }
      missing.forEach((a, i) => {
        const top = tops[i];
        const p = top instanceof Error || top === undefined ? undefined : pYesFromLogprobs(top);
        if (p === undefined) a.error = top instanceof Error ? top : noVerdict(0, topK);
        else {
          a.p = p;
          const key = this.#cacheKey(a.messages);
          if (key !== undefined) cache?.set(key, p);
        }
      });
    }
    return rollouts.map((r, i) => {
      const q = asked[i] as Message[][] | Reward;
      if (!Array.isArray(q)) return q;
      const [a1, a2] = q.map((m) => answers.get(JSON.stringify(m)) as { p?: number; error?: Error });
      const error = a1?.error ?? a2?.error;
      if (error !== undefined) return this.#failed(r, kind, error);
      return this.#reward(r, kind, a1?.p as number, a2?.p);
    });
  }

  async close(): Promise<void> {
    this.#o.cache?.close();
  }
}
