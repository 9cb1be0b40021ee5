import assert from "node:assert/strict";
import { test } from "node:test";
import { Reward, type Rollout } from "../../../src/core/schemas.ts";
import { taskFromIfevalRow } from "../../../src/verify/instruct/ifeval-rows.ts";
import {
  createInstructionVerifier,
  instructionTypes,
  looseVariants,
} from "../../../src/verify/instruct/verifier.ts";
import { VerifierRegistry } from "../../../src/verify/registry.ts";
import { SAMPLE_KWARGS } from "./helpers.ts";

const rollout = (response: string, instructions: unknown): Rollout =>
  ({ id: 7, domain: "instruction", response, reference: { instructions } }) as Rollout;

const THREE = [
  { type: "punctuation:no_comma", kwargs: {} },
  { type: "change_case:english_lowercase", kwargs: {} },
  { type: "length_constraints:number_words", kwargs: { num_words: 3, relation: "at least" } },
];

test("score is the fraction of instructions followed; details say which and why", () => {
  const v = createInstructionVerifier();
  const r = Reward.parse(v.verify(rollout("This Has No Comma at all", THREE)));
  assert.equal(r.source, "rtv:instruction");
  assert.equal(r.verdict, "partial");
  assert.ok(Math.abs(r.score - 2 / 3) < 1e-12);
  const list = r.details?.["instructions"] as { type: string; ok: boolean; why: string }[];
  assert.deepEqual(
    list.map((o) => [o.type, o.ok]),
    [
      ["punctuation:no_comma", true],
      ["change_case:english_lowercase", false],
      ["length_constraints:number_words", true],
    ],
  );
  assert.match(list[1]!.why, /lowercase/);
  assert.equal(r.details?.["followed"], 2);
  assert.equal(r.details?.["total"], 3);
});

test("verdicts: all followed is correct, none is incorrect; allOrNothing scores 1 or 0", () => {
  const v = createInstructionVerifier();
  const all = v.verify(rollout("this has no comma at all", THREE)) as Reward;
  assert.deepEqual([all.verdict, all.score], ["correct", 1]);
  const none = v.verify(rollout("Yes, No", THREE)) as Reward;
  assert.deepEqual([none.verdict, none.score], ["incorrect", 0]);
  const aon = createInstructionVerifier({ allOrNothing: true });
  const partial = aon.verify(rollout("This Has No Comma at all", THREE)) as Reward;
  assert.deepEqual([partial.verdict, partial.score], ["partial", 0]);
  assert.equal((aon.verify(rollout("this has no comma at all", THREE)) as Reward).score, 1);
});

test("an empty response follows nothing, as in IFEval", () => {
  const r = createInstructionVerifier().verify(
    rollout("  \n ", [{ type: "punctuation:no_comma" }]),
  ) as Reward;
  assert.equal(r.verdict, "incorrect");
  assert.match(JSON.stringify(r.details), /empty response/);
});

test("IFEval rows with every kwarg present and null where unused work unchanged", () => {
  const hfKwargs = {
    num_highlights: null,
    relation: "less than",
    num_words: 10,
    num_placeholders: null,
    prompt_to_repeat: null,
    num_bullets: null,
    section_spliter: null,
    num_sections: null,
    capital_relation: null,
    capital_frequency: null,
    keywords: null,
    num_paragraphs: null,
    language: null,
    let_relation: null,
    letter: null,
    let_frequency: null,
    end_phrase: null,
    forbidden_words: null,
    keyword: null,
    frequency: null,
    num_sentences: null,
    postscript_marker: null,
    first_word: null,
    nth_paragraph: null,
  };
  const r = createInstructionVerifier().verify(
    rollout("short answer", [{ type: "length_constraints:number_words", kwargs: hfKwargs }]),
  ) as Reward;
  assert.equal(r.verdict, "correct");
});

