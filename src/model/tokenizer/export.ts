// The tokenizer files of a model we save: tokenizer.json and tokenizer_config.json that
// transformers' PreTrainedTokenizerFast (AutoTokenizer) and our loadTokenizerDir load and
// that encode id for id like the tokenizer the model was trained with.
//
// The byte tokenizer (ids 0–255 = UTF-8 bytes, then specials) is written as a byte-level
// BPE with no merges: the ByteLevel pre-tokenizer maps each byte to one printable character
// (GPT-2's table) whose vocabulary id is the byte's value, so every byte is one token; the
// specials are added tokens (recognized in text, as ByteTokenizer.encode does); a
// TemplateProcessing post-processor prepends BOS (add_special_tokens, as Llama's does).
import { DataScaleError } from "../../core/errors.ts";
import type { Tokenizer } from "../types.ts";
import { ByteTokenizer } from "./byte.ts";
import { PLAIN_CHAT_TEMPLATE } from "./chat-template.ts";
import {
  bosTemplate,
  bpeModelJson,
  bytesToUnicode,
  specialAddedToken,
  type TokenizerJsonInput,
} from "./tokenizer-json.ts";

export interface HfTokenizerFiles {
  tokenizerJson: TokenizerJsonInput & Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Special token ids for config.json / generation_config.json. */
  bosTokenId: number | undefined;
  eosTokenId: number | undefined;
  padTokenId: number | undefined;
}

const BYTE_LEVEL = {
  type: "ByteLevel",
  add_prefix_space: false,
  trim_offsets: true,
  use_regex: false,
} as const;

function byteTokenizerJson(t: ByteTokenizer, addBos: boolean): HfTokenizerFiles["tokenizerJson"] {
  const table = bytesToUnicode();
  const vocab: Record<string, number> = {};
  table.forEach((ch, b) => {
    vocab[ch] = b;
  });
  const bos = t.bosId === undefined ? undefined : t.specials[t.bosId - 256];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: t.specials.map((content, i) => specialAddedToken(256 + i, content)),
    normalizer: null,
    pre_tokenizer: BYTE_LEVEL,
    post_processor: bos === undefined || !addBos ? null : bosTemplate(bos, t.bosId!, true),
    decoder: BYTE_LEVEL,
    model: bpeModelJson(vocab, []),
  };
}

/** Whether `hfTokenizerFiles` can write this tokenizer (the byte tokenizer). */
export function canWriteTokenizerFiles(tokenizer: Tokenizer): tokenizer is ByteTokenizer {
  return tokenizer instanceof ByteTokenizer;
}

/**
 * tokenizer.json and tokenizer_config.json (with the plain chat template by default) for
 * `tokenizer`. Only the byte tokenizer is written this way; a tokenizer loaded from a
 * tokenizer.json would be copied from its directory instead. `addBos: false` is for models
 * whose inputs carry BOS themselves (the main job's chat template and BT format): encoding
 * then adds nothing.
 */
export function hfTokenizerFiles(
  tokenizer: Tokenizer,
  options: { chatTemplate?: string; modelMaxLength?: number; addBos?: boolean } = {},
): HfTokenizerFiles {
  const addBos = (options.addBos ?? true) && tokenizer.bosId !== undefined;
  if (!canWriteTokenizerFiles(tokenizer)) {
    throw new DataScaleError(
      "unsupported_tokenizer",
      `saving tokenizer files is implemented for the byte tokenizer only (got ${tokenizer.constructor.name})`,
    );
  }
  const name = (id: number | undefined) => (id === undefined ? undefined : tokenizer.specials[id - 256]);
  const pad = tokenizer.specials.includes("<|pad|>") ? "<|pad|>" : undefined;
  const padTokenId = pad === undefined ? undefined : 256 + tokenizer.specials.indexOf(pad);
  const added: Record<string, unknown> = {};
  tokenizer.specials.forEach((content, i) => {
    added[String(256 + i)] = {
      content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  });
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: "PreTrainedTokenizerFast",
    added_tokens_decoder: added,
    bos_token: name(tokenizer.bosId) ?? null,
    eos_token: name(tokenizer.eosId) ?? null,
    pad_token: pad ?? null,
    add_bos_token: addBos,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    chat_template: options.chatTemplate ?? PLAIN_CHAT_TEMPLATE,
  };
  if (options.modelMaxLength !== undefined) tokenizerConfig["model_max_length"] = options.modelMaxLength;
  return {
    tokenizerJson: byteTokenizerJson(tokenizer, addBos),
    tokenizerConfig,
    bosTokenId: tokenizer.bosId,
    eosTokenId: tokenizer.eosId,
    padTokenId,
  };
}
