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
  // Stripped: the binary travels to the compile cache and back (unstripped, std's symbols
  // make a hello-world 11.6 MB; stripped, 0.34 MB).
  compile: (p) => [
    "/usr/bin/rustc",
    "--edition",
    "2021",
    "-O",
    "-C",
    "strip=symbols",
    "-o",
    `${p.build}/main`,
    `${p.build}/main.rs`,
  ],
  run: (p) => ({ kind: "exec", argv: [`${p.build}/main`] }),
};