test("unknown types and bad kwargs are data errors (never a reward of 0) naming the field", () => {
  const v = createInstructionVerifier();
  const unknown = v.verify(
    rollout("x", [THREE[0], { type: "keywords:key_sentences", kwargs: {} }]),
  ) as Reward;
  assert.equal(unknown.verdict, "error");
  assert.equal(unknown.error?.code, "bad_reference");
  assert.match(String(unknown.error?.message), /^reference\.instructions\.1\.type: .*keywords:key_sentences/);

  const cases: [unknown, string][] = [
    [
      { type: "length_constraints:number_words", kwargs: { num_words: "ten", relation: "at least" } },
      "num_words",
    ],
    [{ type: "length_constraints:number_words", kwargs: { num_words: 10, relation: "at most" } }, "relation"],
    [{ type: "length_constraints:number_words", kwargs: { num_words: 10 } }, "relation"],
    [
      {
        type: "keywords:letter_frequency",
        kwargs: { letter: "#", let_frequency: 2, let_relation: "at least" },
      },
      "letter",
    ],
    [{ type: "language:response_language", kwargs: { language: "xx" } }, "language"],
    [{ type: "punctuation:no_comma", kwargs: { extra: 1 } }, "extra"],
    [{ type: "count:word_count_range", kwargs: { min_words: 9, max_words: 3 } }, "min_words"],
  ];
  for (const [ins, field] of cases) {
    const r = Reward.parse(v.verify(rollout("x", [ins])));
    assert.equal(r.error?.code, "bad_reference", JSON.stringify(ins));
    assert.ok(
      r.error?.message.startsWith(`reference.instructions.0.kwargs.${field}: `),
      JSON.stringify(r.error),
    );
  }
  const missing = v.verify({ id: 1, domain: "instruction", response: "x" }) as Reward;
  assert.equal(missing.error?.code, "bad_reference");
  assert.match(String(missing.error?.message), /^reference\.instructions is missing/);
});

test("reasoning before </think> is not judged unless asked", () => {
  const ins = [{ type: "punctuation:no_comma", kwargs: {} }];
  const text = "<think>hmm, let me see, ok</think>\nNo commas here.";
  assert.equal((createInstructionVerifier().verify(rollout(text, ins)) as Reward).score, 1);
  assert.equal(
    (createInstructionVerifier({ stripThinking: false }).verify(rollout(text, ins)) as Reward).score,
    0,
  );
});

test("loose variants are IFEval's: without first/last/both lines, each also without *", () => {
  assert.deepEqual(looseVariants("a*\nb*\nc*"), ["a\nb\nc", "b*\nc*", "a*\nb*", "b*", "b\nc", "a\nb", "b"]);
});

test("the registry serves domain `instruction` with every IFEval id", async () => {
  const v = await new VerifierRegistry().get("instruction");
  assert.equal(v?.source, "rtv:instruction");
  assert.ok(instructionTypes().length >= 25 + 15);
  assert.ok(instructionTypes().includes("combination:repeat_prompt"));
});

test("options are validated", () => {
  assert.throws(() => createInstructionVerifier({ mode: "lenient" } as never));
});

test("IFEval-format rows become tasks whose instructions verify unchanged", () => {
  const row = {
    key: 1000,
    prompt: "Write a 300+ word summary ... Do not use any commas and highlight at least 3 sections.",
    instruction_id_list: ["punctuation:no_comma", "detectable_format:number_highlighted_sections"],
    kwargs: [{}, { num_highlights: 3, relation: null, num_words: null }],
  };
  const task = taskFromIfevalRow(row);
  assert.equal(task.id, 1000);
  const r = createInstructionVerifier().verify({
    ...task,
    response: "*one* and *two* and *three*",
  }) as Reward;
  assert.equal(r.verdict, "correct");
  assert.throws(
    () => taskFromIfevalRow({ ...row, kwargs: [{}] }),
    /kwargs: kwargs and instruction_id_list differ/,
  );
  assert.throws(() => taskFromIfevalRow({ ...row, key: undefined }), /key/);
});

test("adversarial responses are checked in linear time (no regex backtracking blow-up)", () => {
  const n = 200_000;
  const nasty = [
    "[".repeat(n),
    "<<".repeat(n / 2),
    `- ${"- ".repeat(n / 2)}x`,
    `**${"a".repeat(n)}*`,
    "1. ".repeat(n / 3),
    `${"a.".repeat(n / 2)} end`,
    "1.\n".repeat(n / 3), // list markers: endsSentence once rescanned the whole sentence per dot
    `${'"'.repeat(n)}x`, // end_checker's /"+$/ retried at every quote
    `<< ${">".repeat(n)}x>>`, // the title's />+$/ likewise
  ];
  const all = instructionTypes().map((type) => ({ type, kwargs: SAMPLE_KWARGS[type] ?? {} }));
  const v = createInstructionVerifier({ mode: "loose" });
  const t0 = performance.now();
  for (const text of nasty) {
    for (const ins of all)
      assert.notEqual((v.verify(rollout(text, [ins])) as Reward).verdict, "invalid", ins.type);
  }
  // Quadratic behaviour on any of these inputs takes minutes; linear takes well under a second each.
  assert.ok(performance.now() - t0 < 20_000, `took ${performance.now() - t0} ms`);
});
