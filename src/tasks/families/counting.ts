// Counting and combinatorics: "C(5,2)=" at difficulty 0; choices, arrangements, factorials
// and multiset permutations of words with n up to 40 at 10. Exact BigInt results.
import { z } from "zod";
import { checkNumber, defineFamily, FORMAT_HINT, isTerse, lerp, nearbyNumbers } from "../family.ts";
import { rat } from "../rational.ts";

const fact = (n: number): bigint => {
  let r = 1n;
  for (let i = 2; i <= n; i++) r *= BigInt(i);
  return r;
};
const perm = (n: number, k: number): bigint => fact(n) / fact(n - k);
const choose = (n: number, k: number): bigint => perm(n, k) / fact(k);

export const counting = defineFamily({
  name: "counting",
  domain: "math",
  description: "combinations, permutations, factorials and word arrangements",
  measureName: "n",
  reference: z.looseObject({ answer: z.string() }),
  generate(rng, d) {
    // The offset is drawn first and from a fixed range, so n never decreases with difficulty
    // for a given seed while small difficulties still vary.
    const n = rng.int(0, 2) + lerp(d, 4, 40);
    const terse = isTerse(d);
    const kind = rng.pick(d < 2 ? ["C", "P"] : ["C", "P", "fact", "word"]);
    let prompt: string;
    let answer: bigint;
    if (kind === "C" || kind === "P") {
      const k = rng.int(1, Math.max(1, Math.min(n - 1, d < 2 ? 2 : 8)));
      answer = kind === "C" ? choose(n, k) : perm(n, k);
      prompt = terse
        ? `${kind}(${n},${k})=`
        : kind === "C"
          ? `In how many ways can a team of ${k} be chosen from ${n} people? ${FORMAT_HINT}`
          : `In how many ways can ${k} of ${n} runners take the first ${k} places of a race (order matters)? ${FORMAT_HINT}`;
    } else if (kind === "fact") {
      const m = Math.min(n, 25);
      answer = fact(m);
      prompt = terse
        ? `${m}!=`
        : `In how many orders can ${m} distinct books be put on a shelf? ${FORMAT_HINT}`;
    } else {
      // Arrangements of a word with repeated letters: len! / prod(count!).
      const len = Math.min(Math.max(3, Math.floor(n / 3)), 16);
      const alphabet = "ABCDEFGH".slice(0, rng.int(2, Math.min(8, len)));
      let word = "";
      for (let i = 0; i < len; i++) word += rng.pick([...alphabet]);
      const counts = new Map<string, number>();
      for (const c of word) counts.set(c, (counts.get(c) ?? 0) + 1);
      answer = fact(len);
      for (const c of counts.values()) answer /= fact(c);
      prompt = terse
        ? `arrangements of ${word}=`
        : `How many distinct strings can be made by rearranging all the letters of ${word}? ${FORMAT_HINT}`;
    }
    return { prompt, reference: { answer: String(answer) }, measure: n };
  },
  check: (ref, answer) => checkNumber(rat(BigInt(ref.answer)), answer),
  wrongAnswers: (ref, rng) => nearbyNumbers(ref.answer, rng),
});
