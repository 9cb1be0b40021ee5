// Boolean formula evaluation: "T&F=" at difficulty 0; nested formulas over variables with
// not/and/or/xor/implies and twenty operators at 10. Answers: T/F, true/false or 1/0.
import { z } from "zod";
import { unwrapText } from "../answer.ts";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import type { Rng } from "../rng.ts";

export type Formula =
  | { k: "const"; v: boolean }
  | { k: "var"; name: string }
  | { k: "not"; a: Formula }
  | { k: "bin"; op: "&" | "|" | "^" | ">"; a: Formula; b: Formula };

export function evalFormula(f: Formula, env: Readonly<Record<string, boolean>>): boolean {
  switch (f.k) {
    case "const":
      return f.v;
    case "var":
      return env[f.name] ?? false;
    case "not":
      return !evalFormula(f.a, env);
    default: {
      const a = evalFormula(f.a, env);
      const b = evalFormula(f.b, env);
      return f.op === "&" ? a && b : f.op === "|" ? a || b : f.op === "^" ? a !== b : !a || b;
    }
  }
}

/** Fully parenthesised below the top level, so no precedence convention is needed. */
export function showFormula(f: Formula, top = true, spaced = false): string {
  switch (f.k) {
    case "const":
      return f.v ? "T" : "F";
    case "var":
      return f.name;
    case "not":
      return `!${showFormula(f.a, false, spaced)}`;
    default: {
      const op = spaced ? ` ${f.op === ">" ? "->" : f.op} ` : f.op === ">" ? "->" : f.op;
      const s = `${showFormula(f.a, false, spaced)}${op}${showFormula(f.b, false, spaced)}`;
      return top ? s : `(${s})`;
    }
  }
}

/** A random formula with exactly `ops` binary/unary operators over `leaf()`. */
export function randomFormula(
  rng: Rng,
  ops: number,
  binOps: readonly ("&" | "|" | "^" | ">")[],
  leaf: () => Formula,
  notRate: number,
): Formula {
  if (ops === 0) return leaf();
  if (ops >= 1 && rng.chance(notRate))
    return { k: "not", a: randomFormula(rng, ops - 1, binOps, leaf, notRate) };
  const left = rng.int(0, ops - 1);
  return {
    k: "bin",
    op: rng.pick(binOps),
    a: randomFormula(rng, left, binOps, leaf, notRate),
    b: randomFormula(rng, ops - 1 - left, binOps, leaf, notRate),
  };
}

export function parseTruth(text: string): boolean | undefined {
  const s = unwrapText(text).toLowerCase();
  if (["t", "true", "1"].includes(s)) return true;
  if (["f", "false", "0"].includes(s)) return false;
  return undefined;
}

export const booleanEval = defineFamily({
  name: "boolean_eval",
  domain: "logic",
  description: "evaluate a boolean formula (not, and, or, xor, implies)",
  measureName: "operators",
  reference: z.looseObject({ answer: z.enum(["T", "F"]) }),
  generate(rng, d) {
    const ops = lerp(d, 1, 20);
    const binOps =
      d < 2 ? (["&", "|"] as const) : d < 5 ? (["&", "|", "^"] as const) : (["&", "|", "^", ">"] as const);
    const useVars = d >= 3;
    const names = ["a", "b", "c", "d", "e"].slice(0, lerp(d, 2, 5));
    const env: Record<string, boolean> = Object.fromEntries(names.map((n) => [n, rng.chance(0.5)]));
    const leaf = (): Formula =>
      useVars ? { k: "var", name: rng.pick(names) } : { k: "const", v: rng.chance(0.5) };
    const f = randomFormula(rng, ops, binOps, leaf, d < 1 ? 0 : 0.2);
    const value = evalFormula(f, env);
    const prompt = isTerse(d)
      ? `${showFormula(f)}=`
      : `Let ${names.map((n) => `${n}=${env[n] ? "T" : "F"}`).join(", ")}. Evaluate ${showFormula(f, true, true)} where ! is not, & and, | or, ^ xor, -> implies. Answer T or F. ${FORMAT_HINT}`;
    return { prompt, reference: { answer: value ? "T" : "F" }, measure: ops };
  },
  check(ref, answer) {
    const got = parseTruth(answer);
    if (got === undefined) return incorrect("not_a_truth_value");
    return got === (ref.answer === "T") ? correct() : incorrect("wrong_value");
  },
  wrongAnswers: (ref) => (ref.answer === "T" ? ["F", "false", "0", "T or F"] : ["T", "true", "1", "T or F"]),
});
