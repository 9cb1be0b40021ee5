// Further verifiable constraints in the spirit of Ai2's IFBench. Where IFBench has the
// constraint, its id and kwarg names are used so IFBench-format data works; words are
// counted the same way as everywhere else here (see text.ts) rather than by IFBench's
// whitespace split with punctuation stripped. Two constraints IFBench lacks carry the
// `datascale:` prefix.
import { z } from "zod";
import { type Checker, Count, defineChecker, fail, NonEmpty, Positive, pass, verdict } from "./checker.ts";
import { countMatches, countWords, sentences, treebankTokens, wholeWordPattern, words } from "./text.ts";

const none = z.strictObject({});
const lowerWords = (text: string) => words(text).map((w) => w.toLowerCase());

const wordCountRange = defineChecker({
  id: "count:word_count_range",
  kwargs: z.strictObject({ min_words: Count, max_words: Count }).refine((k) => k.min_words <= k.max_words, {
    message: "min_words exceeds max_words",
    path: ["min_words"],
  }),
  compile({ min_words, max_words }) {
    return (text) => {
      const n = countWords(text);
      return verdict(n >= min_words && n <= max_words, `${n} word(s); needs ${min_words}–${max_words}`);
    };
  },
});

const uniqueWordCount = defineChecker({
  id: "count:unique_word_count",
  kwargs: z.strictObject({ N: Count }),
  compile({ N }) {
    return (text) => {
      const n = new Set(lowerWords(text)).size;
      return verdict(n >= N, `${n} unique word(s); needs at least ${N}`);
    };
  },
});

const MULTIPLE_COUNTS = [1, 2, 3, 5, 7] as const;

const keywordsMultiple = defineChecker({
  id: "count:keywords_multiple",
  kwargs: z.strictObject({
    keyword1: NonEmpty,
    keyword2: NonEmpty,
    keyword3: NonEmpty,
    keyword4: NonEmpty,
    keyword5: NonEmpty,
  }),
  compile(k) {
    const wanted = [k.keyword1, k.keyword2, k.keyword3, k.keyword4, k.keyword5].map(
      (w, i) => [w, wholeWordPattern(w), MULTIPLE_COUNTS[i]!] as const,
    );
    return (text) => {
      const wrong = wanted
        .map(([w, re, n]) => [w, countMatches(re, text), n] as const)
        .filter(([, got, n]) => got !== n);
      return wrong.length === 0
        ? pass("each keyword appears exactly 1, 2, 3, 5, 7 times")
        : fail(wrong.map(([w, got, n]) => `"${w}" ${got}× (needs ${n})`).join(", "));
    };
  },
});

const NUMBER = /\p{N}+(?:[.,]\p{N}+)*/gu;

const numbersCount = defineChecker({
  id: "count:numbers",
  kwargs: z.strictObject({ N: Count }),
  compile({ N }) {
    return (text) => {
      const n = countMatches(NUMBER, text);
      return verdict(n === N, `${n} number(s); needs exactly ${N}`);
    };
  },
});

const punctuationCover = defineChecker({
  id: "count:punctuation",
  kwargs: none,
  compile() {
    return (text) => {
      const interrobang = /\?!|!\?|‽/.exec(text);
      if (interrobang === null) return fail("no interrobang (?! or !? or ‽)");
      const rest = text.slice(0, interrobang.index) + text.slice(interrobang.index + interrobang[0].length);
      const missing = [".", ",", "!", "?", ";", ":"].filter((p) => !rest.includes(p));
      return missing.length === 0
        ? pass("uses every punctuation mark")
        : fail(`missing ${missing.join(" ")}`);
    };
  },
});

function isPalindrome(w: string): boolean {
  const chars = [...w];
  for (let i = 0, j = chars.length - 1; i < j; i++, j--) if (chars[i] !== chars[j]) return false;
  return true;
}

const palindrome = defineChecker({
  id: "words:palindrome",
  kwargs: z.strictObject({ N: Positive.optional(), min_length: Positive.optional() }),
  compile({ N = 10, min_length = 5 }) {
    return (text) => {
      const found = lowerWords(text).filter((w) => [...w].length >= min_length && isPalindrome(w));
      return verdict(
        found.length >= N,
        `${found.length} palindrome(s) of ${min_length}+ letters; needs at least ${N}`,
      );
    };
  },
});

const noConsecutive = defineChecker({
  id: "words:no_consecutive",
  kwargs: none,
  compile() {
    return (text) => {
      const ws = lowerWords(text);
      for (let i = 0; i + 1 < ws.length; i++) {
        if ([...ws[i]!][0] === [...ws[i + 1]!][0]) return fail(`"${ws[i]}" and "${ws[i + 1]}" start alike`);
      }
      return pass("no two consecutive words start with the same letter");
    };
  },
});

