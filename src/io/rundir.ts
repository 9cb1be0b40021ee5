// Run directories: where a long job keeps its manifest, its checkpoints and its append-only
// logs, so that a killed job can be resumed. Writes that replace a file go through a
// temporary file and a rename, so a reader (or a resumed job) never sees half a file; logs
// are append-only and a torn last line left by a kill is cut off on reopening.

import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, truncate } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";

const ManifestShape = z.object({
  kind: z.string(),
  key: z.record(z.string(), z.unknown()),
  created: z.string(),
});

/** Writes `data` to `path` so that `path` holds either the old or the new content, never a mix. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads and validates a JSON file; undefined when it does not exist. */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DataScaleError("bad_json", `${path}: invalid JSON: ${e instanceof Error ? e.message : e}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new DataScaleError("bad_json", `${path}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/**
 * Cuts a torn last line (no trailing newline) off an append-only log, as a kill in the
 * middle of a write leaves it. Returns the size kept. Reads only the file's tail.
 */
export async function repairAppendLog(path: string): Promise<number> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw e;
  }
  if (size === 0) return 0;
  const fh = await open(path, "r");
  try {
    const chunk = 1 << 16;
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk);
      const buf = Buffer.alloc(end - start);
      await fh.read(buf, 0, buf.length, start);
      const nl = buf.lastIndexOf(10);
      if (nl !== -1) {
        const keep = start + nl + 1;
        if (keep < size) await truncate(path, keep);
        return keep;
      }
      end = start;
    }
  } finally {
    await fh.close();
  }
  await truncate(path, 0);
  return 0;
}

/**
 * An append-only JSON-lines log. Lines are buffered and written in one `write` per flush
 * (every `flushBytes`, or on the first append `flushMs` after the last flush, so a kill
 * loses little work); a line reaches the file whole or (after a kill mid-write) torn,
 * which `open` repairs.
 */
export class AppendLog {
  readonly path: string;
  readonly #fh: FileHandle;
  #buffer: string[] = [];
  #bytes = 0;
  readonly #flushBytes: number;
  readonly #flushMs: number;
  #lastFlush = performance.now();

  private constructor(path: string, fh: FileHandle, flushBytes: number, flushMs: number) {
    this.path = path;
    this.#fh = fh;
    this.#flushBytes = flushBytes;
    this.#flushMs = flushMs;
  }

  static async open(
    path: string,
    options: { flushBytes?: number; flushMs?: number } = {},
  ): Promise<AppendLog> {
    await repairAppendLog(path);
    const fh = await open(path, "a");
    return new AppendLog(path, fh, options.flushBytes ?? 1 << 16, options.flushMs ?? 200);
  }

  async append(value: unknown): Promise<void> {
    const line = `${JSON.stringify(value)}\n`;
    this.#buffer.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= this.#flushBytes || performance.now() - this.#lastFlush >= this.#flushMs)
      await this.flush();
  }

  async flush(): Promise<void> {
    this.#lastFlush = performance.now();
    if (this.#buffer.length === 0) return;
    const text = this.#buffer.join("");
    this.#buffer = [];
    this.#bytes = 0;
    await this.#fh.write(text);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#fh.close();
  }
}

/**
 * A job's directory. `manifest.json` records what the job is (its inputs and settings);
 * resuming with a different manifest `key` is refused, since the logs would not match.
 */
export class RunDir {
  readonly path: string;
  private constructor(path: string) {
    this.path = path;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /**
   * Opens (creating) a run directory for a job described by `key`. With `resume` an
   * existing manifest must hold the same key; without it, existing job files are removed.
   */
  static async open(
    path: string,
    options: { kind: string; key: Record<string, unknown>; resume: boolean; files?: readonly string[] },
  ): Promise<{ dir: RunDir; resumed: boolean }> {
    await mkdir(path, { recursive: true });
    const dir = new RunDir(path);
    const manifestPath = dir.file("manifest.json");
    const existing = await readJsonFile(manifestPath, ManifestShape);
    const keyJson = JSON.stringify(options.key);
    if (existing !== undefined && options.resume) {
      if (existing.kind !== options.kind || JSON.stringify(existing.key) !== keyJson) {
        throw new DataScaleError(
          "run_mismatch",
          `${manifestPath}: the run directory holds a different job (${existing.kind} ${JSON.stringify(existing.key)}); ` +
            `use another --run-dir or drop --resume to start over`,
        );
      }
      return { dir, resumed: true };
    }
    for (const f of options.files ?? []) await rm(dir.file(f), { force: true });
    await writeJsonAtomic(manifestPath, {
      kind: options.kind,
      key: options.key,
      created: new Date().toISOString(),
    });
    return { dir, resumed: false };
  }
}
