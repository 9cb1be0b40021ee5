// What a task family is: a seeded generator and a checker for its answers, written side by
// side so the checker knows exactly what the generator promised. Families are plain values
// (no registry state); src/tasks/index.ts lists them.
import type { z } from "zod";
import type { Task } from "../core/schemas.ts";
import { parseRat, type Rat, eq as ratEq } from "./rational.ts";
import { Rng } from "./rng.ts";

export type TaskDomain = "math" | "code" | "logic";

export interface CheckResult {
  /** In [0, 1]. */
  score: number;
  verdict: "correct" | "incorrect" | "partial";
  /** Why the answer is not correct, as a short stable code. */
  reason?: string;
  details?: Record<string, unknown>;
}

export interface CheckOptions {
  /** Families that define partial credit give it only when this is true (default true). */
  partialCredit: boolean;
}

/** Difficulty is a number in [0, 10]: 0 is "12+7=", 10 challenges real LLMs. */
export const MIN_DIFFICULTY = 0;
export const MAX_DIFFICULTY = 10;

export interface Generated<R> {
  prompt: string;
  reference: R;
  /** The measurable property that grows with difficulty, e.g. operand digits. */
  measure: number;
}

export interface FamilySpec<R extends { answer: string }> {
  name: string;
  domain: TaskDomain;
  description: string;
  /** Name of the property in `meta.measure` (e.g. "operand_digits"). */
  measureName: string;
  /** The reference fields the checker needs; validated at every check (a boundary). */
  reference: z.ZodType<R>;
  generate(rng: Rng, difficulty: number): Generated<Omit<R, "family">>;
  check(reference: R, answer: string, options: CheckOptions): CheckResult;
  /** Plausible wrong answers for `reference` (for tests and benchmarks; never right). */
  wrongAnswers(reference: R, rng: Rng): string[];
}

export interface TaskFamily {
  readonly name: string;
  readonly domain: TaskDomain;
  readonly description: string;
  readonly measureName: string;
  generate(seed: number, difficulty: number): Task;
  /** Checks an extracted answer; `reference` is validated first and a bad one throws ReferenceShapeError. */
  check(reference: unknown, answer: string, options?: Partial<CheckOptions>): CheckResult;
  wrongAnswers(reference: unknown, seed: number): string[];
}

export class ReferenceShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReferenceShapeError";
  }
}

export function checkDifficulty(difficulty: number): void {
  if (!(Number.isFinite(difficulty) && difficulty >= MIN_DIFFICULTY && difficulty <= MAX_DIFFICULTY)) {
    throw new RangeError(
      `difficulty must be a number in [${MIN_DIFFICULTY}, ${MAX_DIFFICULTY}], got ${difficulty}`,
    );
  }
}

export function defineFamily<R extends { answer: string }>(spec: FamilySpec<R>): TaskFamily {
  const parseRef = (reference: unknown): R => {
    const r = spec.reference.safeParse(reference);
    if (!r.success) {
      const issue = r.error.issues[0];
      const where = issue?.path.length ? `reference.${issue.path.map(String).join(".")}` : "reference";
      throw new ReferenceShapeError(`${spec.name}: ${where}: ${issue?.message ?? "invalid"}`);
    }
    return r.data;
  };
  return {
    name: spec.name,
    domain: spec.domain,
    description: spec.description,
    measureName: spec.measureName,
    generate(seed, difficulty) {
      checkDifficulty(difficulty);
      const rng = new Rng(seed, spec.name);
      const g = spec.generate(rng, difficulty);
      return {
        id: `${spec.name}-${seed}`,
        domain: spec.domain,
        prompt: g.prompt,
        reference: { ...g.reference, family: spec.name },
        source: spec.name,
        meta: { family: spec.name, difficulty, seed, [spec.measureName]: g.measure },
      };
    },
    check(reference, answer, options) {
      return spec.check(parseRef(reference), answer, { partialCredit: options?.partialCredit ?? true });
    },
    wrongAnswers(reference, seed) {
      return spec.wrongAnswers(parseRef(reference), new Rng(seed, `${spec.name}/wrong`));
    },
  };
}

/** A structural parameter interpolated over difficulty: lo at 0, hi at 10, non-decreasing. */
export function lerp(difficulty: number, lo: number, hi: number): number {
  return lo + Math.floor(((hi - lo) * difficulty) / MAX_DIFFICULTY + 1e-9);
}

/** Low difficulties use terse prompts ("12+7="), higher ones full sentences and an answer format. */
export const isTerse = (difficulty: number): boolean => difficulty < 3;
export const FORMAT_HINT = "Give the final answer in <answer></answer> tags.";

export const correct = (details?: Record<string, unknown>): CheckResult => ({
  score: 1,
  verdict: "correct",
  details,
});
export const incorrect = (reason: string, details?: Record<string, unknown>): CheckResult => ({
  score: 0,
  verdict: "incorrect",
  reason,
  details,
});

/** Exact rational comparison of a numeric answer. */
export function checkNumber(expected: Rat, answer: string): CheckResult {
  const got = parseRat(answer);
  if (got === undefined) return incorrect("not_a_number");
  return ratEq(got.value, expected) ? correct() : incorrect("wrong_value");
}

/** Wrong numeric answers near the truth: off by one, sign, digit slip. */
export function nearbyNumbers(answer: string, rng: Rng): string[] {
  const v = BigInt(answer);
  const out = new Set<string>([String(v + 1n), String(v - 1n), String(v * 10n + BigInt(rng.int(0, 9)))]);
  if (v !== 0n) out.add(String(-v));
  out.delete(answer);
  return [...out];
}
