// Sequence continuation: "2 4 6 8 ?" at difficulty 0; geometric, quadratic,
// Fibonacci-like, interleaved and cubic rules at higher levels. Enough terms are shown to
// pin the rule down within its class (a degree-k polynomial shows k+3 terms).
import { z } from "zod";
import { checkNumber, defineFamily, FORMAT_HINT, isTerse, lerp, nearbyNumbers } from "../family.ts";
import { rat } from "../rational.ts";
import type { Rng } from "../rng.ts";

type Rule = { terms: bigint[]; next: bigint };

function polynomial(rng: Rng, degree: number, shown: number, scale: number): Rule {
  const coefs = Array.from(
    { length: degree + 1 },
    (_, i) =>
      BigInt(rng.int(i === degree ? 1 : -scale, scale)) * (i === degree && rng.chance(0.3) ? -1n : 1n),
  );
  const at = (x: number): bigint => coefs.reduce((acc, c, i) => acc + c * BigInt(x) ** BigInt(i), 0n);
  const terms = Array.from({ length: shown }, (_, i) => at(i + 1));
  return { terms, next: at(shown + 1) };
}

function rule(rng: Rng, level: number, d: number): Rule {
  const scale = lerp(d, 5, 50);
  switch (level) {
    case 0: {
      const a = BigInt(rng.int(0, 9));
      const step = BigInt(rng.int(1, 5));
      return { terms: [0, 1, 2, 3].map((i) => a + step * BigInt(i)), next: a + step * 4n };
    }
    case 1: {
      if (rng.chance(0.5)) return polynomial(rng, 1, 5, scale);
      const a = BigInt(rng.int(1, 9));
      const r = BigInt(rng.int(2, 4)) * (rng.chance(0.2) ? -1n : 1n);
      return { terms: [0, 1, 2, 3, 4].map((i) => a * r ** BigInt(i)), next: a * r ** 5n };
    }
    case 2:
      return polynomial(rng, 2, 6, scale);
    case 3: {
      if (rng.chance(0.5)) {
        // a(n) = a(n-1) + a(n-2)
        const t = [BigInt(rng.int(1, scale)), BigInt(rng.int(1, scale))];
        while (t.length < 8) t.push((t.at(-1) as bigint) + (t.at(-2) as bigint));
        return { terms: t.slice(0, 7), next: t[7] as bigint };
      }
      // Two interleaved arithmetic sequences.
      const a = [BigInt(rng.int(0, scale)), BigInt(rng.int(0, scale))];
      const s = [BigInt(rng.int(-9, 9)), BigInt(rng.int(1, 9))];
      const at = (i: number): bigint =>
        (a[i % 2] as bigint) + (s[i % 2] as bigint) * BigInt(Math.floor(i / 2));
      return { terms: Array.from({ length: 8 }, (_, i) => at(i)), next: at(8) };
    }
    default: {
      if (rng.chance(0.5)) return polynomial(rng, 3, 7, scale);
      // a(n) = k*a(n-1) + c
      const k = BigInt(rng.int(2, 3));
      const c = BigInt(rng.int(-scale, scale));
      const t = [BigInt(rng.int(1, scale))];
      while (t.length < 8) t.push(k * (t.at(-1) as bigint) + c);
      return { terms: t.slice(0, 7), next: t[7] as bigint };
    }
  }
}

export const sequence = defineFamily({
  name: "sequence",
  domain: "math",
  description: "continue an integer sequence (arithmetic, geometric, polynomial, recurrences)",
  measureName: "rule_level",
  reference: z.looseObject({ answer: z.string() }),
  generate(rng, d) {
    const level = lerp(d, 0, 4);
    const { terms, next } = rule(rng, level, d);
    const shown = terms.join(" ");
    const prompt = isTerse(d)
      ? `${shown} ?`
      : `What is the next number in the sequence ${terms.join(", ")}, ...? ${FORMAT_HINT}`;
    return { prompt, reference: { answer: String(next), terms: terms.join(", ") }, measure: level };
  },
  check: (ref, answer) => checkNumber(rat(BigInt(ref.answer)), answer),
  wrongAnswers: (ref, rng) => nearbyNumbers(ref.answer, rng),
});
