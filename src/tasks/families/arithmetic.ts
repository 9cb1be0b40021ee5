// Multi-digit arithmetic: "34+7=" at difficulty 0, long mixed expressions with parentheses
// and 12-digit operands at 10. Values are exact BigInts.
import { z } from "zod";
import { checkNumber, defineFamily, FORMAT_HINT, isTerse, lerp, nearbyNumbers } from "../family.ts";
import { rat } from "../rational.ts";
import type { Rng } from "../rng.ts";

type Op = "+" | "-" | "*";
type Expr = { kind: "num"; value: bigint } | { kind: "bin"; op: Op; left: Expr; right: Expr };

const PREC: Record<Op, number> = { "+": 1, "-": 1, "*": 2 };

function evaluate(e: Expr): bigint {
  if (e.kind === "num") return e.value;
  const a = evaluate(e.left);
  const b = evaluate(e.right);
  return e.op === "+" ? a + b : e.op === "-" ? a - b : a * b;
}

/** Renders with the parentheses precedence and left-associativity require, no more. */
export function renderArith(e: Expr): string {
  if (e.kind === "num") return String(e.value);
  const p = PREC[e.op];
  const side = (c: Expr, right: boolean): string => {
    const s = renderArith(c);
    if (c.kind === "num") return s;
    const cp = PREC[c.op];
    const needs = cp < p || (right && cp === p && e.op !== "+" && !(e.op === "*" && c.op === "*"));
    return needs ? `(${s})` : s;
  };
  return `${side(e.left, false)}${e.op}${side(e.right, true)}`;
}

function build(rng: Rng, leaves: bigint[], ops: readonly Op[]): Expr {
  if (leaves.length === 1) return { kind: "num", value: leaves[0] as bigint };
  const cut = rng.int(1, leaves.length - 1);
  return {
    kind: "bin",
    op: rng.pick(ops),
    left: build(rng, leaves.slice(0, cut), ops),
    right: build(rng, leaves.slice(cut), ops),
  };
}

export const arithmetic = defineFamily({
  name: "arithmetic",
  domain: "math",
  description: "multi-digit integer arithmetic (+, -, *, parentheses)",
  measureName: "operand_digits",
  reference: z.looseObject({ answer: z.string(), expression: z.string() }),
  generate(rng, d) {
    const digits = lerp(d, 1, 12);
    const terms = lerp(d, 2, 6);
    const ops: Op[] = d < 1.5 ? ["+", "-"] : ["+", "-", "*"];
    // The first operand has exactly `digits` digits (the measured property); the others
    // between 1 and that many.
    const leaves = [rng.bigDigits(digits)];
    for (let i = 1; i < terms; i++) leaves.push(rng.bigDigits(rng.int(1, digits)));
    let expr = build(rng, leaves, ops);
    // At the lowest levels keep results non-negative: "9-3=" rather than "3-9=".
    if (d < 1 && expr.kind === "bin" && evaluate(expr) < 0n)
      expr = { ...expr, left: expr.right, right: expr.left };
    const text = renderArith(expr);
    const answer = String(evaluate(expr));
    const prompt = isTerse(d) ? `${text}=` : `Compute ${text}. ${FORMAT_HINT}`;
    return { prompt, reference: { answer, expression: text }, measure: digits };
  },
  check: (ref, answer) => checkNumber(rat(BigInt(ref.answer)), answer),
  wrongAnswers: (ref, rng) => nearbyNumbers(ref.answer, rng),
});
