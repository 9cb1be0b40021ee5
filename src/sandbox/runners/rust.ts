// Rust with Debian's rustc (package `rustc`): one file, edition 2021, optimised, compiled
// inside the sandbox. (SandboxFusion runs a bare `rustc`: edition 2015, debug build with
// overflow checks; we build as competitive judges do, see docs/sandbox.md.)
import type { Runner } from "./types.ts";

export const rust: Runner = {
  language: "rust",
  aliases: ["rs"],
  fenceTags: ["rust", "rs"],
  sourceName: "main.rs",
  hostPaths: [],
  packages: ["rustc"],
  env: (p) => ({ TMPDIR: p.tmp }),
  compile: (p) => [
    "/usr/bin/rustc",
    "--edition",
    "2021",
    "-O",
    "-o",
    `${p.build}/main`,
    `${p.build}/main.rs`,
  ],
  run: (p) => ({ kind: "exec", argv: [`${p.build}/main`] }),
};
