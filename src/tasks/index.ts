// Every task family, in curriculum order within each domain. Adding a family is one file in
// families/ and one line here.

import { arithmetic } from "./families/arithmetic.ts";
import { baseConversion } from "./families/base-conversion.ts";
import { booleanEval } from "./families/boolean-eval.ts";
import { codeOutput } from "./families/code-output.ts";
import { countdown } from "./families/countdown.ts";
import { counting } from "./families/counting.ts";
import { fractions } from "./families/fractions.ts";
import { graphReachability } from "./families/graph-reachability.ts";
import { linearEquation } from "./families/linear-equation.ts";
import { maze } from "./families/maze.ts";
import { multipleChoice } from "./families/multiple-choice.ts";
import { propositional } from "./families/propositional.ts";
import { sequence } from "./families/sequence.ts";
import { sorting } from "./families/sorting.ts";
import { stringTransform } from "./families/string-transform.ts";
import { sudoku } from "./families/sudoku.ts";
import { syllogism } from "./families/syllogism.ts";
import { wordProblem } from "./families/word-problem.ts";
import type { TaskDomain, TaskFamily } from "./family.ts";

export const FAMILIES: readonly TaskFamily[] = [
  arithmetic,
  wordProblem,
  linearEquation,
  fractions,
  counting,
  sequence,
  sorting,
  baseConversion,
  stringTransform,
  countdown,
  sudoku,
  maze,
  booleanEval,
  propositional,
  syllogism,
  graphReachability,
  multipleChoice,
  codeOutput,
];

const BY_NAME: ReadonlyMap<string, TaskFamily> = new Map(FAMILIES.map((f) => [f.name, f]));

export function getFamily(name: string): TaskFamily | undefined {
  return BY_NAME.get(name);
}

export function familiesInDomain(domain: TaskDomain): TaskFamily[] {
  return FAMILIES.filter((f) => f.domain === domain);
}

export type { CheckResult, TaskDomain, TaskFamily } from "./family.ts";
