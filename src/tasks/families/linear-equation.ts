// Linear equations in one unknown: "x+3=7" at difficulty 0, "a*x+b = c*x+d" with large
// coefficients and a fractional solution at 10. Any exact form of the solution is accepted
// (7, 7/1, 3.5, 7/2, \frac{7}{2}).
import { z } from "zod";
import { checkNumber, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import { add, mul, parseRat, rat, ratToString } from "../rational.ts";
import type { Rng } from "../rng.ts";

function term(coef: bigint, first: boolean): string {
  const sign = coef < 0n ? "-" : first ? "" : "+";
  const mag = coef < 0n ? -coef : coef;
  return `${sign}${mag === 1n ? "" : String(mag)}x`;
}
function constant(c: bigint, first: boolean): string {
  if (c === 0n && !first) return "";
  return c < 0n ? `-${-c}` : first ? String(c) : `+${c}`;
}

function nonzero(rng: Rng, digits: number): bigint {
  let v = 0n;
  while (v === 0n) v = rng.bigDigits(digits);
  return rng.chance(0.3) ? -v : v;
}

export const linearEquation = defineFamily({
  name: "linear_equation",
  domain: "math",
  description: "solve a linear equation in x",
  measureName: "coef_digits",
  reference: z.looseObject({ answer: z.string(), equation: z.string() }),
  generate(rng, d) {
    const digits = lerp(d, 1, 6);
    let equation: string;
    let answer: string;
    if (d < 4) {
      // a*x + b = c with an integer solution.
      const x = BigInt(rng.int(d < 1 ? 0 : -9, 9));
      const a = d < 1 ? 1n : nonzero(rng, digits);
      const b = rng.bigDigits(digits) * (d >= 2 && rng.chance(0.5) ? -1n : 1n);
      equation = `${term(a, true)}${constant(b, false)}=${a * x + b}`;
      answer = String(x);
    } else {
      // a*x + b = c*x + e, a != c; the solution (e-b)/(a-c) may be a fraction from d >= 7.
      const a = nonzero(rng, digits);
      let c = nonzero(rng, rng.int(1, digits));
      if (c === a) c = a + 1n;
      let x = rat(rng.int(-20, 20));
      if (d >= 7) x = rat(BigInt(rng.int(-99, 99)), a - c);
      const b = rng.bigDigits(rng.int(1, digits)) * (rng.chance(0.5) ? -1n : 1n);
      // e = (a-c)x + b must be an integer: scale when the fraction does not clear.
      const eRat = add(mul(rat(a - c), x), rat(b));
      const e = eRat.n / eRat.d;
      const solution = rat(e - b, a - c);
      equation = `${term(a, true)}${constant(b, false)}=${term(c, true)}${constant(e, false)}`;
      answer = ratToString(solution);
    }
    const prompt = isTerse(d) ? `${equation}. x=` : `Solve for x: ${equation}. ${FORMAT_HINT}`;
    return { prompt, reference: { answer, equation }, measure: digits };
  },
  check(ref, answer) {
    const expected = parseRat(ref.answer);
    if (expected === undefined) return incorrect("bad_reference");
    // "x = 5" is a common and unambiguous way to state the solution.
    return checkNumber(expected.value, answer.replace(/^\s*x\s*=\s*/, ""));
  },
  wrongAnswers(ref) {
    const v = parseRat(ref.answer)?.value ?? rat(0);
    return [ratToString(add(v, rat(1))), ratToString(add(v, rat(-1, 2))), `${ref.answer}1`];
  },
});
