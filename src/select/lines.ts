// Lines of a file in batches, one batch per read chunk. Selection makes several passes over
// files of millions of lines; yielding one line at a time through nested async generators
// cost more than parsing the line, so the passes take a chunk's lines at once and loop
// over them synchronously.
import { createReadStream } from "node:fs";

export interface LineBatch {
  /** Line number (1-based) of texts[0]. */
  first: number;
  /** The lines without their newline (and a trailing \r); null for a line over the limit. */
  texts: (string | null)[];
}

export async function* lineBatches(
  path: string,
  options: { maxLineBytes?: number; chunkBytes?: number } = {},
): AsyncGenerator<LineBatch> {
  const maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? 1 << 20 });
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let overflow = false;
  let line = 1;
  const finish = (tail: Buffer, texts: (string | null)[]): void => {
    if (overflow) texts.push(null);
    else {
      const all = carry.length === 0 ? tail : Buffer.concat([...carry, tail]);
      const t = all.toString("utf8");
      texts.push(t.endsWith("\r") ? t.slice(0, -1) : t);
    }
    carry = [];
    carryBytes = 0;
    overflow = false;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const texts: (string | null)[] = [];
      const firstNl = chunk.indexOf(10);
      if (firstNl === -1) {
        carryBytes += chunk.length;
        if (carryBytes > maxLineBytes) {
          overflow = true;
          carry = [];
        } else if (!overflow) carry.push(chunk);
        continue;
      }
      if (carryBytes + firstNl > maxLineBytes) overflow = true;
      finish(chunk.subarray(0, firstNl), texts);
      const lastNl = chunk.lastIndexOf(10);
      if (lastNl > firstNl) {
        // Complete lines in the middle: one decode, one split. A newline byte never occurs
        // inside a multi-byte UTF-8 sequence, so decoding up to it is safe.
        for (const t of chunk.toString("utf8", firstNl + 1, lastNl).split("\n")) {
          if (t.length > maxLineBytes / 3 && Buffer.byteLength(t) > maxLineBytes) texts.push(null);
          else texts.push(t.endsWith("\r") ? t.slice(0, -1) : t);
        }
      }
      const rest = chunk.subarray(lastNl + 1);
      if (rest.length > 0) {
        if (rest.length > maxLineBytes) overflow = true;
        else carry.push(rest);
        carryBytes = rest.length;
      }
      yield { first: line, texts };
      line += texts.length;
    }
    if (carryBytes > 0 || overflow) {
      const texts: (string | null)[] = [];
      finish(Buffer.alloc(0), texts);
      yield { first: line, texts };
    }
  } finally {
    stream.destroy();
  }
}
