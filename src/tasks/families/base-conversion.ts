// Base conversion: "5 to bin" at difficulty 0, 64-bit values between bases 2, 8, 10, 16
// and others at 10. Answers are compared as digit strings (case-insensitive, an optional
// 0b/0o/0x prefix matching the target base is allowed, no leading zeros required).
import { z } from "zod";
import { unwrapText } from "../answer.ts";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";

const NAMES: Record<number, string> = { 2: "bin", 8: "oct", 10: "dec", 16: "hex" };
const PREFIX: Record<number, string> = { 2: "0b", 8: "0o", 16: "0x" };

export function parseInBase(text: string, base: number): bigint | undefined {
  let s = unwrapText(text).toLowerCase().replace(/_/g, "");
  const p = PREFIX[base];
  if (p !== undefined && s.startsWith(p)) s = s.slice(2);
  if (s === "" || s.length > 200) return undefined;
  let v = 0n;
  for (const ch of s) {
    const digit = Number.parseInt(ch, 36);
    if (Number.isNaN(digit) || digit >= base) return undefined;
    v = v * BigInt(base) + BigInt(digit);
  }
  return v;
}

export const baseConversion = defineFamily({
  name: "base_conversion",
  // Not `math`: answers such as "FF" or "10010" (base 2) are digit strings a math verifier
  // would misread, so this family is checked only by its own checker.
  domain: "logic",
  description: "convert an integer between number bases",
  measureName: "bits",
  reference: z.looseObject({
    answer: z.string(),
    from: z.number().int().min(2).max(36),
    to: z.number().int().min(2).max(36),
  }),
  generate(rng, d) {
    // Offset first, from a fixed range: bits never decrease with difficulty for a given seed.
    const bits = rng.int(0, 2) + lerp(d, 3, 62);
    let v = 1n << BigInt(bits - 1);
    for (let i = 0; i < bits - 1; i++) if (rng.chance(0.5)) v |= 1n << BigInt(i);
    const pairs: [number, number][] =
      d < 2
        ? [[10, 2]]
        : d < 5
          ? [
              [10, 2],
              [2, 10],
              [10, 16],
              [16, 10],
            ]
          : [
              [10, 2],
              [2, 16],
              [16, 10],
              [10, 8],
              [8, 16],
              [10, rng.int(3, 7)],
              [rng.int(3, 7), 10],
            ];
    const [from, to] = rng.pick(pairs);
    const shown = v.toString(from).toUpperCase();
    const answer = v.toString(to).toUpperCase();
    const name = (b: number): string => NAMES[b] ?? `base ${b}`;
    const prompt = isTerse(d)
      ? `${shown} to ${name(to)}`
      : `Convert the base-${from} number ${shown} to base ${to}. ${FORMAT_HINT}`;
    return { prompt, reference: { answer, from, to }, measure: bits };
  },
  check(ref, answer) {
    const expected = parseInBase(ref.answer, ref.to);
    const got = parseInBase(answer, ref.to);
    if (expected === undefined) return incorrect("bad_reference");
    if (got === undefined) return incorrect("not_a_number_in_base");
    return got === expected ? correct() : incorrect("wrong_value");
  },
  wrongAnswers(ref) {
    const v = parseInBase(ref.answer, ref.to) ?? 0n;
    return [(v + 1n).toString(ref.to), (v * 2n).toString(ref.to), `${ref.answer}Z`];
  },
});
