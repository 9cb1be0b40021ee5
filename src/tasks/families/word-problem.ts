// Arithmetic word problems: a quantity changed by a chain of everyday steps. One step and
// single digits at difficulty 0 ("Ann has 3 pens. She gets 4 more. How many pens now?"),
// up to eight steps with multiplication, sharing and large numbers at 10.
import { z } from "zod";
import { checkNumber, defineFamily, FORMAT_HINT, isTerse, lerp, nearbyNumbers } from "../family.ts";
import { rat } from "../rational.ts";

const PEOPLE = [
  ["Ann", "She"],
  ["Bob", "He"],
  ["Cy", "He"],
  ["Dee", "She"],
  ["Eve", "She"],
  ["Max", "He"],
] as const;
const ITEMS = ["pens", "apples", "cards", "coins", "books", "eggs", "stamps", "marbles"] as const;

export const wordProblem = defineFamily({
  name: "word_problem",
  domain: "math",
  description: "arithmetic word problems with a chain of steps",
  measureName: "steps",
  reference: z.looseObject({ answer: z.string() }),
  generate(rng, d) {
    const steps = lerp(d, 1, 8);
    const maxValue = 10 ** lerp(d, 1, 5) - 1;
    const [name, pronoun] = rng.pick(PEOPLE);
    const item = rng.pick(ITEMS);
    let value = rng.int(1, maxValue);
    const sentences = [`${name} has ${value} ${item}.`];
    for (let i = 0; i < steps; i++) {
      const kinds = ["gain", "loss"];
      if (d >= 3) kinds.push("times");
      if (d >= 5) kinds.push("share");
      const kind = rng.pick(kinds);
      if (kind === "loss" && value > 1) {
        const k = rng.int(1, value - 1);
        value -= k;
        sentences.push(
          rng.pick([`${pronoun} gives away ${k}.`, `${pronoun} loses ${k}.`, `${pronoun} sells ${k}.`]),
        );
      } else if (kind === "times" && value * 4 <= 10 * maxValue) {
        const k = rng.int(2, 4);
        value *= k;
        sentences.push(`${pronoun} ends up with ${k} times as many.`);
      } else if (kind === "share" && value >= 4) {
        const divisors = [2, 3, 4, 5].filter((k) => value % k === 0);
        if (divisors.length > 0) {
          const k = rng.pick(divisors);
          value /= k;
          sentences.push(`${pronoun} splits them into ${k} equal piles and keeps one pile.`);
          continue;
        }
        const k = rng.int(1, maxValue);
        value += k;
        sentences.push(`${pronoun} gets ${k} more.`);
      } else {
        const k = rng.int(1, maxValue);
        value += k;
        sentences.push(
          rng.pick([
            `${pronoun} gets ${k} more.`,
            `${pronoun} buys ${k} more.`,
            `${pronoun} finds ${k} more.`,
          ]),
        );
      }
    }
    const question = `How many ${item} now?`;
    const body = `${sentences.join(" ")} ${question}`;
    return {
      prompt: isTerse(d) ? body : `${body} ${FORMAT_HINT}`,
      reference: { answer: String(value) },
      measure: steps,
    };
  },
  check: (ref, answer) => checkNumber(rat(BigInt(ref.answer)), answer),
  wrongAnswers: (ref, rng) => nearbyNumbers(ref.answer, rng),
});
