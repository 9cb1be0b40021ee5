// Streaming JSONL: one record per line, read with bounded memory (a line longer than
// `maxLineBytes` is reported and skipped, never buffered whole), every problem named by
// file and line so that a bad record is reported and the stream goes on.

import { once } from "node:events";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import type { Readable } from "node:stream";
import type { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";

export interface JsonlOk<T> {
  ok: true;
  line: number;
  value: T;
}
export interface JsonlBad {
  ok: false;
  line: number;
  /** Where and what: `file:line: message`. */
  error: string;
  /** The raw text (truncated) so that a caller can echo or log it. */
  raw: string;
  /** Best-effort `id` of the bad record, when its JSON parsed but failed the schema. */
  id?: string | number;
}
export type JsonlItem<T> = JsonlOk<T> | JsonlBad;

export interface ReadJsonlOptions<T> {
  schema?: z.ZodType<T>;
  /** Lines longer than this are reported as errors without being held in memory. */
  maxLineBytes?: number;
  /** Name used in error messages; defaults to the path. */
  name?: string;
}

const DEFAULT_MAX_LINE = 64 * 1024 * 1024;
const RAW_PREVIEW = 200;

/** Splits a byte stream into lines (without the newline), yielding oversize lines as null. */
export async function* splitLines(
  input: AsyncIterable<Buffer | string>,
  maxLineBytes = DEFAULT_MAX_LINE,
): AsyncGenerator<string | null> {
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const flush = (): string | null => {
    const text = overflow ? null : Buffer.concat(parts, size).toString("utf8");
    parts = [];
    size = 0;
    overflow = false;
    return text;
  };
  for await (const chunk of input) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      const end = nl === -1 ? buf.length : nl;
      if (!overflow) {
        if (size + (end - start) > maxLineBytes) {
          overflow = true;
          parts = [];
          size = 0;
        } else if (end > start) {
          parts.push(buf.subarray(start, end));
          size += end - start;
        }
      }
      if (nl === -1) break;
      const line = flush();
      yield line?.endsWith("\r") ? line.slice(0, -1) : line;
      start = nl + 1;
    }
  }
  if (size > 0 || overflow) yield flush();
}

function idOf(value: unknown): string | number | undefined {
  if (value !== null && typeof value === "object" && "id" in value) {
    const id = (value as { id: unknown }).id;
    if (typeof id === "string" || typeof id === "number") return id;
  }
  return undefined;
}

/** Parses one JSONL line; blank lines give undefined (callers skip them). */
export function parseJsonlLine<T>(
  text: string,
  line: number,
  name: string,
  schema?: z.ZodType<T>,
): JsonlItem<T> | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      line,
      error: `${name}:${line}: invalid JSON: ${msg}`,
      raw: text.slice(0, RAW_PREVIEW),
    };
  }
  if (schema === undefined) return { ok: true, line, value: value as T };
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, line, value: parsed.data };
  const bad: JsonlBad = {
    ok: false,
    line,
    error: `${name}:${line}: ${formatZodError(parsed.error)}`,
    raw: text.slice(0, RAW_PREVIEW),
  };
  const id = idOf(value);
  if (id !== undefined) bad.id = id;
  return bad;
}

/** Reads JSONL from a path or stream, yielding each record or the problem with it. */
export async function* readJsonl<T = unknown>(
  source: string | Readable,
  options: ReadJsonlOptions<T> = {},
): AsyncGenerator<JsonlItem<T>> {
  const name = options.name ?? (typeof source === "string" ? source : "<stream>");
  const stream = typeof source === "string" ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  let line = 0;
  for await (const text of splitLines(stream, options.maxLineBytes)) {
    line++;
    if (text === null) {
      yield {
        ok: false,
        line,
        error: `${name}:${line}: line longer than ${options.maxLineBytes ?? DEFAULT_MAX_LINE} bytes`,
        raw: "",
      };
      continue;
    }
    const item = parseJsonlLine(text, line, name, options.schema);
    if (item !== undefined) yield item;
  }
}

/**
 * Every record of a file a program wrote itself and reads back, validated by `schema`: such
 * a file has no bad lines unless it was damaged, so the first one is an error naming the
 * file, the line and the field (DataScaleError `bad_record`).
 */
export async function readJsonlAll<T>(path: string, schema: z.ZodType<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of readJsonl(path, { schema })) {
    if (!item.ok) throw new DataScaleError("bad_record", item.error);
    out.push(item.value);
  }
  return out;
}

/** Writes JSON lines with backpressure: `write` resolves once the stream can take more. */
export class JsonlWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #owned: WriteStream | undefined;
  constructor(target: string | NodeJS.WritableStream) {
    if (typeof target === "string") {
      this.#owned = createWriteStream(target);
      this.#out = this.#owned;
    } else {
      this.#owned = undefined;
      this.#out = target;
    }
  }
  async write(value: unknown): Promise<void> {
    if (!this.#out.write(`${JSON.stringify(value)}\n`)) await once(this.#out, "drain");
  }
  async close(): Promise<void> {
    if (this.#owned !== undefined) {
      const done = once(this.#owned, "finish");
      this.#owned.end();
      await done;
    }
  }
}
