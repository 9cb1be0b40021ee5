// `Backend`: the one seam between "who writes the text" and everything else. Generate
// completions (with token logprobs) and score given continuations. Implemented by the
// embedded engine (in-process) and by any OpenAI-compatible server over HTTP.
import type { ChatMessage } from "../model/tokenizer/chat-template.ts";

export type { ChatMessage };

/** Exactly one of `prompt` (raw text) and `messages` (rendered by the model's chat template). */
export interface PromptInput {
  prompt?: string | undefined;
  messages?: readonly ChatMessage[] | undefined;
}

export interface GenerateRequest extends PromptInput {
  /** Completions to sample for this prompt (default 1). */
  n?: number | undefined;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  topP?: number | undefined;
  /** Not part of the OpenAI API; vLLM, SGLang and llama.cpp accept it. */
  topK?: number | undefined;
  /** Completion i of a seeded request uses seed + i, so n > 1 gives n different samples. */
  seed?: number | undefined;
  stop?: readonly string[] | undefined;
  logprobs?: boolean | undefined;
  /** Alternatives per position (0–20); implies logprobs. */
  topLogprobs?: number | undefined;
}

export interface TokenLogprobInfo {
  /** The token's text (a lone piece of a multi-byte character shows as U+FFFD). */
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes, when the backend knows them. */
  bytes?: number[] | undefined;
  id?: number | undefined;
}

export interface GeneratedToken extends TokenLogprobInfo {
  topLogprobs?: TokenLogprobInfo[] | undefined;
}

export type FinishReason = "stop" | "length";

export interface Completion {
  text: string;
  finishReason: FinishReason;
  /** Token ids, when the backend exposes them (the embedded one does). */
  tokenIds?: number[] | undefined;
  /** Per generated token, when logprobs were asked for. */
  tokens?: GeneratedToken[] | undefined;
}

export interface GenerateResult {
  completions: Completion[];
  promptTokens: number;
  completionTokens: number;
}

export interface CompletionDelta {
  text: string;
  tokens?: GeneratedToken[] | undefined;
  finishReason?: FinishReason | undefined;
}

export interface GenerateOptions {
  signal?: AbortSignal | undefined;
  /** Streams text as it is produced: request index, completion index, delta. */
  onDelta?: ((request: number, completion: number, delta: CompletionDelta) => void) | undefined;
}

export interface ScoreRequest extends PromptInput {
  /** The text whose tokens are scored, appended to the (rendered) prompt. */
  continuation: string;
  /**
   * The continuation's exact token ids (e.g. `Completion.tokenIds` of a generation), so a
   * policy's own samples are scored without re-tokenizing. Backends that cannot take ids
   * (HTTP) refuse a request that has them.
   */
  continuationIds?: readonly number[] | undefined;
  topLogprobs?: number | undefined;
}

export interface ScoredToken {
  token: string;
  /** null only for a first token that has no context at all. */
  logprob: number | null;
  /** Entropy (nats) of the model's distribution at this position, when the backend can tell. */
  entropy?: number | undefined;
  id?: number | undefined;
  topLogprobs?: TokenLogprobInfo[] | undefined;
}

export interface ScoreResult {
  tokens: ScoredToken[];
  /** Sum of the continuation's logprobs. */
  logprob: number;
}

export interface Backend {
  /** The model name this backend serves or calls. */
  readonly model: string;
  /** One result per request, in order. */
  generate(requests: readonly GenerateRequest[], options?: GenerateOptions): Promise<GenerateResult[]>;
  score(
    requests: readonly ScoreRequest[],
    options?: { signal?: AbortSignal | undefined },
  ): Promise<ScoreResult[]>;
  close(): Promise<void>;
}
