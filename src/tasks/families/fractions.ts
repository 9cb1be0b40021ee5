// Fraction arithmetic: "1/2+1/3=" at difficulty 0, five terms with * and / and two-digit
// denominators at 10. A value-equal but unreduced answer (10/12 for 5/6) earns partial
// credit 0.5: reducing is part of the skill.
import { z } from "zod";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import { add, div, eq, mul, parseRat, type Rat, rat, ratToString, sub } from "../rational.ts";

export const fractions = defineFamily({
  name: "fractions",
  domain: "math",
  description: "add, subtract, multiply and divide fractions; answer in lowest terms",
  measureName: "terms",
  reference: z.looseObject({ answer: z.string(), expression: z.string() }),
  generate(rng, d) {
    const terms = lerp(d, 2, 5);
    const maxDen = lerp(d, 5, 30);
    const ops = d < 4 ? ["+", "-"] : ["+", "-", "*", "/"];
    const frac = (): Rat => {
      const den = rng.int(2, maxDen);
      return rat(rng.int(1, den - 1 + (d >= 5 ? den : 0)), den);
    };
    // Left to right with precedence would need parentheses in prose; evaluate strictly
    // left to right and parenthesise the running value so the text is unambiguous.
    let value = frac();
    let text = ratToString(value);
    for (let i = 1; i < terms; i++) {
      const f = frac();
      const op = rng.pick(ops);
      const lhs = i > 1 && (op === "*" || op === "/") ? `(${text})` : text;
      // Dividing by a fraction needs parentheses: 1/2/(3/4), not 1/2/3/4.
      const rhs = op === "/" ? `(${f.n}/${f.d})` : `${f.n}/${f.d}`;
      text = `${lhs}${op}${rhs}`;
      value =
        op === "+" ? add(value, f) : op === "-" ? sub(value, f) : op === "*" ? mul(value, f) : div(value, f);
    }
    const prompt = isTerse(d)
      ? `${text}=`
      : `Compute ${text}. Write the result as a fraction in lowest terms. ${FORMAT_HINT}`;
    return { prompt, reference: { answer: ratToString(value), expression: text }, measure: terms };
  },
  check(ref, answer, options) {
    const expected = parseRat(ref.answer);
    const got = parseRat(answer);
    if (expected === undefined) return incorrect("bad_reference");
    if (got === undefined) return incorrect("not_a_number");
    if (!eq(got.value, expected.value)) return incorrect("wrong_value");
    if (got.reduced) return correct();
    return options.partialCredit
      ? { score: 0.5, verdict: "partial", reason: "not_in_lowest_terms" }
      : incorrect("not_in_lowest_terms");
  },
  wrongAnswers(ref) {
    const v = parseRat(ref.answer)?.value ?? rat(0);
    return [
      ratToString(add(v, rat(1, 7))),
      ratToString(rat(v.d, v.n === 0n ? 1n : v.n)),
      `${v.n + 1n}/${v.d}`,
    ].filter((s) => s !== ref.answer);
  },
});
