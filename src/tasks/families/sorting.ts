// Sorting a list of integers: "sort 3 1 2" at difficulty 0, forty six-digit numbers with
// negatives, ascending or descending, at 10. Separators in the answer may be spaces or
// commas, optionally in brackets; the numbers must be exactly the sorted list.
import { z } from "zod";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";

export function parseIntList(text: string): bigint[] | undefined {
  const s = text
    .trim()
    .replace(/^\[(.*)\]$/s, "$1")
    .trim();
  if (s === "") return [];
  const parts = s.split(/\s*,\s*|\s+/);
  const out: bigint[] = [];
  for (const p of parts) {
    if (!/^[+-]?\d+$/.test(p)) return undefined;
    out.push(BigInt(p));
  }
  return out;
}

export const sorting = defineFamily({
  name: "sorting",
  domain: "logic",
  description: "sort a list of integers ascending or descending",
  measureName: "length",
  reference: z.looseObject({ answer: z.string() }),
  generate(rng, d) {
    const length = lerp(d, 3, 40);
    const digits = lerp(d, 1, 6);
    const descending = d >= 2 && rng.chance(0.5);
    const xs: bigint[] = [];
    for (let i = 0; i < length; i++) {
      const v = rng.bigDigits(rng.int(1, digits));
      xs.push(d >= 4 && rng.chance(0.3) ? -v : v);
    }
    const sorted = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (descending) sorted.reverse();
    const list = xs.join(" ");
    const prompt = isTerse(d)
      ? `sort${descending ? " desc" : ""} ${list}`
      : `Sort these numbers in ${descending ? "descending" : "ascending"} order: ${xs.join(", ")}. List them separated by spaces. ${FORMAT_HINT}`;
    return { prompt, reference: { answer: sorted.join(" ") }, measure: length };
  },
  check(ref, answer) {
    const expected = parseIntList(ref.answer);
    const got = parseIntList(answer);
    if (expected === undefined) return incorrect("bad_reference");
    if (got === undefined) return incorrect("not_a_list");
    if (got.length !== expected.length) return incorrect("wrong_length");
    return got.every((v, i) => v === expected[i]) ? correct() : incorrect("wrong_order");
  },
  wrongAnswers(ref, rng) {
    const xs = ref.answer.split(" ");
    const out: string[] = [xs.slice(0, -1).join(" ")];
    const distinct = new Set(xs).size > 1;
    if (distinct) {
      // Swap two unequal neighbours.
      const ys = [...xs];
      const i = ys.findIndex((v, k) => k + 1 < ys.length && v !== ys[k + 1]);
      [ys[i], ys[i + 1]] = [ys[i + 1] as string, ys[i] as string];
      out.push(ys.join(" "));
      out.push([...xs].reverse().join(" "));
    }
    out.push([...xs, String(rng.int(0, 9))].join(" "));
    return out.filter((s) => s !== ref.answer);
  },
});
