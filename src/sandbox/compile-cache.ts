// Compiles are cached by what determines them: the toolchain's argv, the source, the
// extra files and the compile limits. verl sends one /run_code request per test case with
// the same program, and RL batches repeat solutions, so the second compile of a source is
// usually the same work again (0.5–2 s for Go, Java, Rust). A compile in flight is shared:
// requests for the same source that arrive meanwhile wait for it instead of compiling too.
//
// Only deterministic outcomes are kept: a successful compile (its output files) and a
// compile error with an exit code. Time and memory limits hit under load are not.
// What is cached was produced by the sandboxed compiler from exactly this source, so a
// hit serves the bytes a fresh compile of the same input would have produced.
import { createHash } from "node:crypto";
import type { ExecResult } from "./types.ts";

export interface CompiledEntry {
  compile: ExecResult;
  /** Build-relative path → base64; present when the compile succeeded. */
  artifacts?: Record<string, string>;
}

export interface CompileKeyParts {
  language: string;
  argv: readonly string[];
  source: string;
  files: Record<string, string>;
  limits: unknown;
}

export function compileKey(parts: CompileKeyParts): string {
  const h = createHash("sha256");
  h.update(JSON.stringify([parts.language, parts.argv, parts.limits]));
  h.update("\0");
  h.update(parts.source);
  for (const name of Object.keys(parts.files).sort()) h.update(`\0${name}\0${parts.files[name]}`);
  return h.digest("hex");
}

function sizeOf(e: CompiledEntry): number {
  let n = e.compile.stdout.length + e.compile.stderr.length + 256;
  for (const [k, v] of Object.entries(e.artifacts ?? {})) n += k.length + v.length;
  return n;
}

export class CompileCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, { entry: CompiledEntry; bytes: number }>();
  readonly #inflight = new Map<string, Promise<CompiledEntry | undefined>>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Synchronously, so that submissions arriving together cannot all miss: the cached entry
   * (marked recently used), or the compile of it in flight to wait for, or — the caller is
   * the one to compile — `settle`, to call exactly once with the outcome (or undefined).
   */
  claim(
    key: string,
  ):
    | { hit: CompiledEntry }
    | { wait: Promise<CompiledEntry | undefined> }
    | { settle: (outcome: CompiledEntry | undefined) => void } {
    const known = this.#entries.get(key);
    if (known !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, known);
      this.hits++;
      return { hit: known.entry };
    }
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return { wait: pending };
    this.misses++;
    let resolve: (e: CompiledEntry | undefined) => void = () => undefined;
    this.#inflight.set(
      key,
      new Promise((r) => {
        resolve = r;
      }),
    );
    let settled = false;
    const settle = (outcome: CompiledEntry | undefined) => {
      if (settled) return;
      settled = true;
      this.#inflight.delete(key);
      const keep = outcome !== undefined && cacheable(outcome) ? outcome : undefined;
      if (keep !== undefined) this.#store(key, keep);
      resolve(keep);
    };
    return { settle };
  }

  /** Waits for what `claim` says: an entry to use, or `settle` when this caller must compile. */
  async acquire(
    key: string,
  ): Promise<{ entry: CompiledEntry } | { settle: (outcome: CompiledEntry | undefined) => void }> {
    for (;;) {
      const c = this.claim(key);
      if ("hit" in c) return { entry: c.hit };
      if ("settle" in c) return c;
      const entry = await c.wait;
      if (entry !== undefined) {
        this.hits++;
        return { entry };
      }
      // That compile ended in a way not worth keeping (a limit under load): try ourselves.
    }
  }

  #store(key: string, entry: CompiledEntry): void {
    const bytes = sizeOf(entry);
    if (bytes > this.#maxBytes) return;
    this.#entries.set(key, { entry, bytes });
    this.#bytes += bytes;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.bytes;
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

function cacheable(e: CompiledEntry): boolean {
  if (e.compile.status === "ok") return e.artifacts !== undefined;
  return e.compile.status === "compile_error" && e.compile.exitCode !== null;
}
