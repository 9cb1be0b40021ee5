// Every language the sandbox runs, by canonical name and alias.
import { cpp } from "./cpp.ts";
import { javascript } from "./javascript.ts";
import { python } from "./python.ts";
import type { Runner } from "./types.ts";

export const RUNNERS: readonly Runner[] = [python, javascript, cpp];

export function findRunner(language: string): Runner | undefined {
  const name = language.toLowerCase();
  return RUNNERS.find((r) => r.language === name || r.aliases.includes(name));
}

export type { Runner, RunSpec, SandboxPaths } from "./types.ts";
