// Batch generation: task i of a run with base seed S uses seed S+i, so any single task can
// be regenerated from its meta.seed alone, and the same (family, n, seed, difficulty) gives
// byte-identical JSONL.
import { DataScaleError } from "../core/errors.ts";
import type { Task } from "../core/schemas.ts";
import { checkDifficulty } from "./family.ts";
import { FAMILIES, getFamily } from "./index.ts";

export interface GenerateOptions {
  /** A family name, or "all" to cycle through every family. */
  family: string;
  n: number;
  seed: number;
  difficulty: number;
}

export function* generateTasks(options: GenerateOptions): Generator<Task> {
  const { n, seed, difficulty } = options;
  if (!(Number.isSafeInteger(n) && n >= 0))
    throw new DataScaleError("bad_option", `--n must be a non-negative integer, got ${n}`);
  if (!(Number.isSafeInteger(seed) && seed >= 0 && seed + n <= Number.MAX_SAFE_INTEGER)) {
    throw new DataScaleError("bad_option", `--seed must be a non-negative integer, got ${seed}`);
  }
  try {
    checkDifficulty(difficulty);
  } catch (e) {
    throw new DataScaleError("bad_option", `--difficulty: ${(e as Error).message}`);
  }
  const families = options.family === "all" ? FAMILIES : [getFamily(options.family)];
  if (families[0] === undefined) {
    throw new DataScaleError(
      "unknown_family",
      `unknown task family '${options.family}' (known: ${FAMILIES.map((f) => f.name).join(", ")}, all)`,
    );
  }
  for (let i = 0; i < n; i++) {
    const family = families[i % families.length];
    if (family !== undefined) yield family.generate(seed + i, difficulty);
  }
}
