// The labelled set: every (gold, response, label) case must get the labelled verdict.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { z } from "zod";
import { Reward } from "../../../src/core/schemas.ts";
import { createMathVerifier } from "../../../src/verify/math/index.ts";

const Case = z.object({
  category: z.string().min(1),
  gold: z.string().min(1),
  response: z.string(),
  label: z.boolean(),
  note: z.string().optional(),
});
type Case = z.infer<typeof Case>;

export function loadCases(): Case[] {
  const file = new URL("./cases.jsonl", import.meta.url);
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      const parsed = Case.safeParse(JSON.parse(l));
      if (!parsed.success) throw new Error(`cases.jsonl line ${i + 1}: ${parsed.error.message}`);
      return parsed.data;
    });
}

const cases = loadCases();
const verifier = createMathVerifier();

test("the labelled set has at least 300 cases and true and false cases in every category", () => {
  assert.ok(cases.length >= 300, `only ${cases.length} cases`);
  const byCat = new Map<string, Set<boolean>>();
  for (const c of cases) byCat.set(c.category, (byCat.get(c.category) ?? new Set()).add(c.label));
  for (const [cat, labels] of byCat) {
    if (cat === "unparseable") continue;
    assert.equal(labels.size, 2, `category ${cat} needs both true and false cases`);
  }
  for (const cat of [
    "integers",
    "decimals-fractions",
    "mixed-numbers",
    "scientific",
    "percentages",
    "radicals",
    "pi-e",
    "symbolic",
    "equations",
    "sets",
    "tuples",
    "intervals",
    "inequalities",
    "matrices",
    "complex",
    "units-text",
    "degrees",
    "near-misses",
    "extraction",
    "math-verify-documented",
  ]) {
    assert.ok(byCat.has(cat), `missing category ${cat}`);
  }
});

test("every labelled case gets its label, with a valid Reward", () => {
  const wrong: string[] = [];
  for (const [i, c] of cases.entries()) {
    const r = verifier.verify({
      id: i + 1,
      domain: "math",
      reference: { answer: c.gold },
      response: c.response,
    });
    assert.ok(!(r instanceof Promise));
    Reward.parse(r);
    assert.equal(r.source, "rtv:math");
    if ((r.verdict === "correct") !== c.label || r.verdict === "error") {
      wrong.push(
        `line ${i + 1} [${c.category}] gold=${c.gold} → ${r.verdict} ${JSON.stringify(r.details ?? r.error)}`,
      );
    }
    if (c.note === "unparseable") assert.equal(r.verdict, "invalid", `line ${i + 1} should be invalid`);
  }
  assert.deepEqual(wrong, []);
});
