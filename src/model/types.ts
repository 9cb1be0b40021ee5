// The contract between the decoder (which computes logits) and everything that drives it
// (sampling, scoring, the model server, the embedded Backend). Keeping it this small lets
// any model — our decoder, or a test fixture — be sampled and served the same way.

/** Token ids ↔ text. */
export interface Tokenizer {
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** End-of-sequence id, when the vocabulary has one. */
  readonly eosId: number | undefined;
  readonly bosId: number | undefined;
}

/**
 * A causal LM that can be stepped with a per-sequence KV cache. `C` is the model's own
 * opaque cache type.
 */
export interface StepModel<C = unknown> {
  readonly vocabSize: number;
  /** Longest sequence (prompt + generated) a cache can hold. */
  readonly maxSeqLen: number;
  /** A fresh, empty cache for one sequence. */
  newCache(): C;
  /**
   * Appends `tokens[i]` (one or more ids; a prompt prefill or one sampled token) to sequence
   * `i` held by `caches[i]`, and returns the logits at each row's last new position,
   * row-major: Float32Array(rows × vocabSize). Rows may feed different numbers of tokens.
   */
  step(caches: C[], tokens: Int32Array[]): Promise<Float32Array>;
  /** Logits at every position of each full sequence, for scoring: Float32Array(len × vocabSize) each. */
  logits(sequences: Int32Array[]): Promise<Float32Array[]>;
}
