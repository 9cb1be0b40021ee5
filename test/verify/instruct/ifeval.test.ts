import assert from "node:assert/strict";
import { test } from "node:test";
import { IFEVAL_CHECKERS } from "../../../src/verify/instruct/ifeval.ts";
import { type Case, outcome } from "./helpers.ts";

const LOREM =
  "The committee met on Tuesday to discuss the budget for next year. Everyone agreed that spending must fall.";

const CASES: Case[] = [
  {
    type: "keywords:existence",
    kwargs: { keywords: ["budget", "c++"] },
    pass: ["The budget is written in C++ today."],
    fail: ["The budgets are written in C++.", "The budget is written in C.", "cplusplus budget"],
    note: "whole words, escaped (c++ is not a regex)",
  },
  {
    type: "keywords:frequency",
    kwargs: { keyword: "art", frequency: 2, relation: "at least" },
    pass: ["Art is long; art is patient."],
    fail: ["Start the party with art.", "Artists make art."],
    note: "substrings (start, artists) do not count",
  },
  {
    type: "keywords:frequency",
    kwargs: { keyword: "a.b", frequency: 1, relation: "less than" },
    pass: ["axb and a-b are fine", "nothing here"],
    fail: ["see a.b here"],
    note: "the keyword is literal: `.` is not a wildcard",
  },
  {
    type: "keywords:forbidden_words",
    kwargs: { forbidden_words: ["cat", "dog"] },
    pass: ["The concatenated dogma stays.", "Birds only."],
    fail: ["A Cat sat.", "my DOG!"],
  },
  {
    type: "keywords:letter_frequency",
    kwargs: { letter: "A", let_frequency: 3, let_relation: "at least" },
    pass: ["A banana", "aaa"],
    fail: ["aa", "Bbb"],
  },
  {
    type: "keywords:letter_frequency",
    kwargs: { letter: "e", let_frequency: 2, let_relation: "less than" },
    pass: ["one", "xyz"],
    fail: ["eee", "Eve"],
  },
  {
    type: "language:response_language",
    kwargs: { language: "fr" },
    pass: ["Bonjour à tous, je suis très heureux de vous présenter notre nouveau projet aujourd'hui."],
    fail: [LOREM, "12345 67890"],
    note: "text without letters fails (IFEval's LangDetectException → True fixed)",
  },
  {
    type: "language:response_language",
    kwargs: { language: "sw" },
    pass: ["Watu wote wamezaliwa huru, hadhi na haki zao ni sawa. Wote wamejaliwa akili na dhamiri."],
    fail: [LOREM],
    note: "Swahili is answered by franc-min",
  },
  {
    type: "language:response_language",
    kwargs: { language: "hi" },
    pass: ["नमस्ते, मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ। मुझे किताबें पढ़ना बहुत पसंद है।"],
    fail: ["Hola, me llamo María y vivo en Madrid. Me gusta mucho leer libros."],
  },
  {
    type: "length_constraints:number_sentences",
    kwargs: { num_sentences: 3, relation: "less than" },
    pass: ["Mr. Smith met Dr. Jones at 5 p.m. today. They talked about the U.S. economy.", "One. Two."],
    fail: ["One. Two! Three?", "First point.\n\nSecond point.\n\nThird point"],
    note: "abbreviations do not end sentences; a blank line does",
  },
  {
    type: "length_constraints:number_sentences",
    kwargs: { num_sentences: 2, relation: "at least" },
    pass: ['He said "stop." Then he left.', "Done... Really done."],
    fail: ["Just one sentence with e.g. an abbreviation.", "Steps:\n1. open\n2. close"],
  },
  {
    type: "length_constraints:number_paragraphs",
    kwargs: { num_paragraphs: 3 },
    pass: ["Cats.\n***\nDogs.\n***\nBirds.", "***\nCats.\n***\nDogs.\n***\nBirds.\n***"],
    fail: ["Cats.\n***\nDogs.", "Cats.\n***\n***\nBirds.", "Cats.\n\nDogs.\n\nBirds."],
  },
  {
    type: "length_constraints:number_words",
    kwargs: { num_words: 5, relation: "at least" },
    pass: ["one two three four five", "a well-known state-of-the-art model scored 3.14 today"],
    fail: ["a well-known state-of-the-art model", "pi is 3.14159"],
    note: "hyphenated compounds and decimals are one word each",
  },
  {
    type: "length_constraints:number_words",
    kwargs: { num_words: 5, relation: "less than" },
    pass: ["don't stop 1,000,000 times", "four words right here"],
    fail: ["one two three four five", "one two three four five six"],
    note: "less than is strict: exactly 5 words fails",
  },
  {
    type: "length_constraints:nth_paragraph_first_word",
    kwargs: { num_paragraphs: 3, nth_paragraph: 2, first_word: "bananas" },
    pass: [
      "Apples.\n\nBananas, they said.\n\nCherries.",
      '\n\nApples.\n\n"Bananas" are yellow.\n\n\n\nCherries.',
    ],
    fail: [
      "Apples.\n\nCherries.\n\nBananas.",
      "Apples.\n\nBananas.",
      "Apples.\n\nBananas.\n\nCherries.\n\nDates.",
    ],
    note: "leading/extra blank lines do not shift the index (IFEval bug fixed)",
  },
  {
    type: "detectable_content:number_placeholders",
    kwargs: { num_placeholders: 2 },
    pass: ["Dear [name], meet me at [address]."],
    fail: ["Dear [name], meet me there.", "No placeholders."],
  },
  {
    type: "detectable_content:postscript",
    kwargs: { postscript_marker: "P.S." },
    pass: ["Letter body.\n\nP.S. Call me.", "Body.\n  p.s. lowercase works", "Body.\n**P. S.** spaced"],
    fail: [
      "Body.\n\nP.P.S. Only a second postscript.",
      "I wrote p.s. inline in a sentence.",
      "Body.\nPS no dots",
    ],
    note: "P.P.S. does not satisfy P.S.; the marker must open a line",
  },
  {
    type: "detectable_content:postscript",
    kwargs: { postscript_marker: "P.P.S" },
    pass: ["Body.\n\nP.P.S. And another thing.", "Body.\nP. P. S. spaced"],
    fail: ["Body.\n\nP.S. Only the first postscript."],
  },
  {
    type: "detectable_format:number_bullet_lists",
    kwargs: { num_bullets: 2 },
    pass: ["* one\n* two", "- one\n- two", "Intro:\n* one\n- two\n---", "* one\n  * nested"],
    fail: ["* one\n* two\n* three", "- one", "*one\n*two", "**Bold**\n**Bold**", "-5 degrees\n-3 degrees"],
    note: "`*` and `-` bullets both count; rules, bold lines and negative numbers do not",
  },
  {
    type: "detectable_format:constrained_response",
    pass: ["My answer is yes.", "Thinking... My answer is maybe."],
    fail: ["my answer is yes.", "My answer is yes", "Yes."],
  },
  {
    type: "detectable_format:number_highlighted_sections",
    kwargs: { num_highlights: 2 },
    pass: ["*one* and *two*", "**bold** and *italic*"],
    fail: ["*one* only", "* * and ** ** are empty", "*spans\nlines*"],
  },
  {
    type: "detectable_format:multiple_sections",
    kwargs: { section_spliter: "SECTION", num_sections: 2 },
    pass: ["SECTION 1\nIntro\nSECTION 2\nEnd", "SECTION 1 a SECTION 2 b SECTION 3 c"],
    fail: ["Section 1\nIntro\nSection 2\nEnd", "SECTION 1 only", "SECTION A\nSECTION B"],
  },
  {
    type: "detectable_format:json_format",
    pass: ['{"a": 1}', '```json\n{"a": [1, 2]}\n```', '```\n["x"]\n```', '```JSON\n{"b": null}\n```'],
    fail: ['Here it is: {"a": 1}', "{a: 1}", '```json\n{"a": 1}\n```\nHope this helps!'],
  },
  {
    type: "detectable_format:title",
    pass: ["<<My Title>>\nBody", "Intro <<A>> text"],
    fail: ["<<   >>\nBody", "<My Title>", "<<split\ntitle>>"],
  },
  {
    type: "combination:two_responses",
    pass: ["Cats are great.\n******\nDogs are great.", "******\nA\n******\nB\n******"],
    fail: ["Same.\n******\nSame.", "Only one.", "A\n******\n******\nB", "A\n******\nB\n******\nC"],
  },
  {
    type: "combination:repeat_prompt",
    kwargs: { prompt_to_repeat: "Write a haiku about the sea." },
    pass: ["Write a haiku about the sea. Waves fold into foam.", "  WRITE A HAIKU ABOUT THE SEA.\nWaves."],
    fail: ["Sure! Write a haiku about the sea. Waves.", "Write a haiku about the ocean."],
  },
  {
    type: "startend:end_checker",
    kwargs: { end_phrase: "Any other questions?" },
    pass: ["That is all. Any other questions?", 'That is all. any other questions?"  '],
    fail: ["Any other questions? Thanks.", "That is all."],
  },
  {
    type: "startend:quotation",
    pass: ['"Wrapped in quotes."', '  "x"  '],
    fail: ['"', "'single quotes'", '"Opened but not closed'],
  },
  {
    type: "change_case:capital_word_frequency",
    kwargs: { capital_frequency: 3, capital_relation: "at least" },
    pass: ["NASA and the U.S. ARMY", "I SAID DON'T"],
    fail: ["NASA and the Army", "Hello World 2024"],
    note: "contractions split like nltk's tokenizer: DON'T = DO + N'T",
  },
  {
    type: "change_case:capital_word_frequency",
    kwargs: { capital_frequency: 2, capital_relation: "less than" },
    pass: ["Only NASA here.", "nothing at all"],
    fail: ["NASA and ESA", "I AM"],
  },
  {
    type: "change_case:english_capital",
    pass: ["THIS ANSWER IS WRITTEN IN CAPITAL LETTERS, WITH 3 DIGITS LIKE 2024 INCLUDED."],
    fail: [
      "THIS ANSWER IS ALMOST ALL CAPITALS but not quite.",
      "2024 1999",
      "C'EST UNE RÉPONSE ÉCRITE EN FRANÇAIS, MAIS TOUT EN MAJUSCULES.",
    ],
    note: "digits are fine; digits alone are not uppercase text",
  },
  {
    type: "change_case:english_lowercase",
    pass: ["this answer is written in lowercase english with 25 digits like 2024 here."],
    fail: [
      "this answer has One capital letter in it.",
      "42",
      "c'est une réponse écrite entièrement en minuscules et en français.",
    ],
  },
  {
    type: "punctuation:no_comma",
    pass: ["No commas here. None at all!"],
    fail: ["One, two.", "中文，逗号"],
  },
];

