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
}

export interface GenRMOptions {
  backend: VerdictBackend;
  /** Template texts with {{prompt}}, {{first}}, {{second}}; defaults ship in templates/. */
  templates?: Partial<Record<ReferenceKind, string>>;
  bothOrders?: boolean;
  /** 0: read p(YES) from logprobs; k > 0: sample k verdicts per order. */
  samples?: number;
  topK?: number;
  concurrency?: number;
  cache?: JudgeCache;
}

export function defaultTemplate(kind: ReferenceKind): string {
  return readFileSync(new URL(`./templates/genrm-${kind}.md`, import.meta.url), "utf8");
}

export function render(template: string, vars: Record<"prompt" | "first" | "second", string>): string {
  // One pass, so text inside a response that looks like a placeholder is left alone.
  return template.replace(/\{\{(prompt|first|second)\}\}/g, (_, k: "prompt" | "first" | "second") => vars[k]);
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

export class GenRM implements Judge {
  readonly source = "genrm";
  readonly #o: Required<Omit<GenRMOptions, "cache" | "templates">> & { cache: JudgeCache | undefined };
  readonly #templates: Record<ReferenceKind, string>;
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

  /** p(first ≥ second) for one ordering. */
  async #pYes(kind: ReferenceKind, prompt: string, first: string, second: string): Promise<number> {
    const messages: Message[] = [
      { role: "user", content: render(this.#templates[kind], { prompt, first, second }) },
    ];
    const { backend, samples, topK, cache } = this.#o;
    const key = cache && JudgeCache.key(["genrm", backend.model, messages, samples, topK]);
    const hit = key === undefined ? undefined : cache?.get(key);
    if (typeof hit === "number") return hit;
    const p = await this.#limit.run(async () =>
      samples > 0
        ? pYesFromSamples(await backend.sample(messages, samples, 4))
        : pYesFromLogprobs(await backend.firstTokenLogprobs(messages, topK)),
    );
    if (p === undefined) {
      throw new NoVerdict(
        samples > 0
          ? `none of ${samples} sampled verdicts said YES or NO`
          : `neither YES nor NO among the top ${topK} first tokens`,
      );
    }
    if (key !== undefined) cache?.set(key, p);
    return p;
  }

  async judgeOne(r: Rollout, kind: ReferenceKind): Promise<Reward> {
    const source = `genrm:${kind}`;
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
    try {
      const [p1, p2] = await Promise.all([
        this.#pYes(kind, prompt, r.response, ref),
        this.#o.bothOrders ? this.#pYes(kind, prompt, ref, r.response) : undefined,
      ]);
      const score = p2 === undefined ? p1 : (p1 + (1 - p2)) / 2;
      return {
        id: r.id,
        score,
        verdict: score >= 0.5 ? "correct" : "incorrect",
        source,
        details: {
          pResponseFirst: p1,
          ...(p2 !== undefined ? { pReferenceFirst: p2 } : {}),
          mode: this.#o.samples > 0 ? `sample:${this.#o.samples}` : "logprobs",
          model: this.#o.backend.model,
        },
      };
    } catch (e) {
      const code = e instanceof NoVerdict ? "no_verdict" : "judge_backend";
      return errorReward(r.id, source, code, e instanceof Error ? e.message : String(e));
    }
  }

  judge(rollouts: readonly Rollout[], kind: ReferenceKind): Promise<Reward[]> {
    return Promise.all(rollouts.map((r) => this.judgeOne(r, kind)));
  }

  async close(): Promise<void> {
    this.#o.cache?.close();
  }
}
