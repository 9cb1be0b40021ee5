// Propositional logic / syllogisms: do the premises entail the conclusion? "p->q. p. q?"
// (modus ponens) at difficulty 0; several premises over up to six atoms at 10. Ground truth
// by truth table over all assignments; premises are always jointly satisfiable, so nothing
// follows vacuously. Yes and no are balanced.
import { z } from "zod";
import { unwrapText } from "../answer.ts";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import { evalFormula, type Formula, randomFormula, showFormula } from "./boolean-eval.ts";

function collectAtoms(f: Formula, into: Set<string>): Set<string> {
  if (f.k === "var") into.add(f.name);
  else if (f.k === "not") collectAtoms(f.a, into);
  else if (f.k === "bin") {
    collectAtoms(f.a, into);
    collectAtoms(f.b, into);
  }
  return into;
}

/** Truth table over exactly the atoms that occur, so no atom is silently fixed to false. */
export function entails(
  premises: readonly Formula[],
  conclusion: Formula,
): { entailed: boolean; satisfiable: boolean } {
  const seen = new Set<string>();
  for (const f of [...premises, conclusion]) collectAtoms(f, seen);
  const atoms = [...seen];
  let satisfiable = false;
  for (let mask = 0; mask < 1 << atoms.length; mask++) {
    const env = Object.fromEntries(atoms.map((a, i) => [a, ((mask >> i) & 1) === 1]));
    if (premises.every((p) => evalFormula(p, env))) {
      satisfiable = true;
      if (!evalFormula(conclusion, env)) return { entailed: false, satisfiable };
    }
  }
  return { entailed: true, satisfiable };
}

export function parseYesNo(text: string): boolean | undefined {
  const s = unwrapText(text).toLowerCase().replace(/[.!]$/, "");
  if (s === "yes" || s === "y") return true;
  if (s === "no" || s === "n") return false;
  return undefined;
}

export const propositional = defineFamily({
  name: "propositional_logic",
  domain: "logic",
  description: "decide whether premises entail a conclusion (propositional syllogisms)",
  measureName: "atoms",
  reference: z.looseObject({ answer: z.enum(["yes", "no"]) }),
  generate(rng, d) {
    const atoms = ["p", "q", "r", "s", "t", "u"].slice(0, lerp(d, 2, 6));
    const nPremises = lerp(d, 2, 6);
    const maxOps = lerp(d, 1, 4);
    const want = rng.chance(0.5);
    const leaf = (): Formula => ({ k: "var", name: rng.pick(atoms) });
    let premises: Formula[] = [];
    let conclusion: Formula = leaf();
    if (d < 1) {
      // The classic two-premise forms: modus ponens (yes) and affirming the consequent (no).
      const [x, y] = rng.shuffle(["p", "q", "r", "s", "t", "u"]) as [string, string];
      const v = (name: string): Formula => ({ k: "var", name });
      premises = [{ k: "bin", op: ">", a: v(x), b: v(y) }, v(want ? x : y)];
      conclusion = v(want ? y : x);
    }
    for (let attempt = 0; attempt < 500 && d >= 1; attempt++) {
      premises = Array.from({ length: nPremises }, () =>
        randomFormula(rng, rng.int(0, maxOps), d < 2 ? [">"] : ["&", "|", ">"], leaf, d < 2 ? 0 : 0.25),
      );
      conclusion = randomFormula(rng, rng.int(0, Math.max(0, maxOps - 1)), ["&", "|", ">"], leaf, 0.3);
      const { entailed, satisfiable } = entails(premises, conclusion);
      const distinct = new Set(premises.map((p) => showFormula(p))).size === premises.length;
      if (satisfiable && distinct && entailed === want) break;
    }
    const { entailed } = entails(premises, conclusion);
    const prompt = isTerse(d)
      ? `${premises.map((p) => showFormula(p)).join(". ")}. ${showFormula(conclusion)}?`
      : `Premises: ${premises.map((p) => showFormula(p, true, true)).join("; ")}. Here -> is implies, & and, | or, ! not. Does "${showFormula(conclusion, true, true)}" necessarily follow from the premises? Answer yes or no. ${FORMAT_HINT}`;
    return { prompt, reference: { answer: entailed ? "yes" : "no" }, measure: atoms.length };
  },
  check(ref, answer) {
    const got = parseYesNo(answer);
    if (got === undefined) return incorrect("not_yes_or_no");
    return got === (ref.answer === "yes") ? correct() : incorrect("wrong_value");
  },
  wrongAnswers: (ref) => (ref.answer === "yes" ? ["no", "No.", "yes or no"] : ["yes", "Yes.", "yes or no"]),
});
