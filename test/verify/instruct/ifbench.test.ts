import assert from "node:assert/strict";
import { test } from "node:test";
import { IFBENCH_CHECKERS } from "../../../src/verify/instruct/ifbench.ts";
import { type Case, outcome } from "./helpers.ts";

const PALINDROMES = "level radar civic kayak rotor refer madam racecar stats tenet";

const CASES: Case[] = [
  {
    type: "count:word_count_range",
    kwargs: { min_words: 3, max_words: 5 },
    pass: ["one two three", "a well-known fact is known"],
    fail: ["one two", "one two three four five six"],
  },
  {
    type: "count:unique_word_count",
    kwargs: { N: 4 },
    pass: ["red green blue yellow", "Red red green blue yellow"],
    fail: ["red Red RED green blue", "one"],
  },
  {
    type: "count:keywords_multiple",
    kwargs: { keyword1: "a1", keyword2: "b2", keyword3: "c3", keyword4: "d4", keyword5: "e5" },
    pass: ["a1 b2 b2 c3 c3 c3 d4 d4 d4 d4 d4 e5 e5 e5 e5 e5 e5 e5"],
    fail: ["a1 b2 c3 d4 e5", "a1 a1 b2 b2 c3 c3 c3 d4 d4 d4 d4 d4 e5 e5 e5 e5 e5 e5 e5"],
  },
  {
    type: "count:numbers",
    kwargs: { N: 3 },
    pass: ["I have 3 cats, 12 dogs and 1,000.5 fish."],
    fail: ["I have 3 cats and 12 dogs.", "1 2 3 4"],
  },
  {
    type: "count:punctuation",
    pass: ["Wait?! Really. Yes, it is; look: done!?"],
    fail: ["Wait! Really? Yes, it is; look: done.", "What?! No."],
  },
  {
    type: "words:palindrome",
    pass: [`Words: ${PALINDROMES}.`],
    fail: ["level radar civic", "Abcde fghij"],
  },
  {
    type: "words:no_consecutive",
    pass: ["The cat ran home quickly.", "Big red apples taste good"],
    fail: ["The cat caught mice.", "Tom took it"],
  },
  {
    type: "words:repeats",
    kwargs: { small_n: 1 },
    pass: ["Every word here is different.", "a b c d"],
    fail: ["The cat saw the dog.", "No no"],
    note: "small_n = 1 means no repeated words",
  },
  {
    type: "words:last_first",
    pass: ["I love apples. Apples are sweet. Sweet things make me happy."],
    fail: ["I love apples. Bananas are sweet.", "Go home. Home! Home sweet home. Away."],
  },
  {
    type: "words:paragraph_last_first",
    pass: ["Time waits for no one, not even time.\n\nLove is patient, love."],
    fail: ["Time waits for no one.\nLove is patient, love."],
  },
  {
    type: "words:prime_lengths",
    pass: ["It was the end.", "Be off."],
    fail: ["This was the end.", "Four score"],
  },
  {
    type: "words:alphabet",
    pass: ["All big cats dance, even fat giraffes.", "Yes, zebras are big."],
    fail: ["All big dogs.", "123 abc"],
  },
  {
    type: "words:keywords_specific_position",
    kwargs: { keyword: "apple", n: 2, m: 3 },
    pass: ["I eat. The red apple is sweet."],
    fail: ["The red apple is sweet. I eat.", "I eat. The apple."],
  },
  {
    type: "words:words_position",
    kwargs: { keyword: "really" },
    pass: ["I really think it is really good."],
    fail: ["I really think it is good.", "Really really"],
  },
  {
    type: "sentence:keyword",
    kwargs: { word: "ocean", N: 2 },
    pass: ["I went out. The ocean was calm. Nice."],
    fail: ["The ocean was calm. I went out.", "Only the ocean."],
  },
  {
    type: "sentence:increment",
    kwargs: { small_n: 1 },
    pass: ["I ran. She ran fast. We all ran fast."],
    fail: ["I ran. She ran. We all ran fast.", "One two. One two three four."],
  },
  {
    type: "format:title_case",
    pass: ["The Quick Brown Fox Jumps", "NASA Launches A Rocket"],
    fail: ["The quick Brown Fox", "the Quick Brown Fox"],
  },
  {
    type: "format:no_whitespace",
    pass: ["no-whitespace-at-all", "単語"],
    fail: ["two words", "tab\there", "line\nbreak"],
  },
  {
    type: "format:newline",
    pass: ["One\nword\nper\nline.", "Hello!\n\nWorld"],
    fail: ["Two words\nper line", "Single line with words"],
  },
  {
    type: "format:parentheses",
    pass: ["(a [b {c (d [e])}])", "start ((((( deep ))))) end"],
    fail: ["(a [b {c (d)}])", "(((((unclosed"],
  },
  {
    type: "datascale:sentence_length",
    kwargs: { max_words: 5 },
    pass: ["Short one. Also short here. Tiny."],
    fail: ["Short one. This sentence is clearly longer than five words."],
  },
  {
    type: "datascale:sentence_length",
    kwargs: { min_words: 3, max_words: 6 },
    pass: ["Three words here. Now four words here."],
    fail: ["Too short. Three words here."],
  },
  {
    type: "datascale:ordered_keywords",
    kwargs: { keywords: ["first", "second", "third"] },
    pass: ["First we plan, second we build, third we ship."],
    fail: ["Second we plan, first we build, third we ship.", "first and second only"],
  },
];

test("at least 15 further constraints, each with pass and fail cases", () => {
  assert.ok(IFBENCH_CHECKERS.length >= 15);
  const covered = new Set(CASES.map((c) => c.type));
  assert.deepEqual(
    IFBENCH_CHECKERS.map((c) => c.id).filter((id) => !covered.has(id)),
    [],
  );
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
    }
  });
}
