// What the rest of DataScale needs from a text tokenizer beyond the decoder's `Tokenizer`.
import type { Tokenizer } from "../types.ts";

export interface TextTokenizer extends Tokenizer {
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Applies the tokenizer's post-processor (e.g. prepends BOS) to encoded text. */
  withSpecialTokens(ids: readonly number[]): number[];
  /** The raw bytes of one token, for OpenAI-style `bytes` in logprobs. */
  tokenBytes(id: number): Uint8Array;
  isSpecial(id: number): boolean;
  /** The id of a token string; throws naming it when absent. */
  tokenToId(token: string): number;
}
