// GenRM's two operations on any Backend: the first token's top logprobs (greedy, one
// token) and k short sampled verdicts; for many questions at once, one generate call.
import type { Backend, GenerateResult } from "../backend/types.ts";
import type { Message } from "../core/schemas.ts";
import type { TokenLogprob, VerdictBackend } from "./genrm.ts";

function firstToken(model: string, result: GenerateResult | undefined): TokenLogprob[] {
  const first = result?.completions[0]?.tokens?.[0];
  if (first === undefined) throw new Error(`${model}: the backend returned no logprobs`);
  const top = first.topLogprobs ?? [];
  // The chosen token is always a candidate even when the server omits it from the top list.
  return top.some((t) => t.token === first.token)
    ? top
    : [...top, { token: first.token, logprob: first.logprob }];
}

/** Questions per backend call when batching. */
const MANY_CHUNK = 64;

const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export function verdictsFrom(backend: Backend, options: { batched?: boolean } = {}): VerdictBackend {
  const verdicts: VerdictBackend = {
    model: backend.model,
    async firstTokenLogprobs(messages: Message[], topK: number): Promise<TokenLogprob[]> {
      const [result] = await backend.generate([
        { messages, maxTokens: 1, temperature: 0, topLogprobs: topK },
      ]);
      return firstToken(backend.model, result);
    },
    async sample(messages: Message[], n: number, maxTokens: number): Promise<string[]> {
      const [result] = await backend.generate([{ messages, n, maxTokens, temperature: 1 }]);
      return (result?.completions ?? []).map((c) => c.text);
    },
  };
  // Only for a backend that batches a call's requests itself (the embedded engine); an HTTP
  // backend keeps per-question calls under GenRM's concurrency limit.
  if (options.batched === true) {
    verdicts.firstTokenLogprobsMany = async (questions, topK) => {
      const out: (TokenLogprob[] | Error)[] = [];
      // Bounded calls: one call is one batch, and a batch holds every sequence's KV cache.
      for (let i = 0; i < questions.length; i += MANY_CHUNK)
        out.push(...(await firstTokens(questions.slice(i, i + MANY_CHUNK), topK)));
      return out;
    };
    const firstTokens = async (questions: readonly Message[][], topK: number) => {
      let results: GenerateResult[];
      try {
        results = await backend.generate(
          questions.map((messages) => ({ messages, maxTokens: 1, temperature: 0, topLogprobs: topK })),
        );
      } catch {
        // One bad question (e.g. longer than the model holds) fails the whole call: ask one by
        // one, so only that question gets the error — in turn, not at once: a backend that
        // batches concurrent calls (the embedded engine) would put them in one batch again.
        const out: (TokenLogprob[] | Error)[] = [];
        for (const m of questions)
          out.push(await verdicts.firstTokenLogprobs(m, topK).catch((e: unknown) => toError(e)));
        return out;
      }
      return results.map((r) => {
        try {
          return firstToken(backend.model, r);
        } catch (e) {
          return toError(e);
        }
      });
    };
  }
  return verdicts;
}
