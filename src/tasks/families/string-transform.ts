// String transformation: "rev abc" at difficulty 0, a chain of four operations (reverse,
// case changes, Caesar shift, rotation, vowel removal, letter doubling) on 40 characters at
// 10. The answer must be exactly the resulting string (surrounding quotes allowed).
import { z } from "zod";
import { unwrapText } from "../answer.ts";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import type { Rng } from "../rng.ts";

interface Op {
  short: string;
  long: string;
  apply: (s: string) => string;
}

const caesar = (s: string, k: number): string =>
  s.replace(/[a-z]/gi, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + k) % 26) + base);
  });

function makeOp(rng: Rng, d: number): Op {
  const kinds =
    d < 1
      ? ["rev"]
      : d < 3
        ? ["rev", "upper", "dup"]
        : ["rev", "upper", "lower", "swap", "caesar", "rot", "novowel", "dup"];
  const kind = rng.pick(kinds);
  switch (kind) {
    case "upper":
      return { short: "upper", long: "convert to upper case", apply: (s) => s.toUpperCase() };
    case "lower":
      return { short: "lower", long: "convert to lower case", apply: (s) => s.toLowerCase() };
    case "swap":
      return {
        short: "swapcase",
        long: "swap the case of every letter",
        apply: (s) =>
          s.replace(/[a-z]/gi, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())),
      };
    case "caesar": {
      const k = rng.int(1, 25);
      return {
        short: `shift${k}`,
        long: `shift every letter ${k} places forward in the alphabet (wrapping z to a)`,
        apply: (s) => caesar(s, k),
      };
    }
    case "rot": {
      const k = rng.int(1, 5);
      return {
        short: `rotl${k}`,
        long: `move the first ${k} characters to the end`,
        apply: (s) => s.slice(k % Math.max(1, s.length)) + s.slice(0, k % Math.max(1, s.length)),
      };
    }
    case "novowel":
      return {
        short: "novowel",
        long: "delete every vowel (a, e, i, o, u in either case)",
        apply: (s) => s.replace(/[aeiou]/gi, ""),
      };
    case "dup":
      return { short: "dup", long: "write every character twice", apply: (s) => s.replace(/./g, "$&$&") };
    default:
      return { short: "rev", long: "reverse the string", apply: (s) => [...s].reverse().join("") };
  }
}

export const stringTransform = defineFamily({
  name: "string_transform",
  domain: "logic",
  description: "apply a chain of string operations (reverse, case, Caesar shift, rotate, ...)",
  measureName: "length",
  reference: z.looseObject({ answer: z.string(), input: z.string() }),
  generate(rng, d) {
    const length = lerp(d, 3, 40);
    const nOps = lerp(d, 1, 4);
    const letters =
      d >= 5 ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" : "abcdefghijklmnopqrstuvwxyz";
    let input = "";
    for (let i = 0; i < length; i++) input += rng.pick([...letters]);
    const ops = Array.from({ length: nOps }, () => makeOp(rng, d));
    const answer = ops.reduce((s, op) => op.apply(s), input);
    const prompt = isTerse(d)
      ? `${ops.map((o) => o.short).join(" ")} ${input}`
      : `Apply these operations in order to the string "${input}": ${ops.map((o, i) => `(${i + 1}) ${o.long}`).join("; ")}. ${FORMAT_HINT}`;
    return { prompt, reference: { answer, input }, measure: length };
  },
  check(ref, answer) {
    const got = unwrapText(answer);
    if (got === ref.answer) return correct();
    return incorrect(got.toLowerCase() === ref.answer.toLowerCase() ? "wrong_case" : "wrong_string");
  },
  wrongAnswers(ref, rng) {
    const a = ref.answer;
    const out = [`${a}x`, a.slice(1), [...a].reverse().join("")];
    if (a.length > 0) {
      const i = rng.int(0, a.length - 1);
      const c = a[i] as string;
      out.push(
        a.slice(0, i) +
          (c === "z" ? "a" : c === "Z" ? "A" : String.fromCharCode(c.charCodeAt(0) + 1)) +
          a.slice(i + 1),
      );
    }
    return out.filter((s) => s !== a && s !== "");
  },
});
