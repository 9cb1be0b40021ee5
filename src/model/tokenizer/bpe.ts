// Byte-level BPE from a Hugging Face `tokenizer.json` (GPT-2, Llama 3, Qwen2, SmolLM):
// added/special tokens are cut out first, the rest is normalized, pre-tokenized (regex
// splits), mapped byte → unicode, and merged by rank. Decoding maps back to bytes.
import { readFile } from "node:fs/promises";
import { DataScaleError, formatZodError } from "../../core/errors.ts";
import { escapeRegExp } from "./byte.ts";
import {
  type AddedToken,
  bytesToUnicode,
  GPT2_PATTERN,
  type NormalizerSpec,
  type PostProcessorSpec,
  type PreTokenizerSpec,
  type TokenizerJson,
  TokenizerJsonSchema,
} from "./tokenizer-json.ts";
import type { TextTokenizer } from "./types.ts";

export interface BpeTokenizerOptions {
  /** The BOS/EOS token strings (from tokenizer_config.json), when the model has them. */
  bosToken?: string | undefined;
  eosToken?: string | undefined;
  /** Where the JSON came from, for error messages. */
  source?: string;
}

type PieceSplitter = (piece: string) => string[];

export class BpeTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly source: string;
  readonly #vocab: Map<string, number>;
  readonly #idToToken: string[];
  readonly #ranks: Map<string, number>;
  readonly #added: Map<string, AddedToken>;
  readonly #addedById: Map<number, AddedToken>;
  readonly #addedSplitter: RegExp | undefined;
  readonly #addedOrder: AddedToken[];
  readonly #normalize: (text: string) => string;
  readonly #splitters: PieceSplitter[];
  readonly #addPrefixSpace: boolean;
  readonly #byteToChar: string[];
  readonly #charToByte: Map<string, number>;
  readonly #ignoreMerges: boolean;
  readonly #unkId: number | undefined;
  readonly #post: PostProcessorSpec | null | undefined;
  /** Per-instance memo of pre-tokenized piece → ids; a tokenizer sees the same words again and again. */
  readonly #cache = new Map<string, number[]>();
  readonly #encoder = new TextEncoder();

  constructor(json: unknown, options: BpeTokenizerOptions = {}) {
    this.source = options.source ?? "tokenizer.json";
    const kindProblem = byteLevelProblem(json);
    if (kindProblem !== undefined) this.#unsupported(kindProblem);
    const parsed = TokenizerJsonSchema.safeParse(json);
    if (!parsed.success) this.#fail(formatZodError(parsed.error));
    const spec: TokenizerJson = parsed.data;
    const model = spec.model;
    if (model.continuing_subword_prefix || model.end_of_word_suffix) {
      this.#unsupported("model: continuing_subword_prefix/end_of_word_suffix are not byte-level BPE");
    }
    this.#vocab = new Map(Object.entries(model.vocab));
    this.#ranks = new Map();
    model.merges.forEach((merge, rank) => {
      const pair = typeof merge === "string" ? splitMerge(merge) : merge;
      if (pair === undefined)
        this.#fail(`model.merges.${rank}: '${merge}' is not two tokens separated by a space`);
      const key = `${pair[0]} ${pair[1]}`;
      if (!this.#ranks.has(key)) this.#ranks.set(key, rank);
    });
    this.#added = new Map(spec.added_tokens.map((t) => [t.content, t]));
    this.#addedById = new Map(spec.added_tokens.map((t) => [t.id, t]));
    this.#addedOrder = [...spec.added_tokens].sort((a, b) => b.content.length - a.content.length);
    this.#addedSplitter =
      this.#addedOrder.length === 0
        ? undefined
        : new RegExp(
            this.#addedOrder
              .map((t) => `(${t.lstrip ? "\\s*" : ""}${escapeRegExp(t.content)}${t.rstrip ? "\\s*" : ""})`)
              .join("|"),
            "gu",
          );
    let maxId = -1;
    for (const id of this.#vocab.values()) maxId = Math.max(maxId, id);
    for (const t of spec.added_tokens) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;
    this.#idToToken = new Array(this.vocabSize);
    for (const [token, id] of this.#vocab) this.#idToToken[id] = token;
    this.#normalize = buildNormalizer(spec.normalizer);
    const pre = flattenPreTokenizers(spec.pre_tokenizer);
    const byteLevel = pre.find((p) => p.type === "ByteLevel");
    if (byteLevel === undefined) this.#unsupported("pre_tokenizer has no ByteLevel step");
    this.#addPrefixSpace = byteLevel.type === "ByteLevel" && byteLevel.add_prefix_space === true;
    this.#splitters = pre.flatMap((p, i) => this.#splitterFor(p, i));
    this.#byteToChar = bytesToUnicode();
    this.#charToByte = new Map(this.#byteToChar.map((c, b) => [c, b]));
    this.#ignoreMerges = model.ignore_merges === true;
    this.#unkId = model.unk_token ? this.#vocab.get(model.unk_token) : undefined;
    this.#post = spec.post_processor;
    this.bosId = options.bosToken === undefined ? undefined : this.tokenToId(options.bosToken);
    this.eosId = options.eosToken === undefined ? undefined : this.tokenToId(options.eosToken);
  }

  static async fromFile(
    path: string,
    options: Omit<BpeTokenizerOptions, "source"> = {},
  ): Promise<BpeTokenizer> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, "utf8"));
    } catch (error) {
      throw new DataScaleError("bad_tokenizer", `${path}: cannot read JSON (${(error as Error).message})`);
    }
    return new BpeTokenizer(json, { ...options, source: path });
  }

  #fail(message: string): never {
    throw new DataScaleError("bad_tokenizer", `${this.source}: ${message}`);
  }

  /** Not an error in the file: a kind of tokenizer this class does not handle (see hf.ts). */
  #unsupported(message: string): never {
    throw new DataScaleError("unsupported_tokenizer", `${this.source}: ${message}`);
  }

  #splitterFor(p: PreTokenizerSpec, index: number): PieceSplitter[] {
    if (p.type === "ByteLevel") {
      return p.use_regex === false ? [] : [regexSplitter(compileHfRegex(GPT2_PATTERN), "Isolated", false)];
    }
    if (p.type === "Digits")
      return [regexSplitter(p.individual_digits ? /\p{N}/gu : /\p{N}+/gu, "Isolated", false)];
    if (p.type === "Split") {
      let regex: RegExp;
      try {
        regex =
          "Regex" in p.pattern
            ? compileHfRegex(p.pattern.Regex)
            : new RegExp(escapeRegExp(p.pattern.String), "gu");
      } catch (error) {
        this.#fail(
          `pre_tokenizer step ${index}: pattern does not compile in JavaScript (${(error as Error).message})`,
        );
      }
      return [regexSplitter(regex, p.behavior, p.invert === true)];
    }
    return [];
  }

  /** The id of a vocabulary or added token string; throws naming it when absent. */
  tokenToId(token: string): number {
    const id = this.#added.get(token)?.id ?? this.#vocab.get(token);
    if (id === undefined) this.#fail(`token '${token}' is not in the vocabulary`);
    return id;
  }

  /** Text → ids, recognizing added/special tokens; adds no BOS (see `withSpecialTokens`). */
  encode(text: string): number[] {
    const ids: number[] = [];
    if (this.#addedSplitter === undefined) {
      this.#encodeOrdinary(text, ids);
      return ids;
    }
    let last = 0;
    for (const match of text.matchAll(this.#addedSplitter)) {
      const groupIndex = match.findIndex((g, i) => i > 0 && g !== undefined);
      const token = this.#addedOrder[groupIndex - 1]!;
      if (token.single_word && !isWordBoundary(text, match.index, match.index + match[0].length)) continue;
      this.#encodeOrdinary(text.slice(last, match.index), ids);
      ids.push(token.id);
      last = match.index + match[0].length;
    }
    this.#encodeOrdinary(text.slice(last), ids);
    return ids;
  }

  #encodeOrdinary(text: string, ids: number[]): void {
    if (text.length === 0) return;
    let normalized = this.#normalize(text);
    if (this.#addPrefixSpace && !/^\s/u.test(normalized)) normalized = ` ${normalized}`;
    let pieces = [normalized];
    for (const split of this.#splitters) pieces = pieces.flatMap(split);
    for (const piece of pieces) {
      // Keyed by the piece itself, so a repeated word skips UTF-8 encoding and byte mapping too.
      let pieceIds = this.#cache.get(piece);
      if (pieceIds === undefined) {
        let word = "";
        for (const b of this.#encoder.encode(piece)) word += this.#byteToChar[b]!;
        pieceIds = this.#bpeWord(word);
        if (this.#cache.size < 100_000) this.#cache.set(piece, pieceIds);
      }
      for (const id of pieceIds) ids.push(id);
    }
  }

  #bpeWord(word: string): number[] {
    const whole = this.#vocab.get(word);
    let ids: number[];
    if (this.#ignoreMerges && whole !== undefined) ids = [whole];
    else {
      // Byte-mapped characters are all single UTF-16 units (< U+0200), so indexing is safe.
      let symbols = word.split("");
      while (symbols.length > 1) {
        let bestRank = Number.POSITIVE_INFINITY;
        let bestPair = "";
        for (let i = 0; i + 1 < symbols.length; i++) {
          const rank = this.#ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
          if (rank !== undefined && rank < bestRank) {
            bestRank = rank;
            bestPair = `${symbols[i]} ${symbols[i + 1]}`;
          }
        }
        if (bestRank === Number.POSITIVE_INFINITY) break;
        const merged: string[] = [];
        for (let i = 0; i < symbols.length; i++) {
          if (i + 1 < symbols.length && `${symbols[i]} ${symbols[i + 1]}` === bestPair) {
            merged.push(symbols[i]! + symbols[i + 1]!);
            i++;
          } else merged.push(symbols[i]!);
        }
        symbols = merged;
      }
      ids = symbols.map((s) => {
        const id = this.#vocab.get(s) ?? this.#unkId;
        if (id === undefined) this.#fail(`symbol '${s}' is not in the vocabulary and there is no unk_token`);
        return id;
      });
    }
    return ids;
  }

  /** Applies the post-processor's single-sequence template (e.g. Llama 3 prepends BOS). */
  withSpecialTokens(ids: readonly number[]): number[] {
    return applyPostProcessor(this.#post, ids);
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const decoder = new TextDecoder();
    let out = "";
    let bytes: number[] = [];
    for (const id of ids) {
      const added = this.#addedById.get(id);
      if (added !== undefined) {
        out += decoder.decode(new Uint8Array(bytes));
        bytes = [];
        if (!(added.special && options.skipSpecialTokens)) out += added.content;
        continue;
      }
      for (const b of this.tokenBytes(id)) bytes.push(b);
    }
    return out + decoder.decode(new Uint8Array(bytes));
  }

  /** The raw bytes of one token (added tokens: their UTF-8 text). */
  tokenBytes(id: number): Uint8Array {
    const added = this.#addedById.get(id);
    if (added !== undefined) return new TextEncoder().encode(added.content);
    const token = this.#idToToken[id];
    if (token === undefined)
      throw new DataScaleError("bad_token", `${this.source}: id ${id} is not in the vocabulary`);
    const out = new Uint8Array(token.length);
    for (let i = 0; i < token.length; i++) {
      const b = this.#charToByte.get(token[i]!);
      if (b === undefined) this.#fail(`vocabulary token '${token}' is not byte-level encoded`);
      out[i] = b;
    }
    return out;
  }

  isSpecial(id: number): boolean {
    return this.#addedById.get(id)?.special === true;
  }
}

const OUR_NORMALIZERS = new Set(["NFC", "NFD", "NFKC", "NFKD", "Sequence"]);
const OUR_PRE_TOKENIZERS = new Set(["ByteLevel", "Split", "Digits", "Sequence"]);

function componentTypes(spec: unknown, out: string[] = []): string[] {
  if (Array.isArray(spec)) for (const s of spec) componentTypes(s, out);
  else if (typeof spec === "object" && spec !== null) {
    const type = (spec as { type?: unknown }).type;
    if (typeof type === "string") out.push(type);
    for (const value of Object.values(spec)) if (typeof value === "object") componentTypes(value, out);
  }
  return out;
}

/** Why a tokenizer.json is not the byte-level BPE this class implements, if it is not. */
function byteLevelProblem(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const spec = json as {
    model?: { type?: unknown; byte_fallback?: unknown };
    normalizer?: unknown;
    pre_tokenizer?: unknown;
  };
  if (typeof spec.model?.type === "string" && spec.model.type !== "BPE")
    return `model.type is ${spec.model.type}`;
  if (spec.model?.byte_fallback === true) return "model.byte_fallback: SentencePiece-style BPE";
  const pre = componentTypes(spec.pre_tokenizer);
  if (!pre.includes("ByteLevel")) return "pre_tokenizer has no ByteLevel step";
  const odd = [
    ...pre.filter((t) => !OUR_PRE_TOKENIZERS.has(t)),
    ...componentTypes(spec.normalizer).filter((t) => !OUR_NORMALIZERS.has(t)),
  ];
  return odd.length > 0 ? `normalizer/pre_tokenizer steps ${odd.join(", ")}` : undefined;
}

function splitMerge(merge: string): [string, string] | undefined {
  const at = merge.indexOf(" ", 1);
  if (at < 0) return undefined;
  return [merge.slice(0, at), merge.slice(at + 1)];
}

function isWordBoundary(text: string, start: number, end: number): boolean {
  const word = /[\p{L}\p{N}_]/u;
  return !(start > 0 && word.test(text[start - 1]!)) && !(end < text.length && word.test(text[end]!));
}

function flattenPreTokenizers(spec: PreTokenizerSpec | null | undefined): PreTokenizerSpec[] {
  if (spec === null || spec === undefined) return [];
  return spec.type === "Sequence" ? spec.pretokenizers.flatMap(flattenPreTokenizers) : [spec];
}

function buildNormalizer(spec: NormalizerSpec | null | undefined): (text: string) => string {
  if (spec === null || spec === undefined) return (t) => t;
  if (spec.type === "Sequence") {
    const steps = spec.normalizers.map(buildNormalizer);
    return (t) => steps.reduce((acc, f) => f(acc), t);
  }
  const form = spec.type;
  return (t) => t.normalize(form);
}

/**
 * Compiles a tokenizers (Oniguruma) regex as a JavaScript one. Scoped flags `(?i:...)` are
 * native in Node ≥ 23; on older engines the group is rewritten with [xX] classes.
 */
export function compileHfRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern, "gu");
  } catch (error) {
    if (!pattern.includes("(?i:")) throw error;
    const rewritten = pattern.replace(
      /\(\?i:([^()]*)\)/g,
      (_m, body: string) =>
        `(?:${body.replace(/\p{L}/gu, (c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`))})`,
    );
    return new RegExp(rewritten, "gu");
  }
}

/** A pre-tokenizer Split step with the tokenizers library's behaviours. */
function regexSplitter(
  regex: RegExp,
  behavior: "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous",
  invert: boolean,
): PieceSplitter {
  if (behavior === "Isolated" && !invert) {
    return (piece) => {
      const out: string[] = [];
      let last = 0;
      for (const m of piece.matchAll(regex)) {
        if (m[0].length === 0) continue;
        if (m.index > last) out.push(piece.slice(last, m.index));
        out.push(m[0]);
        last = m.index + m[0].length;
      }
      if (last < piece.length) out.push(piece.slice(last));
      return out;
    };
  }
  return (piece) => {
    // Segments alternate between text the pattern did not match and text it did.
    const segments: [string, boolean][] = [];
    let last = 0;
    for (const m of piece.matchAll(regex)) {
      if (m[0].length === 0) continue;
      if (m.index > last) segments.push([piece.slice(last, m.index), invert]);
      segments.push([m[0], !invert]);
      last = m.index + m[0].length;
    }
    if (last < piece.length) segments.push([piece.slice(last), invert]);
    const out: string[] = [];
    switch (behavior) {
      case "Removed":
        for (const [s, isMatch] of segments) if (!isMatch) out.push(s);
        break;
      case "Isolated":
        for (const [s] of segments) out.push(s);
        break;
      case "MergedWithPrevious": {
        for (const [s, isMatch] of segments) {
          if (isMatch && out.length > 0) out[out.length - 1] += s;
          else out.push(s);
        }
        break;
      }
      case "MergedWithNext": {
        let pending = "";
        for (const [s, isMatch] of segments) {
          if (isMatch) pending += s;
          else {
            out.push(pending + s);
            pending = "";
          }
        }
        if (pending.length > 0) out.push(pending);
        break;
      }
      case "Contiguous": {
        let prevMatch: boolean | undefined;
        for (const [s, isMatch] of segments) {
          if (isMatch && prevMatch === true) out[out.length - 1] += s;
          else out.push(s);
          prevMatch = isMatch;
        }
        break;
      }
    }
    return out;
  };
}

function applyPostProcessor(spec: PostProcessorSpec | null | undefined, ids: readonly number[]): number[] {
  if (spec === null || spec === undefined || spec.type === "ByteLevel") return [...ids];
  if (spec.type === "Sequence")
    return spec.processors.reduce<number[]>((acc, p) => applyPostProcessor(p, acc), [...ids]);
  const out: number[] = [];
  for (const piece of spec.single) {
    if ("Sequence" in piece) out.push(...ids);
    else {
      const special = spec.special_tokens[piece.SpecialToken.id];
      if (special === undefined) {
        throw new DataScaleError(
          "bad_tokenizer",
          `post_processor: special token '${piece.SpecialToken.id}' is not defined`,
        );
      }
      out.push(...special.ids);
    }
  }
  return out;
}
