// A fixed-width binary copy of the scores log, written during the one pass that parses the
// log (per-domain statistics) and read by every later pass (cut, snapping, ties, the
// selection itself). Parsing the JSON log once instead of four times was most of the
// selection's CPU time after scoring. It is derived data, rebuilt on every run (a resumed
// run rebuilds it from the log), so it plays no part in resuming.

import { type FileHandle, open } from "node:fs/promises";
import type { ScoreRecord } from "./types.ts";

/** Float64 fields per record. */
export const FIELDS = 7;
export const F_LINE = 0;
export const F_STATUS = 1;
/** Index into the domain list, -1 when the record has no domain. */
export const F_DOMAIN = 2;
export const F_N = 3;
export const F_MEAN = 4;
export const F_VAR = 5;
/** tieHash(seed, id) in [0, 1), -1 when the record has no id. */
export const F_HASH = 6;

export const STATUS_CODES = ["scored", "passthrough", "bad", "error"] as const;
const statusCode: Record<ScoreRecord["status"], number> = { scored: 0, passthrough: 1, bad: 2, error: 3 };
export const SCORED = 0;
export const PASSTHROUGH = 1;
export const BAD = 2;

const RECORDS_PER_BLOCK = 1 << 14;

/** NaN stands for an absent optional number. */
export const orUndefined = (x: number): number | undefined => (Number.isNaN(x) ? undefined : x);

export class ScoreCacheWriter {
  readonly #fh: FileHandle;
  readonly #block = new Float64Array(RECORDS_PER_BLOCK * FIELDS);
  #n = 0;

  private constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  static async create(path: string): Promise<ScoreCacheWriter> {
    return new ScoreCacheWriter(await open(path, "w"));
  }

  /** Appends a record; resolves at once unless a block is full and must be written. */
  add(r: ScoreRecord, domain: number, hash: number): Promise<void> | undefined {
    const b = this.#block;
    const o = this.#n * FIELDS;
    b[o + F_LINE] = r.line;
    b[o + F_STATUS] = statusCode[r.status];
    b[o + F_DOMAIN] = domain;
    b[o + F_N] = r.n ?? Number.NaN;
    b[o + F_MEAN] = r.mean ?? Number.NaN;
    b[o + F_VAR] = r.var ?? Number.NaN;
    b[o + F_HASH] = hash;
    if (++this.#n === RECORDS_PER_BLOCK) return this.#writeBlock();
    return undefined;
  }

  async #writeBlock(): Promise<void> {
    if (this.#n === 0) return;
    const bytes = new Uint8Array(this.#block.buffer, 0, this.#n * FIELDS * 8);
    this.#n = 0;
    await this.#fh.write(bytes);
  }

  async close(): Promise<void> {
    try {
      await this.#writeBlock();
    } finally {
      await this.#fh.close();
    }
  }
}

/**
 * The cache in blocks of whole records. The block's memory is reused: a caller must be done
 * with one block before asking for the next.
 */
export async function* scoreCacheBlocks(path: string): AsyncGenerator<Float64Array> {
  const fh = await open(path, "r");
  try {
    const block = new Float64Array(RECORDS_PER_BLOCK * FIELDS);
    const bytes = new Uint8Array(block.buffer);
    let position = 0;
    for (;;) {
      let got = 0;
      while (got < bytes.length) {
        const { bytesRead } = await fh.read(bytes, got, bytes.length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      position += got;
      const records = Math.floor(got / (FIELDS * 8));
      if (records * FIELDS * 8 !== got) throw new Error(`${path}: score cache is truncated`);
      if (records > 0) yield block.subarray(0, records * FIELDS);
      if (got < bytes.length) return;
    }
  } finally {
    await fh.close();
  }
}
