// GenRM's two operations on any Backend: the first token's top logprobs (greedy, one
// token) and k short sampled verdicts.
import type { Backend } from "../backend/types.ts";
import type { Message } from "../core/schemas.ts";
import type { TokenLogprob, VerdictBackend } from "./genrm.ts";

export function verdictsFrom(backend: Backend): VerdictBackend {
  return {
    model: backend.model,
    async firstTokenLogprobs(messages: Message[], topK: number): Promise<TokenLogprob[]> {
      const [result] = await backend.generate([
        { messages, maxTokens: 1, temperature: 0, topLogprobs: topK },
      ]);
      const first = result?.completions[0]?.tokens?.[0];
      if (first === undefined) throw new Error(`${backend.model}: the backend returned no logprobs`);
      const top = first.topLogprobs ?? [];
      // The chosen token is always a candidate even when the server omits it from the top list.
      return top.some((t) => t.token === first.token)
        ? top
        : [...top, { token: first.token, logprob: first.logprob }];
    },
    async sample(messages: Message[], n: number, maxTokens: number): Promise<string[]> {
      const [result] = await backend.generate([{ messages, n, maxTokens, temperature: 1 }]);
      return (result?.completions ?? []).map((c) => c.text);
    },
  };
}