const repeats = defineChecker({
  id: "words:repeats",
  kwargs: z.strictObject({ small_n: Positive }),
  compile({ small_n }) {
    return (text) => {
      const counts = new Map<string, number>();
      for (const w of lowerWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
      const over = [...counts].filter(([, n]) => n > small_n);
      return over.length === 0
        ? pass(`no word repeated more than ${small_n} time(s)`)
        : fail(`repeated too often: ${over.map(([w, n]) => `"${w}" ${n}×`).join(", ")}`);
    };
  },
});

const lastFirst = defineChecker({
  id: "words:last_first",
  kwargs: none,
  compile() {
    return (text) => {
      const ss = sentences(text).map(lowerWords);
      for (let i = 0; i + 1 < ss.length; i++) {
        const last = ss[i]!.at(-1);
        const first = ss[i + 1]![0];
        if (last === undefined || first === undefined || last !== first) {
          return fail(`sentence ${i + 2} starts with "${first ?? ""}", not "${last ?? ""}"`);
        }
      }
      return pass("each sentence starts with the previous sentence's last word");
    };
  },
});

const paragraphLastFirst = defineChecker({
  id: "words:paragraph_last_first",
  kwargs: none,
  compile() {
    return (text) => {
      const lines = text.split("\n").map(lowerWords);
      for (const [i, ws] of lines.entries()) {
        if (ws.length > 0 && ws[0] !== ws.at(-1))
          return fail(`line ${i + 1} starts "${ws[0]}" but ends "${ws.at(-1)}"`);
      }
      return pass("each paragraph starts and ends with the same word");
    };
  },
});

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

const letterCount = (w: string) => w.match(/[\p{L}\p{M}\p{N}]/gu)?.length ?? 0;

const primeLengths = defineChecker({
  id: "words:prime_lengths",
  kwargs: none,
  compile() {
    return (text) => {
      // A word's length is its letters and digits: the apostrophe of "aren't" and the
      // hyphen of "hy-phens" join a word but are not letters (IFBench drops punctuation).
      const bad = words(text).find((w) => !isPrime(letterCount(w)));
      return bad === undefined
        ? pass("every word has a prime length")
        : fail(`"${bad}" has ${letterCount(bad)} letters`);
    };
  },
});

const alphabet = defineChecker({
  id: "words:alphabet",
  kwargs: none,
  compile() {
    return (text) => {
      const ws = lowerWords(text);
      if (ws.length === 0) return fail("no words");
      let expected = ws[0]!.charCodeAt(0);
      if (expected < 97 || expected > 122)
        return fail(`first word "${ws[0]}" does not start with a letter a–z`);
      for (const w of ws.slice(1)) {
        expected = ((expected - 97 + 1) % 26) + 97;
        if (w.charCodeAt(0) !== expected)
          return fail(`"${w}" should start with "${String.fromCharCode(expected)}"`);
      }
      return pass("words start with consecutive letters of the alphabet");
    };
  },
});

const keywordSpecificPosition = defineChecker({
  id: "words:keywords_specific_position",
  kwargs: z.strictObject({ keyword: NonEmpty, n: Positive, m: Positive }),
  compile({ keyword, n, m }) {
    const want = keyword.trim().toLowerCase();
    return (text) => {
      const s = sentences(text)[n - 1];
      if (s === undefined) return fail(`no sentence ${n}`);
      const w = lowerWords(s)[m - 1];
      return verdict(w === want, `word ${m} of sentence ${n} is "${w ?? ""}"; needs "${want}"`);
    };
  },
});

const wordsPosition = defineChecker({
  id: "words:words_position",
  kwargs: z.strictObject({ keyword: NonEmpty }),
  compile({ keyword }) {
    const want = keyword.trim().toLowerCase();
    return (text) => {
      const ws = lowerWords(text);
      const second = ws[1];
      const secondLast = ws.at(-2);
      return verdict(
        ws.length >= 3 && second === want && secondLast === want,
        `second word "${second ?? ""}", second-to-last "${secondLast ?? ""}"; both must be "${want}"`,
      );
    };
  },
});

const sentenceKeyword = defineChecker({
  id: "sentence:keyword",
  kwargs: z.strictObject({ word: NonEmpty, N: Positive }),
  compile({ word, N }) {
    const re = wholeWordPattern(word);
    return (text) => {
      const s = sentences(text)[N - 1];
      if (s === undefined) return fail(`no sentence ${N}`);
      return verdict(
        countMatches(re, s) > 0,
        `sentence ${N} ${countMatches(re, s) > 0 ? "contains" : "lacks"} "${word}"`,
      );
    };
  },
});

const sentenceIncrement = defineChecker({
  id: "sentence:increment",
  kwargs: z.strictObject({ small_n: Positive }),
  compile({ small_n }) {
    return (text) => {
      const counts = sentences(text).map(countWords);
      for (let i = 1; i < counts.length; i++) {
        if (counts[i] !== counts[i - 1]! + small_n) {
          return fail(`sentence ${i + 1} has ${counts[i]} words; needs ${counts[i - 1]! + small_n}`);
        }
      }
      return verdict(counts.length > 0, `sentence lengths ${counts.join(", ")}`);
    };
  },
});

const titleCase = defineChecker({
  id: "format:title_case",
  kwargs: none,
  compile() {
    return (text) => {
      for (const w of treebankTokens(text)) {
        const first = w[0];
        if (first === undefined || !/\p{L}/u.test(first)) continue;
        if (/\p{Ll}/u.test(first)) return fail(`"${w}" is not capitalised`);
      }
      return pass("every word starts with a capital letter");
    };
  },
});

const noWhitespace = defineChecker({
  id: "format:no_whitespace",
  kwargs: none,
  compile() {
    return (text) => {
      const m = /\s/u.exec(text);
      return m === null ? pass("no whitespace") : fail(`whitespace at offset ${m.index}`);
    };
  },
});

const newlinePerWord = defineChecker({
  id: "format:newline",
  kwargs: none,
  compile() {
    return (text) => {
      const bad = text
        .split("\n")
        .map((l, i) => [i + 1, words(l).length] as const)
        .find(([, n]) => n > 1);
      if (bad !== undefined) return fail(`line ${bad[0]} holds ${bad[1]} words`);
      return verdict(countWords(text) > 0, "each word on its own line");
    };
  },
});

const OPEN = "([{";
const CLOSE = ")]}";

const parentheses = defineChecker({
  id: "format:parentheses",
  kwargs: z.strictObject({ depth: Positive.optional() }),
  compile({ depth = 5 }) {
    return (text) => {
      const stack: string[] = [];
      let best = 0;
      for (const ch of text) {
        const o = OPEN.indexOf(ch);
        if (o >= 0) stack.push(ch);
        const c = CLOSE.indexOf(ch);
        if (c < 0) continue;
        // Depth counts only brackets that close properly; a mismatch starts over.
        if (stack.at(-1) === OPEN[c]) {
          best = Math.max(best, stack.length);
          stack.pop();
        } else stack.length = 0;
      }
      return verdict(best >= depth, `brackets nested ${best} deep; needs at least ${depth}`);
    };
  },
});

const sentenceLength = defineChecker({
  id: "datascale:sentence_length",
  kwargs: z
    .strictObject({ max_words: Positive.optional(), min_words: Positive.optional() })
    .refine((k) => k.max_words !== undefined || k.min_words !== undefined, {
      message: "give max_words, min_words or both",
      path: ["max_words"],
    }),
  compile({ max_words = Number.POSITIVE_INFINITY, min_words = 0 }) {
    return (text) => {
      const ss = sentences(text);
      for (const [i, s] of ss.entries()) {
        const n = countWords(s);
        if (n > max_words || n < min_words)
          return fail(`sentence ${i + 1} has ${n} words; limits ${min_words}–${max_words}`);
      }
      return verdict(ss.length > 0, `${ss.length} sentence(s), all within ${min_words}–${max_words} words`);
    };
  },
});

const orderedKeywords = defineChecker({
  id: "datascale:ordered_keywords",
  kwargs: z.strictObject({ keywords: z.array(NonEmpty).min(2) }),
  compile({ keywords }) {
    const patterns = keywords.map((k) => [k, wholeWordPattern(k)] as const);
    return (text) => {
      let from = 0;
      for (const [k, re] of patterns) {
        re.lastIndex = from;
        const m = re.exec(text);
        if (m === null) return fail(`"${k}" does not appear after the previous keyword`);
        from = m.index + m[0].length;
      }
      return pass(`keywords appear in order: ${keywords.join(" → ")}`);
    };
  },
});

export const IFBENCH_CHECKERS: readonly Checker[] = [
  wordCountRange,
  uniqueWordCount,
  keywordsMultiple,
  numbersCount,
  punctuationCover,
  palindrome,
  noConsecutive,
  repeats,
  lastFirst,
  paragraphLastFirst,
  primeLengths,
  alphabet,
  keywordSpecificPosition,
  wordsPosition,
  sentenceKeyword,
  sentenceIncrement,
  titleCase,
  noWhitespace,
  newlinePerWord,
  parentheses,
  sentenceLength,
  orderedKeywords,
];
