// No input hangs, crashes or slows an instruction check (issue 12, item 6): every
// instruction type, in our mode and in IFEval compat mode, strict and loose, returns a
// verdict on hostile text (lone surrogates, pathological repetitions, megabyte answers)
// within the verifier's own time budget — the budget the worker watchdog backs at 9 s.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import type { Reward } from "../../../src/core/schemas.ts";
import { createInstructionVerifier, instructionTypes } from "../../../src/verify/instruct/verifier.ts";
import { SAMPLE_KWARGS } from "./helpers.ts";

// Compat mode needs a Punkt model; the hand-made fixture has the same algorithmic cost.
process.env["NLTK_DATA"] = join(import.meta.dirname, "fixtures", "nltk_data");

const BUDGET_MS = 9_000;
const ALL = instructionTypes().map((type) => ({ type, kwargs: SAMPLE_KWARGS[type] ?? {} }));
const VERIFIERS = {
  strict: createInstructionVerifier({ mode: "strict" }),
  loose: createInstructionVerifier({ mode: "loose" }),
};
// Inputs that made a regex or a scan quadratic somewhere (or could): list markers, runs
// of quotes, brackets, angle brackets, stars, dashes, dots, initials, blank lines, fences.
const UNITS = [
  "1.\n",
  '"',
  '"x',
  "a.",
  "[",
  "<<",
  "<< >",
  "*",
  "**a",
  "- ",
  "-",
  " ",
  "\n",
  "\n\n",
  "P.",
  "p.s. ",
  "Section 1 ",
  "A. ",
  "'",
  "(",
  "((",
  ")",
  "\ud800",
  "\udc00",
  ".",
  "...",
  "!",
  "?) ",
  "a\n\n",
  "```",
  "***",
  "******",
  "e.g. ",
  "<",
  ">",
  "DON'T ",
  "\t\n",
  "*\n",
  ".\n",
  "1,",
  "1.1",
  "\u00a0",
  "\x1c",
];

function check(text: string, compat: boolean, mode: "strict" | "loose"): void {
  const r = VERIFIERS[mode].verify(
    {
      id: 1,
      domain: "instruction",
      response: text,
      reference: { ...(compat ? { compat: "ifeval" } : {}), instructions: ALL },
    },
    { timeBudgetMs: BUDGET_MS },
  ) as Reward;
  assert.ok(
    r.verdict === "correct" || r.verdict === "partial" || r.verdict === "incorrect",
    `${compat ? "compat" : "ours"} ${mode}: ${r.verdict} ${JSON.stringify(r.error ?? r.details?.["reason"])}`,
  );
  assert.equal((r.details?.["instructions"] as unknown[] | undefined)?.length, ALL.length);
}

const hostile = fc
  .array(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }), // any UTF-16, lone surrogates included
      fc.tuple(fc.constantFrom(...UNITS), fc.integer({ min: 1, max: 3_000 })).map(([u, k]) => u.repeat(k)),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(""));

test("every instruction type returns a verdict on hostile text, both modes, strict and loose", () => {
  fc.assert(
    fc.property(
      hostile,
      fc.boolean(),
      fc.constantFrom("strict" as const, "loose" as const),
      (text, compat, mode) => check(text, compat, mode),
    ),
    { numRuns: 60, seed: 12 },
  );
});

// The types whose scans were quadratic once (sentence splitting, quote and bracket runs,
// line rules) or that tokenize the whole text, each at a megabyte in one rollout.
const HEAVY = [
  "length_constraints:number_sentences",
  "length_constraints:nth_paragraph_first_word",
  "detectable_content:number_placeholders",
  "detectable_format:number_bullet_lists",
  "detectable_format:title",
  "startend:end_checker",
  "change_case:capital_word_frequency",
  "words:last_first",
  "sentence:keyword",
  "datascale:sentence_length",
].map((type) => ({ type, kwargs: SAMPLE_KWARGS[type] ?? {} }));

test("megabyte responses of pathological units stay within the budget", () => {
  const n = 1_000_000;
  for (const unit of ["1.\n", '"', "<< >", ".\n", "?) "]) {
    const text = unit.repeat(Math.ceil(n / unit.length));
    for (const compat of [false, true]) {
      const r = VERIFIERS.strict.verify(
        {
          id: 1,
          domain: "instruction",
          response: text,
          reference: { ...(compat ? { compat: "ifeval" } : {}), instructions: HEAVY },
        },
        { timeBudgetMs: BUDGET_MS },
      ) as Reward;
      assert.ok(
        r.verdict !== "error" && r.verdict !== "invalid",
        `${JSON.stringify(unit)} ${compat}: ${JSON.stringify(r.error)}`,
      );
    }
  }
});

test("a response past the time budget is an error verdict, not a partial score", () => {
  const r = VERIFIERS.loose.verify(
    { id: 2, domain: "instruction", response: "a. ".repeat(200_000), reference: { instructions: ALL } },
    { timeBudgetMs: 1 },
  ) as Reward;
  assert.equal(r.verdict, "error");
  assert.equal(r.error?.code, "time_budget");
});