test("every IFEval instruction type has pass and fail cases", () => {
  const covered = new Set(CASES.map((c) => c.type));
  const missing = IFEVAL_CHECKERS.map((c) => c.id).filter((id) => !covered.has(id));
  assert.deepEqual(missing, []);
  assert.equal(IFEVAL_CHECKERS.length, 25);
});

for (const c of CASES) {
  test(`${c.type} ${JSON.stringify(c.kwargs ?? {})}${c.note ? ` — ${c.note}` : ""}`, () => {
    for (const r of c.pass) {
      const o = outcome(c.type, c.kwargs ?? {}, r);
      assert.equal(o.ok, true, `should pass: ${JSON.stringify(r)} (${o.why})`);
    }
    for (const r of c.fail) {
      const o = outcome(c.type, c.kwargs ?? {}, r);
      assert.equal(o.ok, false, `should fail: ${JSON.stringify(r)} (${o.why})`);
      assert.ok(o.why.length > 0);
    }
  });
}

test("loose mode tries IFEval's trimmed variants and names the one that passed", () => {
  const fenced = 'Here is the JSON:\n```json\n{"a": 1}\n```';
  assert.equal(outcome("detectable_format:json_format", {}, fenced, "strict").ok, false);
  const l = outcome("detectable_format:json_format", {}, fenced, "loose");
  assert.equal(l.ok, true);
  assert.equal(l.variant, "remove_first_line");

  const starred = "*Answer:* this is all lowercase";
  assert.equal(
    outcome("startend:end_checker", { end_phrase: "lowercase" }, starred, "loose").variant,
    undefined,
  );
  const quoted = 'Sure!\n"The answer."\nHope that helps.';
  assert.equal(outcome("startend:quotation", {}, quoted, "strict").ok, false);
  assert.equal(outcome("startend:quotation", {}, quoted, "loose").variant, "remove_first_and_last_line");
  const bold = '**"Quoted answer"**';
  assert.equal(outcome("startend:quotation", {}, bold, "loose").variant, "remove_stars");
  // Loose mode never rescues a response whose every variant fails.
  assert.equal(outcome("punctuation:no_comma", {}, "a,\nb,\nc,", "loose").ok, false);
});
