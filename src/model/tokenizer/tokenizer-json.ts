// The parts of Hugging Face's `tokenizer.json` that a byte-level BPE tokenizer (GPT-2,
// Llama 3, Qwen2, SmolLM) uses, as zod schemas. Unknown fields are kept, not rejected: the
// format grows, and a field we do not read must not stop a model from loading.
import { z } from "zod";

export const AddedTokenSchema = z.object({
  id: z.number().int().nonnegative(),
  content: z.string().min(1),
  single_word: z.boolean().default(false),
  lstrip: z.boolean().default(false),
  rstrip: z.boolean().default(false),
  normalized: z.boolean().default(false),
  special: z.boolean().default(false),
});
export type AddedToken = z.infer<typeof AddedTokenSchema>;

const PatternSchema = z.union([z.object({ Regex: z.string() }), z.object({ String: z.string() })]);

export type PreTokenizerSpec =
  | { type: "ByteLevel"; add_prefix_space?: boolean | undefined; use_regex?: boolean | undefined }
  | {
      type: "Split";
      pattern: { Regex: string } | { String: string };
      behavior: "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";
      invert?: boolean | undefined;
    }
  | { type: "Digits"; individual_digits?: boolean | undefined }
  | { type: "Sequence"; pretokenizers: PreTokenizerSpec[] };

export const PreTokenizerSchema: z.ZodType<PreTokenizerSpec> = z.lazy(() =>
  z.discriminatedUnion("type", [
    z.object({
      type: z.literal("ByteLevel"),
      add_prefix_space: z.boolean().optional(),
      use_regex: z.boolean().optional(),
    }),
    z.object({
      type: z.literal("Split"),
      pattern: PatternSchema,
      behavior: z.enum(["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]),
      invert: z.boolean().optional(),
    }),
    z.object({ type: z.literal("Digits"), individual_digits: z.boolean().optional() }),
    z.object({ type: z.literal("Sequence"), pretokenizers: z.array(PreTokenizerSchema) }),
  ]),
);

export type NormalizerSpec =
  | { type: "NFC" | "NFD" | "NFKC" | "NFKD" }
  | { type: "Sequence"; normalizers: NormalizerSpec[] };

export const NormalizerSchema: z.ZodType<NormalizerSpec> = z.lazy(() =>
  z.union([
    z.object({ type: z.enum(["NFC", "NFD", "NFKC", "NFKD"]) }),
    z.object({ type: z.literal("Sequence"), normalizers: z.array(NormalizerSchema) }),
  ]),
);

const TemplatePieceSchema = z.union([
  z.object({ SpecialToken: z.object({ id: z.string(), type_id: z.number().optional() }) }),
  z.object({ Sequence: z.object({ id: z.enum(["A", "B"]), type_id: z.number().optional() }) }),
]);
export type TemplatePiece = z.infer<typeof TemplatePieceSchema>;

export type PostProcessorSpec =
  | { type: "ByteLevel" }
  | {
      type: "TemplateProcessing";
      single: TemplatePiece[];
      special_tokens: Record<string, { id: string; ids: number[]; tokens?: string[] | undefined }>;
    }
  | { type: "Sequence"; processors: PostProcessorSpec[] };

export const PostProcessorSchema: z.ZodType<PostProcessorSpec> = z.lazy(() =>
  z.union([
    z.object({ type: z.literal("ByteLevel") }),
    z.object({
      type: z.literal("TemplateProcessing"),
      single: z.array(TemplatePieceSchema),
      special_tokens: z.record(
        z.string(),
        z.object({ id: z.string(), ids: z.array(z.number().int()), tokens: z.array(z.string()).optional() }),
      ),
    }),
    z.object({ type: z.literal("Sequence"), processors: z.array(PostProcessorSchema) }),
  ]),
);

export const BpeModelSchema = z.looseObject({
  type: z.literal("BPE"),
  vocab: z.record(z.string(), z.number().int().nonnegative()),
  // Older files store merges as "a b"; newer ones (tokenizers ≥ 0.20) as ["a", "b"].
  merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
  unk_token: z.string().nullish(),
  continuing_subword_prefix: z.string().nullish(),
  end_of_word_suffix: z.string().nullish(),
  byte_fallback: z.boolean().nullish(),
  ignore_merges: z.boolean().nullish(),
  dropout: z.number().nullish(),
});

export const TokenizerJsonSchema = z.looseObject({
  added_tokens: z.array(AddedTokenSchema).default([]),
  normalizer: NormalizerSchema.nullish(),
  pre_tokenizer: PreTokenizerSchema.nullish(),
  post_processor: PostProcessorSchema.nullish(),
  decoder: z.looseObject({ type: z.string() }).nullish(),
  model: BpeModelSchema,
});
export type TokenizerJson = z.infer<typeof TokenizerJsonSchema>;
/** What we write: the schema's input shape, so defaults may be left out. */
export type TokenizerJsonInput = z.input<typeof TokenizerJsonSchema>;

/** An `added_tokens` entry for a special token, as the tokenizers library writes one. */
export function specialAddedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** A TemplateProcessing post-processor that prepends `bos` (id `id`), to single sequences and, with `pair`, to both of a pair. */
export function bosTemplate(bos: string, id: number, pair: boolean) {
  const special = (type_id: number) => ({ SpecialToken: { id: bos, type_id } });
  const seq = (name: "A" | "B", type_id: number) => ({ Sequence: { id: name, type_id } });
  return {
    type: "TemplateProcessing" as const,
    single: [special(0), seq("A", 0)],
    ...(pair ? { pair: [special(0), seq("A", 0), special(1), seq("B", 1)] } : {}),
    special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
  };
}

/** A plain byte-level BPE `model` section (no unknown token, dropout or subword affixes). */
export function bpeModelJson(vocab: Record<string, number>, merges: [string, string][]) {
  return {
    type: "BPE" as const,
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    vocab,
    merges,
  };
}

/** The GPT-2 pre-tokenizer regex, used by ByteLevel when `use_regex` is on. */
export const GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * GPT-2's byte ↔ unicode table: printable bytes map to themselves, the rest to code points
 * from 256 up, so every byte string is a printable string without spaces.
 */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  const isPrintable = new Set(printable);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(isPrintable.has(b) ? b : 256 + next++);
  }
  return table;
}
