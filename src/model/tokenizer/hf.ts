// Tokenizers that are not byte-level BPE (SentencePiece-style BPE with byte fallback as in
// Llama 2 / Mistral / TinyLlama, Unigram, WordPiece) go through @huggingface/tokenizers,
// the Hugging Face port of the Rust library. Byte-level BPE stays on our own path (bpe.ts),
// which encodes identically and about 2× faster (see docs/model-io.md).
import { Tokenizer as HfLibraryTokenizer } from "@huggingface/tokenizers";
import { z } from "zod";
import { DataScaleError, errorMessage } from "../../core/errors.ts";
import type { TextTokenizer } from "./types.ts";

const VocabSchema = z.looseObject({
  added_tokens: z
    .array(z.looseObject({ id: z.number().int(), content: z.string(), special: z.boolean().optional() }))
    .default([]),
  model: z.looseObject({
    type: z.string(),
    vocab: z.union([z.record(z.string(), z.number().int()), z.array(z.tuple([z.string(), z.number()]))]),
  }),
});

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly source: string;
  readonly #lib: HfLibraryTokenizer;
  readonly #ids: Map<string, number>;
  readonly #special: Set<number>;

  constructor(
    json: unknown,
    options: {
      bosToken?: string | undefined;
      eosToken?: string | undefined;
      source?: string;
      config?: object;
    } = {},
  ) {
    this.source = options.source ?? "tokenizer.json";
    const parsed = VocabSchema.safeParse(json);
    if (!parsed.success) {
      throw new DataScaleError(
        "bad_tokenizer",
        `${this.source}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    }
    const { vocab } = parsed.data.model;
    this.#ids = new Map(
      Array.isArray(vocab) ? vocab.map(([piece], id) => [piece, id] as const) : Object.entries(vocab),
    );
    for (const t of parsed.data.added_tokens) this.#ids.set(t.content, t.id);
    this.#special = new Set(parsed.data.added_tokens.filter((t) => t.special).map((t) => t.id));
    let maxId = -1;
    for (const id of this.#ids.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    try {
      this.#lib = new HfLibraryTokenizer(json as object, {
        ...options.config,
        clean_up_tokenization_spaces: false,
      });
    } catch (error) {
      throw new DataScaleError("bad_tokenizer", `${this.source}: ${errorMessage(error)}`);
    }
    this.bosId = options.bosToken === undefined ? undefined : this.tokenToId(options.bosToken);
    this.eosId = options.eosToken === undefined ? undefined : this.tokenToId(options.eosToken);
  }

  tokenToId(token: string): number {
    const id = this.#ids.get(token);
    if (id === undefined)
      throw new DataScaleError("bad_tokenizer", `${this.source}: token '${token}' is not in the vocabulary`);
    return id;
  }

  encode(text: string): number[] {
    return text.length === 0 ? [] : this.#lib.encode(text, { add_special_tokens: false }).ids;
  }

  withSpecialTokens(ids: readonly number[]): number[] {
    // The library applies its post-processor only while encoding text, so encode the
    // empty string with specials and splice the ids in where the text would go.
    const specials: number[] = this.#lib.encode("", { add_special_tokens: true }).ids;
    const lead = specials.filter((id) => id === this.bosId);
    const trail = specials.filter((id) => id !== this.bosId);
    return [...lead, ...ids, ...trail];
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.#lib.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** UTF-8 of the token's text: exact for whole-character tokens, U+FFFD for a lone byte piece. */
  tokenBytes(id: number): Uint8Array {
    return new TextEncoder().encode(this.decode([id]));
  }

  isSpecial(id: number): boolean {
    return this.#special.has(id);
  }
}
