// A language runner: how to compile (optionally) and run one source file inside the
// sandbox. Adding a language is one file implementing this and one line in index.ts.
import type { Limits } from "../types.ts";

/** Paths as the sandboxed program sees them. */
export interface SandboxPaths {
  /** Writable, empty, the program's cwd; wiped between tests. */
  work: string;
  /** Holds the source and compiled binary. */
  build: string;
  /** Writable scratch for toolchains (compiler caches); wiped between tests like work. */
  tmp: string;
  /** DataScale's own Node installation (bin/node), read-only. */
  runtime: string;
}

export type RunSpec =
  /** Run in the harness's forked, already-warm Python interpreter (no exec). */
  | { kind: "python"; args: string[] }
  /** exec this argv from the fork. */
  | { kind: "exec"; argv: string[] };

export interface Runner {
  /** Canonical name, e.g. `python`. */
  readonly language: string;
  /** Other names accepted for the language (SandboxFusion's `nodejs`, `py`, ...). */
  readonly aliases: readonly string[];
  /** Info strings of fenced code blocks that hold this language, lower case. */
  readonly fenceTags: readonly string[];
  readonly sourceName: string;
  /** Host paths the runner's toolchain needs, bound read-only at the same path (never secrets). */
  readonly hostPaths: readonly string[];
  /** Debian packages that provide the toolchain (what `.ci/run` installs; `sandbox doctor` names them). */
  readonly packages: readonly string[];
  /** Extra environment for the compile and the runs (toolchain caches under paths.tmp). */
  env?(paths: SandboxPaths, limits: Limits): Record<string, string>;
  compile?(paths: SandboxPaths, limits: Limits): string[];
  /**
   * Limits for the compile, from the caller's compile limits: compilers need more memory,
   * threads and address space than the program they build (a JVM, Go's toolchain). The
   * program's own limits are never loosened for it.
   */
  compileLimits?(limits: Limits): Limits;
  /** `limits` are the caller's, before `limits()` adjusts them. */
  run(paths: SandboxPaths, limits: Limits): RunSpec;
  /** Adjusts per-test limits for the runtime (e.g. V8 reserves address space it never uses). */
  limits?(limits: Limits): Limits;
}
