// `reference.compat: "ifeval"`: the reference implementation's behaviour, quirk for quirk.
// Expected verdicts are those of google-research's instruction_following_eval run by hand
// (docs/instruct-verifier.md); Punkt runs on a small hand-made parameter set under
// fixtures/nltk_data whose expected splits were produced by nltk 3.10.3's own
// PunktTokenizer and NLTKWordTokenizer with the same parameters (punkt-expected.json).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Reward, Rollout } from "../../../src/core/schemas.ts";
import {
  englishPunkt,
  findPunktDir,
  loadPunktParams,
  Punkt,
} from "../../../src/verify/instruct/compat/punkt.ts";
import { pyRegex, pySplit, pyStrip } from "../../../src/verify/instruct/compat/py.ts";
import { nltkWordTokens, wordTokenize } from "../../../src/verify/instruct/compat/treebank.ts";
import { createInstructionVerifier } from "../../../src/verify/instruct/verifier.ts";

const FIXTURES = join(import.meta.dirname, "fixtures");
process.env["NLTK_DATA"] = join(FIXTURES, "nltk_data");

const strict = createInstructionVerifier({ mode: "strict" });
const loose = createInstructionVerifier({ mode: "loose" });

function compat(type: string, kwargs: Record<string, unknown>, response: string, mode = "strict"): Reward {
  return (mode === "strict" ? strict : loose).verify({
    id: "c",
    domain: "instruction",
    response,
    reference: { compat: "ifeval", instructions: [{ type, kwargs }] },
  }) as Reward;
}

const ok = (type: string, kwargs: Record<string, unknown>, response: string, mode = "strict") => {
  const r = compat(type, kwargs, response, mode);
  assert.ok(r.verdict === "correct" || r.verdict === "incorrect", `${type}: ${JSON.stringify(r)}`);
  return r.verdict === "correct";
};

const ours = (type: string, kwargs: Record<string, unknown>, response: string) =>
  (
    strict.verify({
      id: "o",
      domain: "instruction",
      response,
      reference: { instructions: [{ type, kwargs }] },
    }) as Reward
  ).verdict === "correct";

test("Punkt and word_tokenize reproduce nltk on a hand-made parameter set", () => {
  const dir = findPunktDir("english", { NLTK_DATA: join(FIXTURES, "nltk_data"), HOME: "/nonexistent" });
  assert.ok(dir !== undefined);
  const punkt = new Punkt(loadPunktParams(dir));
  const cases = JSON.parse(readFileSync(join(FIXTURES, "punkt-expected.json"), "utf8")) as Array<{
    text: string;
    sentences: string[];
    words: string[];
  }>;
  for (const c of cases) {
    assert.deepEqual(punkt.sentences(c.text), c.sentences, c.text);
    assert.deepEqual(wordTokenize(c.text, punkt), c.words, c.text);
  }
});

test("NLTKWordTokenizer rules: contractions, quotes, final period, brackets", () => {
  assert.deepEqual(nltkWordTokens('He said, "DON\'T go." THEN (LEFT)!'), [
    "He",
    "said",
    ",",
    "``",
    "DO",
    "N'T",
    "go.",
    "''",
    "THEN",
    "(",
    "LEFT",
    ")",
    "!",
  ]);
  assert.deepEqual(nltkWordTokens("I cannot; gonna 'tis $5."), [
    "I",
    "can",
    "not",
    ";",
    "gon",
    "na",
    "'",
    "tis",
    "$",
    "5",
    ".",
  ]);
});

test("Python whitespace, split and regex translation", () => {
  assert.equal(pyStrip("\x1c a \x85"), "a");
  assert.equal(pyStrip("\ufeffa"), "\ufeffa"); // not whitespace to Python
  assert.deepEqual(pySplit(" a\x1fb  c "), ["a", "b", "c"]);
  assert.ok(pyRegex("\\bcafé\\b", { ignoreCase: true }).test("Un CAFÉ noir")); // Unicode \b
  assert.ok(!pyRegex("\\bcaf\\b").test("café"));
  assert.ok(pyRegex("a.c").test("a\rc")); // Python's `.` excludes only \n
  assert.ok(pyRegex("x$").test("x\n")); // `$` before a final newline
  assert.throws(() => pyRegex("(?i)x"));
});

test("compat keywords are case-insensitive Python regexes matched anywhere", () => {
  assert.equal(ok("keywords:existence", { keywords: ["art"] }, "Let us start."), true);
  assert.equal(ours("keywords:existence", { keywords: ["art"] }, "Let us start."), false);
  assert.equal(ok("keywords:existence", { keywords: ["colou?r"] }, "What COLOR?"), true);
  assert.equal(
    ok("keywords:frequency", { keyword: " the ", frequency: 3, relation: "at least" }, "The theme: then."),
    true,
  );
  assert.equal(ok("keywords:forbidden_words", { forbidden_words: ["art"] }, "Let us start."), true);
  assert.equal(ok("keywords:forbidden_words", { forbidden_words: ["art"] }, "Art!"), false);
  const bad = compat("keywords:existence", { keywords: ["c++"] }, "c++");
  assert.equal(bad.verdict, "error");
  assert.equal(bad.error?.code, "bad_reference");
  assert.match(String(bad.error?.message), /^reference\.instructions\.0\.kwargs\.keywords\.0: /);
});

