// Categorical syllogisms: "All A are B. All B are C. So all A are C?" at difficulty 0;
// chains over four terms with an extra premise and nonsense nouns (so world knowledge cannot
// help) at 10. Ground truth by enumerating every Venn-diagram model: with k terms there are
// 2^k regions and 2^(2^k) ways for them to be empty or not (65,536 for k = 4), each checked
// with bit masks. Every term is assumed to have members (traditional existential import),
// and the prompt says so. Yes and no are balanced.
import { z } from "zod";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import type { Rng } from "../rng.ts";
import { parseYesNo } from "./propositional.ts";

type Quantifier = "all" | "no" | "some" | "some-not";
interface Statement {
  q: Quantifier;
  x: number;
  y: number;
}

const NOUNS = ["wugs", "blickets", "daxes", "feps", "zorbs", "tulvers", "glims", "norps", "quiffs", "sprogs"];

/** Bit mask over regions (region r contains term t iff bit t of r is set) where a statement is violated or witnessed. */
function regionMasks(k: number, x: number, y: number): { xNotY: number; xAndY: number } {
  let xNotY = 0;
  let xAndY = 0;
  for (let r = 0; r < 1 << k; r++) {
    const inX = ((r >> x) & 1) === 1;
    const inY = ((r >> y) & 1) === 1;
    if (inX && !inY) xNotY |= 1 << r;
    if (inX && inY) xAndY |= 1 << r;
  }
  return { xNotY, xAndY };
}

/** A statement as a test on the set of non-empty regions: a region mask that must be empty (all/no) or not (some). */
function compile(s: Statement, k: number): { mask: number; nonEmpty: boolean } {
  const { xNotY, xAndY } = regionMasks(k, s.x, s.y);
  if (s.q === "all") return { mask: xNotY, nonEmpty: false };
  if (s.q === "no") return { mask: xAndY, nonEmpty: false };
  if (s.q === "some") return { mask: xAndY, nonEmpty: true };
  return { mask: xNotY, nonEmpty: true };
}

/**
 * Whether the premises are jointly satisfiable and whether they entail the conclusion,
 * over every model in which all k terms are non-empty.
 */
export function syllogismValid(
  premises: readonly Statement[],
  conclusion: Statement,
  k: number,
): { valid: boolean; satisfiable: boolean } {
  const termMasks: number[] = [];
  for (let t = 0; t < k; t++) {
    let m = 0;
    for (let r = 0; r < 1 << k; r++) if ((r >> t) & 1) m |= 1 << r;
    termMasks.push(m);
  }
  // All/no premises say which regions are empty: only subsets of the remaining regions are
  // models, enumerated directly as submasks. Some-premises and the terms need a non-empty region.
  let allowed = 2 ** (1 << k) - 1;
  const needs = [...termMasks];
  for (const p of premises.map((q) => compile(q, k))) {
    if (p.nonEmpty) needs.push(p.mask);
    else allowed &= ~p.mask;
  }
  const c = compile(conclusion, k);
  let satisfiable = false;
  for (let model = allowed; ; model = (model - 1) & allowed) {
    if (needs.every((m) => (model & m) !== 0)) {
      satisfiable = true;
      if (((model & c.mask) !== 0) !== c.nonEmpty) return { valid: false, satisfiable };
    }
    if (model === 0) break;
  }
  return { valid: true, satisfiable };
}

function sentence(s: Statement, names: readonly string[], lower = false): string {
  const x = names[s.x] as string;
  const y = names[s.y] as string;
  const text =
    s.q === "all"
      ? `All ${x} are ${y}`
      : s.q === "no"
        ? `No ${x} are ${y}`
        : s.q === "some"
          ? `Some ${x} are ${y}`
          : `Some ${x} are not ${y}`;
  return lower ? text[0]?.toLowerCase() + text.slice(1) : text;
}

function randomStatement(rng: Rng, x: number, y: number, d: number): Statement {
  const qs: Quantifier[] = d < 1 ? ["all"] : d < 2 ? ["all", "no"] : ["all", "no", "some", "some-not"];
  // Either order of the terms, as real syllogisms use all four figures.
  return rng.chance(0.5) || d < 1 ? { q: rng.pick(qs), x, y } : { q: rng.pick(qs), x: y, y: x };
}

export const syllogism = defineFamily({
  name: "syllogism",
  domain: "logic",
  description: "decide whether a categorical syllogism's conclusion follows (all/no/some)",
  measureName: "premises",
  reference: z.looseObject({ answer: z.enum(["yes", "no"]) }),
  generate(rng, d) {
    const k = d < 5 ? 3 : 4;
    const nPremises = lerp(d, 2, 5);
    const want = rng.chance(0.5);
    const names = rng.shuffle(isTerse(d) ? [..."ABCDEFGHJKLMNPRSTUVWXYZ"] : [...NOUNS]).slice(0, k);
    let premises: Statement[] = [];
    let conclusion: Statement = { q: "all", x: 0, y: k - 1 };
    for (let attempt = 0; attempt < 400; attempt++) {
      // A chain linking term 0 to term k-1, then extra premises between random terms.
      premises = [];
      for (let t = 0; t + 1 < k; t++) premises.push(randomStatement(rng, t, t + 1, d));
      while (premises.length < nPremises) {
        const a = rng.int(0, k - 1);
        const b = (a + rng.int(1, k - 1)) % k;
        premises.push(randomStatement(rng, a, b, d));
      }
      premises = premises.slice(0, Math.max(nPremises, k - 1));
      rng.shuffle(premises);
      // At the lowest level the conclusion may be the converse, the classic invalid step.
      conclusion =
        d < 1 && rng.chance(0.5) ? { q: "all", x: k - 1, y: 0 } : randomStatement(rng, 0, k - 1, d);
      const { valid, satisfiable } = syllogismValid(premises, conclusion, k);
      // Contradictory premises entail everything; never ask about them.
      const distinct = new Set(premises.map((p) => `${p.q}${p.x}${p.y}`)).size === premises.length;
      if (satisfiable && distinct && valid === want) break;
    }
    const answer = syllogismValid(premises, conclusion, k).valid ? "yes" : "no";
    const prompt = isTerse(d)
      ? `${premises.map((p) => sentence(p, names)).join(". ")}. So ${sentence(conclusion, names, true)}?`
      : `Assume every group mentioned has at least one member. ${premises.map((p) => `${sentence(p, names)}.`).join(" ")} Does it necessarily follow that ${sentence(conclusion, names, true)}? Answer yes or no. ${FORMAT_HINT}`;
    return { prompt, reference: { answer }, measure: premises.length };
  },
  check(ref, answer) {
    const got = parseYesNo(answer);
    if (got === undefined) return incorrect("not_yes_or_no");
    return got === (ref.answer === "yes") ? correct() : incorrect("wrong_value");
  },
  wrongAnswers: (ref) => (ref.answer === "yes" ? ["no", "No.", "yes or no"] : ["yes", "Yes.", "yes or no"]),
});
