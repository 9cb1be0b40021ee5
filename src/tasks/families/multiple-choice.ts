// Multiple choice: a question with 2 options at difficulty 0 and 5 at 10, drawn from
// arithmetic, counting, sequence and unit-comparison questions; distractors are near
// misses. The answer is the letter; "B", "(B)", "B)" and "B) 56" are accepted, but text
// after the letter must be that option's text.
import { z } from "zod";
import { unwrapText } from "../answer.ts";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import type { Rng } from "../rng.ts";
import { arithmetic } from "./arithmetic.ts";
import { sequence } from "./sequence.ts";

const LETTERS = "ABCDE";

function question(rng: Rng, d: number): { q: string; answer: bigint } {
  const kind = rng.pick(d < 2 ? ["arith"] : ["arith", "seq", "mod"]);
  const sub = Math.max(0, d - 2);
  if (kind === "seq") {
    const t = sequence.generate(rng.u32(), sub);
    return {
      q: `Next in ${String(t.reference?.["terms"])}, ...?`,
      answer: BigInt(String(t.reference?.answer)),
    };
  }
  if (kind === "mod") {
    const a = rng.int(10, 10 ** lerp(d, 2, 6));
    const m = rng.int(2, 13);
    return { q: `What is the remainder of ${a} divided by ${m}?`, answer: BigInt(a % m) };
  }
  const t = arithmetic.generate(rng.u32(), Math.min(10, sub));
  const expr = String((t.reference as { expression?: string } | undefined)?.expression);
  return { q: isTerse(d) ? `${expr}?` : `What is ${expr}?`, answer: BigInt(String(t.reference?.answer)) };
}

export const multipleChoice = defineFamily({
  name: "multiple_choice",
  domain: "logic",
  description: "pick the right option (A-E) for an arithmetic or sequence question",
  measureName: "choices",
  reference: z.looseObject({
    answer: z.string().regex(/^[A-E]$/),
    options: z.array(z.string()).min(2).max(5),
  }),
  generate(rng, d) {
    const k = lerp(d, 2, 5);
    const { q, answer } = question(rng, d);
    const values = new Set<bigint>([answer]);
    const spread = BigInt(Math.max(2, lerp(d, 3, 20)));
    while (values.size < k) {
      const delta = BigInt(rng.int(1, Number(spread))) * (rng.chance(0.5) ? -1n : 1n);
      // Keep distractors as plausible as the answer: no negatives next to a non-negative one.
      values.add(answer >= 0n && answer + delta < 0n ? answer - delta : answer + delta);
    }
    const options = rng.shuffle([...values]).map(String);
    const letter = LETTERS[options.indexOf(String(answer))] as string;
    const listed = options.map((o, i) => `${LETTERS[i]})${isTerse(d) ? "" : " "}${o}`).join(" ");
    const prompt = isTerse(d)
      ? `${q} ${listed}`
      : `${q}\n${options.map((o, i) => `${LETTERS[i]}) ${o}`).join("\n")}\nAnswer with the letter of the correct option. ${FORMAT_HINT}`;
    return { prompt, reference: { answer: letter, options }, measure: k };
  },
  check(ref, answer) {
    const m = /^\(?([A-Ea-e])\)?(?:[.):]?\s*(.*))?$/s.exec(unwrapText(answer));
    if (!m) return incorrect("not_a_letter");
    const letter = (m[1] as string).toUpperCase();
    const rest = (m[2] ?? "").trim();
    const index = LETTERS.indexOf(letter);
    if (index >= ref.options.length) return incorrect("no_such_option");
    if (rest !== "" && rest !== ref.options[index]) return incorrect("option_text_mismatch");
    return letter === ref.answer ? correct() : incorrect("wrong_option");
  },
  wrongAnswers(ref) {
    const i = LETTERS.indexOf(ref.answer);
    const other = LETTERS[(i + 1) % ref.options.length] as string;
    return [
      other,
      `(${other})`,
      `${ref.answer}) ${ref.options[(i + 1) % ref.options.length]}`,
      `${ref.answer} or ${other}`,
    ];
  },
});
