// Trains a small byte-level BPE and returns it as a Hugging Face `tokenizer.json`, so our
// own models (and tests) ship a tokenizer that `tokenizers`/transformers can also load.
import { DataScaleError } from "../../core/errors.ts";
import { compileHfRegex } from "./bpe.ts";
import {
  bosTemplate,
  bpeModelJson,
  bytesToUnicode,
  specialAddedToken,
  type TokenizerJsonInput,
} from "./tokenizer-json.ts";

/** Llama 3's pre-tokenizer pattern: digits in groups of ≤ 3, contractions, words, punctuation. */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface TrainBpeOptions {
  /** Total vocabulary size including the 256 byte tokens and the special tokens. */
  vocabSize: number;
  /** Special tokens, given ids after the learned vocabulary. */
  specialTokens?: readonly string[];
  /** Pre-tokenizer regex (default: Llama 3's). */
  pattern?: string;
  /** Template for a single sequence; `bos` names a special token to prepend. */
  bos?: string | undefined;
}

export function trainByteLevelBpe(texts: Iterable<string>, options: TrainBpeOptions): TokenizerJsonInput {
  const specials = options.specialTokens ?? [];
  const pattern = options.pattern ?? LLAMA3_PATTERN;
  const target = options.vocabSize - specials.length;
  if (target < 256) {
    throw new DataScaleError(
      "bad_option",
      `vocabSize ${options.vocabSize} leaves fewer than 256 byte tokens`,
    );
  }
  const byteToChar = bytesToUnicode();
  const regex = compileHfRegex(pattern);
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(regex)) {
      let word = "";
      for (const b of encoder.encode(m[0])) word += byteToChar[b]!;
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
    }
  }
  const words = [...wordCounts].map(([w, count]) => ({ symbols: w.split(""), count }));
  const vocab: Record<string, number> = {};
  byteToChar.forEach((c, i) => {
    vocab[c] = i;
  });
  let nextId = 256;
  const merges: [string, string][] = [];
  while (nextId < target) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [a, b] = best.split(" ") as [string, string];
    merges.push([a, b]);
    vocab[a + b] = nextId++;
    for (const word of words) {
      const s = word.symbols;
      const merged: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(s[i]!);
      }
      word.symbols = merged;
    }
  }
  const added = specials.map((content, i) => specialAddedToken(nextId + i, content));
  const bosToken = added.find((t) => t.content === options.bos);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: pattern }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, use_regex: false },
      ],
    },
    post_processor:
      bosToken === undefined ? { type: "ByteLevel" } : bosTemplate(bosToken.content, bosToken.id, false),
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModelJson(vocab, merges),
  };
}
