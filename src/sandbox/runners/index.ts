// Every language the sandbox runs, by canonical name and alias.
import { bash } from "./bash.ts";
import { cpp } from "./cpp.ts";
import { go, goTest } from "./go.ts";
import { java } from "./java.ts";
import { javascript } from "./javascript.ts";
import { perl } from "./perl.ts";
import { python } from "./python.ts";
import { rust } from "./rust.ts";
import type { Runner } from "./types.ts";
import { typescript } from "./typescript.ts";

export const RUNNERS: readonly Runner[] = [
  python,
  javascript,
  typescript,
  cpp,
  go,
  goTest,
  java,
  rust,
  bash,
  perl,
];

export function findRunner(language: string): Runner | undefined {
  const name = language.toLowerCase();
  return RUNNERS.find((r) => r.language === name || r.aliases.includes(name));
}

export type { Runner, RunSpec, SandboxPaths } from "./types.ts";