test("compat postscript: P.S. is found inside P.P.S. and anywhere in a line", () => {
  assert.equal(ok("detectable_content:postscript", { postscript_marker: "P.S." }, "Hi.\nP.P.S. bye"), true);
  assert.equal(
    ours("detectable_content:postscript", { postscript_marker: "P.S." }, "Hi.\nP.P.S. bye"),
    false,
  );
  assert.equal(ok("detectable_content:postscript", { postscript_marker: "P.S." }, "Hi. (p. s. bye)"), true);
  assert.equal(ok("detectable_content:postscript", { postscript_marker: "P.P.S" }, "Hi.\nP.P.S. bye"), true);
  assert.equal(ok("detectable_content:postscript", { postscript_marker: "P.S." }, "see p.s. below"), true);
  assert.equal(ours("detectable_content:postscript", { postscript_marker: "P.S." }, "see p.s. below"), false);
});

test("compat word, paragraph and bullet counts follow the reference", () => {
  assert.equal(
    ok("length_constraints:number_words", { num_words: 4, relation: "at least" }, "well-known 3.14"),
    true,
  );
  assert.equal(ok("length_constraints:number_paragraphs", { num_paragraphs: 2 }, "a\n***\nb"), true);
  assert.equal(ok("length_constraints:number_paragraphs", { num_paragraphs: 2 }, "a *** *** b"), false);
  // `---` rules and "-5 degrees" are bullets; "*" followed by a newline joins the next line.
  assert.equal(ok("detectable_format:number_bullet_lists", { num_bullets: 2 }, "---\n-5 degrees"), true);
  assert.equal(ok("detectable_format:number_bullet_lists", { num_bullets: 1 }, "*\nfoo"), true);
  assert.equal(ok("detectable_format:number_bullet_lists", { num_bullets: 1 }, "**bold**\n* a"), true);
  assert.equal(ok("detectable_format:number_bullet_lists", { num_bullets: 0 }, "text"), true);
  // The reference indexes the unfiltered "\n\n" split: a leading blank paragraph shifts it.
  const nth = { num_paragraphs: 2, nth_paragraph: 2, first_word: "second" };
  assert.equal(ok("length_constraints:nth_paragraph_first_word", nth, "\n\nfirst\n\nsecond"), false);
  assert.equal(ok("length_constraints:nth_paragraph_first_word", nth, "first\n\n'Second, yes"), true);
  assert.equal(
    compat("length_constraints:nth_paragraph_first_word", { ...nth, nth_paragraph: 3 }, "x").error?.code,
    "bad_reference",
  );
});

test("compat sentences, capital words, JSON, commas, letters, language", () => {
  assert.equal(
    ok(
      "length_constraints:number_sentences",
      { num_sentences: 2, relation: "less than" },
      "Mr. Smith met Dr. Jones.",
    ),
    true,
  );
  assert.equal(
    ok(
      "change_case:capital_word_frequency",
      { capital_frequency: 3, capital_relation: "at least" },
      'SAY "DON\'T." NOW',
    ),
    true,
  );
  assert.equal(ok("detectable_format:json_format", {}, '```json\n{"a": NaN}\n```'), true);
  assert.equal(ok("detectable_format:json_format", {}, '{"NaN": "Infinity"} x'), false);
  assert.equal(ok("punctuation:no_comma", {}, "a，b"), true);
  assert.equal(
    ok("keywords:letter_frequency", { letter: "#", let_frequency: 2, let_relation: "at least" }, "# and #"),
    true,
  );
  assert.equal(ok("language:response_language", { language: "fr" }, "12345 !!!"), true); // no features: followed
  assert.equal(ok("change_case:english_lowercase", {}, "12345"), false); // "12345".islower() is False
  assert.equal(ok("startend:end_checker", { end_phrase: "The end." }, '"Story. THE END."'), true);
  assert.equal(ok("detectable_format:title", {}, "<<  >> and <<x>>"), true);
});

test("compat loose mode strips variants with Python's whitespace", () => {
  assert.equal(ok("startend:quotation", {}, 'Here:\n"quoted"\x1c', "loose"), true);
  assert.equal(ok("punctuation:no_comma", {}, "Sure, here:\nno commas here", "loose"), true);
});

test("compat without nltk's Punkt data is an error verdict, never a silent 0", () => {
  const empty = mkdtempSync(join(tmpdir(), "no-nltk-"));
  const saved = { NLTK_DATA: process.env["NLTK_DATA"], HOME: process.env["HOME"] };
  process.env["NLTK_DATA"] = empty;
  process.env["HOME"] = empty;
  try {
    if (findPunktDir() !== undefined) return; // a system-wide nltk_data exists: nothing to test here
    const r = compat(
      "length_constraints:number_sentences",
      { num_sentences: 1, relation: "at least" },
      "One.",
    );
    assert.equal(r.verdict, "error");
    assert.equal(r.error?.code, "resource_missing");
    assert.match(r.error?.message ?? "", /punkt_tab\/english/);
    assert.throws(() => englishPunkt());
  } finally {
    process.env["NLTK_DATA"] = saved.NLTK_DATA;
    process.env["HOME"] = saved.HOME;
  }
});

test("an unknown compat mode is a data error naming the field", () => {
  const rollout: Record<string, unknown> = {
    id: 1,
    domain: "instruction",
    response: "x",
    reference: { compat: "lm-eval", instructions: [{ type: "punctuation:no_comma", kwargs: {} }] },
  };
  const r = strict.verify(rollout as unknown as Rollout) as Reward;
  assert.equal(r.verdict, "error");
  assert.equal(r.error?.code, "bad_reference");
  assert.match(String(r.error?.message), /^reference\.compat must be one of/);
});
