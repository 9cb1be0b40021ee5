// The byte-level tokenizer of the procedural world: ids 0..255 are the UTF-8 bytes, then a
// few special tokens. Any text encodes (no unknown token) and decoding is exact for every
// id sequence that came from `encode`.
import { DataScaleError } from "../../core/errors.ts";
import type { Tokenizer } from "../types.ts";

export interface ByteTokenizerOptions {
  /** Special tokens after the 256 bytes, in id order; default `<|bos|>`, `<|eos|>`, `<|pad|>`. */
  specials?: readonly string[];
  bos?: string | undefined;
  eos?: string | undefined;
}

export class ByteTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly specials: readonly string[];
  readonly #specialIds: Map<string, number>;
  readonly #splitter: RegExp | undefined;

  constructor(options: ByteTokenizerOptions = {}) {
    this.specials = options.specials ?? ["<|bos|>", "<|eos|>", "<|pad|>"];
    this.#specialIds = new Map(this.specials.map((s, i) => [s, 256 + i]));
    if (this.#specialIds.size !== this.specials.length) {
      throw new DataScaleError("bad_tokenizer", "ByteTokenizer: special tokens must be distinct");
    }
    this.vocabSize = 256 + this.specials.length;
    const bos = "bos" in options ? options.bos : "<|bos|>";
    const eos = "eos" in options ? options.eos : "<|eos|>";
    this.bosId = bos === undefined ? undefined : this.#specialIds.get(bos);
    this.eosId = eos === undefined ? undefined : this.#specialIds.get(eos);
    const byLength = [...this.specials].sort((a, b) => b.length - a.length);
    this.#splitter =
      byLength.length === 0 ? undefined : new RegExp(`(${byLength.map(escapeRegExp).join("|")})`, "u");
  }

  /** Encodes text; special-token strings in the text become their ids. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const parts = this.#splitter === undefined ? [text] : text.split(this.#splitter);
    const encoder = new TextEncoder();
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i % 2 === 1) ids.push(this.#specialIds.get(part)!);
      else for (const b of encoder.encode(part)) ids.push(b);
    }
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const decoder = new TextDecoder();
    let out = "";
    let bytes: number[] = [];
    for (const id of ids) {
      if (id >= 0 && id < 256) {
        bytes.push(id);
        continue;
      }
      const special = this.specials[id - 256];
      if (special === undefined)
        throw new DataScaleError("bad_token", `ByteTokenizer: id ${id} is out of range`);
      out += decoder.decode(new Uint8Array(bytes));
      bytes = [];
      if (!options.skipSpecialTokens) out += special;
    }
    return out + decoder.decode(new Uint8Array(bytes));
  }

  /** The raw bytes of one token (specials: their UTF-8 text). */
  tokenBytes(id: number): Uint8Array {
    if (id >= 0 && id < 256) return new Uint8Array([id]);
    const special = this.specials[id - 256];
    if (special === undefined)
      throw new DataScaleError("bad_token", `ByteTokenizer: id ${id} is out of range`);
    return new TextEncoder().encode(special);
  }

  isSpecial(id: number): boolean {
    return id >= 256 && id < this.vocabSize;
  }
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
