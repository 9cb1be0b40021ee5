// Countdown / 24-game: reach a target with + - * / and parentheses, using each given number
// at most as often as it is given. ANY valid expression is accepted: the answer is parsed
// by a small recursive-descent parser (never eval) and evaluated with exact rationals, so
// 8/(3-8/3) = 24 is recognised and 7/2*2 is not rounded.
import { z } from "zod";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import { add, div, eq, mul, type Rat, rat, ratToString, sub } from "../rational.ts";
import type { Rng } from "../rng.ts";

/** Longest expression the parser will look at; a valid answer is far shorter. */
const MAX_EXPR_CHARS = 2000;

export class ExprError extends Error {}

/** Parses and evaluates `expr` exactly; returns the value and the numbers it used. */
export function evalExpression(expr: string): { value: Rat; numbers: bigint[] } {
  if (expr.length > MAX_EXPR_CHARS) throw new ExprError("expression too long");
  const src = expr
    .replace(/[×✕]/g, "*")
    .replace(/÷/g, "/")
    .replace(/\\times/g, "*")
    .replace(/\\div/g, "/")
    .replace(/−/g, "-");
  const numbers: bigint[] = [];
  let pos = 0;
  let depth = 0;
  const skip = (): void => {
    while (pos < src.length && /\s/.test(src[pos] as string)) pos++;
  };
  const peek = (): string | undefined => {
    skip();
    return src[pos];
  };
  const primary = (): Rat => {
    const c = peek();
    if (c === "(") {
      if (++depth > 100) throw new ExprError("nesting too deep");
      pos++;
      const v = sum();
      if (peek() !== ")") throw new ExprError(`expected ')' at ${pos}`);
      pos++;
      depth--;
      return v;
    }
    const m = /^\d+/.exec(src.slice(pos, pos + 40));
    if (!m) throw new ExprError(c === undefined ? "unexpected end" : `unexpected '${c}' at ${pos}`);
    pos += m[0].length;
    const n = BigInt(m[0]);
    numbers.push(n);
    return rat(n);
  };
  const product = (): Rat => {
    let v = primary();
    for (let c = peek(); c === "*" || c === "/"; c = peek()) {
      pos++;
      const r = primary();
      if (c === "/" && r.n === 0n) throw new ExprError("division by zero");
      v = c === "*" ? mul(v, r) : div(v, r);
    }
    return v;
  };
  const sum = (): Rat => {
    let v = product();
    for (let c = peek(); c === "+" || c === "-"; c = peek()) {
      pos++;
      const r = product();
      v = c === "+" ? add(v, r) : sub(v, r);
    }
    return v;
  };
  const value = sum();
  if (peek() !== undefined) throw new ExprError(`unexpected '${peek()}' at ${pos}`);
  return { value, numbers };
}

function randomExpression(rng: Rng, nums: number[], allowDiv: boolean): { text: string; value: Rat } {
  if (nums.length === 1) return { text: String(nums[0]), value: rat(nums[0] as number) };
  for (;;) {
    const cut = rng.int(1, nums.length - 1);
    const l = randomExpression(rng, nums.slice(0, cut), allowDiv);
    const r = randomExpression(rng, nums.slice(cut), allowDiv);
    const ops = allowDiv && r.value.n !== 0n ? ["+", "-", "*", "/"] : ["+", "-", "*"];
    const op = rng.pick(ops);
    const value =
      op === "+"
        ? add(l.value, r.value)
        : op === "-"
          ? sub(l.value, r.value)
          : op === "*"
            ? mul(l.value, r.value)
            : div(l.value, r.value);
    // Keep intermediate values natural numbers, as the game's rules usually require.
    if (value.d !== 1n || value.n < 0n) continue;
    return { text: `(${l.text}${op}${r.text})`, value };
  }
}

const stripOuter = (s: string): string => (s.startsWith("(") && s.endsWith(")") ? s.slice(1, -1) : s);

export const countdown = defineFamily({
  name: "countdown",
  domain: "logic",
  description: "reach a target number with + - * / using each given number at most once",
  measureName: "numbers",
  reference: z.looseObject({
    answer: z.string(),
    numbers: z.array(z.number().int().nonnegative()).min(1),
    target: z.number().int(),
  }),
  generate(rng, d) {
    const count = lerp(d, 2, 6);
    const maxN = d < 3 ? 9 : d < 7 ? 13 : 100;
    for (;;) {
      const nums = Array.from({ length: count }, () => rng.int(1, maxN));
      // Use all or all-but-one numbers for the hidden solution; the target must be positive.
      const used = count > 3 && rng.chance(0.3) ? rng.shuffle([...nums]).slice(1) : rng.shuffle([...nums]);
      const { text, value } = randomExpression(rng, used, d >= 2);
      if (value.n <= 0n || value.n > 10_000n || (count >= 3 && value.n === BigInt(Math.max(...nums))))
        continue;
      const target = Number(value.n);
      const listed = nums.join(" ");
      const prompt = isTerse(d)
        ? `use ${listed} to make ${target}`
        : `Using the numbers ${nums.join(", ")} (each at most once) and the operations + - * / with parentheses, write an expression equal to ${target}. ${FORMAT_HINT}`;
      return { prompt, reference: { answer: stripOuter(text), numbers: nums, target }, measure: count };
    }
  },
  check(ref, answer) {
    // "3+5=8" states the value too; accept it when the stated value is the target.
    let expr = answer.trim().replace(/^\$|\$$/g, "");
    const eqAt = expr.indexOf("=");
    if (eqAt >= 0) {
      if (expr.slice(eqAt + 1).trim() !== String(ref.target)) return incorrect("wrong_stated_value");
      expr = expr.slice(0, eqAt);
    }
    let result: { value: Rat; numbers: bigint[] };
    try {
      result = evalExpression(expr);
    } catch (e) {
      return incorrect("unparseable_expression", { error: e instanceof Error ? e.message : String(e) });
    }
    const available = new Map<string, number>();
    for (const n of ref.numbers) available.set(String(n), (available.get(String(n)) ?? 0) + 1);
    for (const n of result.numbers) {
      const k = available.get(String(n)) ?? 0;
      if (k === 0) return incorrect("number_not_available", { number: String(n) });
      available.set(String(n), k - 1);
    }
    if (!eq(result.value, rat(ref.target)))
      return incorrect("wrong_value", { value: ratToString(result.value) });
    return correct();
  },
  wrongAnswers(ref) {
    const nums = ref.numbers;
    // Off by one; a number that is not given; the right value using a number too often.
    const out = [`(${ref.answer})+1`, `(${ref.answer})*2`, nums.map(String).join("*") + "*1000"];
    const used = evalExpression(ref.answer).numbers.map(Number);
    const spare = (n: number): number =>
      nums.filter((x) => x === n).length - used.filter((x) => x === n).length;
    const n = used.find((x) => spare(x) < 2);
    if (n !== undefined) out.push(`(${ref.answer})*${n}/${n}`);
    return out;
  },
});
