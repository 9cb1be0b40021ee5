import assert from "node:assert/strict";
import { test } from "node:test";
import { detectLanguage } from "../../../src/verify/instruct/language.ts";
import {
  countWords,
  isLowerPy,
  isUpperPy,
  sentences,
  treebankTokens,
  wholeWordPattern,
  words,
} from "../../../src/verify/instruct/text.ts";

test("words: hyphenated compounds, contractions and numbers are single words", () => {
  assert.deepEqual(words("A well-known model, don't you think? It cost $1,000.50 in 2024."), [
    "A",
    "well-known",
    "model",
    "don't",
    "you",
    "think",
    "It",
    "cost",
    "1,000.50",
    "in",
    "2024",
  ]);
  assert.equal(countWords("end.Start"), 2);
  assert.equal(countWords("हिन्दी भाषा"), 2, "combining marks stay inside a word");
  assert.equal(countWords("snake_case and CamelCase"), 3);
  assert.equal(countWords("— -- ..."), 0);
});

test("sentences: abbreviations, initials, decimals, quotes, lists and blank lines", () => {
  assert.deepEqual(sentences("Mr. J. Smith paid 3.50 dollars. He left! Did he? Yes."), [
    "Mr. J. Smith paid 3.50 dollars.",
    "He left!",
    "Did he?",
    "Yes.",
  ]);
  assert.deepEqual(sentences('She said "go." Then she went.'), ['She said "go."', "Then she went."]);
  assert.deepEqual(sentences("Steps:\n1. Open it\n2. Close it"), ["Steps:\n1. Open it\n2. Close it"]);
  assert.deepEqual(sentences("Heading\n\nBody text."), ["Heading", "Body text."]);
  assert.deepEqual(sentences("这是中文。这是第二句！"), ["这是中文。", "这是第二句！"]);
  assert.deepEqual(sentences(""), []);
});

test("Python-compatible case tests", () => {
  assert.equal(isUpperPy("HELLO 123"), true);
  assert.equal(isUpperPy("123"), false);
  assert.equal(isUpperPy("HELLo"), false);
  assert.equal(isLowerPy("hello 123"), true);
  assert.equal(isLowerPy("ß straße"), true);
  assert.equal(isLowerPy("!!"), false);
});

test("treebank-style tokens split contractions and outer punctuation", () => {
  assert.deepEqual(treebankTokens("DON'T (stop)!"), ["DO", "N'T", "(", "stop", ")", "!"]);
  assert.deepEqual(treebankTokens("Q&A |V| K+"), ["Q", "&", "A", "|V|", "K+"]);
});

test("whole-word patterns escape regex syntax and respect Unicode letters", () => {
  assert.equal(wholeWordPattern("c++").test("I write C++ daily"), true);
  assert.equal(wholeWordPattern("a.b").test("axb"), false);
  assert.equal(wholeWordPattern("café").test("cafés"), false);
  assert.equal(wholeWordPattern("new york").test("in New   York today"), true);
});

test("language detection is deterministic and answers with ISO 639-1 codes", () => {
  const fr = "Le chat dort sur le canapé pendant que les enfants jouent dans le jardin.";
  const first = detectLanguage(fr, "fr");
  for (let i = 0; i < 20; i++) assert.deepEqual(detectLanguage(fr, "fr"), first);
  assert.equal(first.language, "fr");
  assert.equal(
    detectLanguage("Mtoto anacheza mpira uwanjani pamoja na marafiki zake wote.", "sw").language,
    "sw",
  );
  assert.equal(detectLanguage("1234 !!", "en").detector, "none");
});

test("a long text is in the target language only if its start, middle and end all are", () => {
  const en = "The committee met on Tuesday to discuss the budget for next year and agreed to cut spending. ";
  const fr = "Le comité s'est réuni mardi pour discuter du budget de l'année prochaine et des dépenses. ";
  assert.equal(detectLanguage(en.repeat(40), "en").language, "en");
  assert.notEqual(detectLanguage(en.repeat(30) + fr.repeat(10), "en").language, "en");
  assert.notEqual(detectLanguage(fr.repeat(10) + en.repeat(30), "en").language, "en");
  assert.equal(detectLanguage(fr.repeat(10) + en.repeat(30), "fr").language, "en");
});
