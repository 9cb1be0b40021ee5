// The 25 instruction checkers of Google's IFEval, under their exact ids and kwarg names.
// Semantics follow the reference implementation except where it has a documented defect;
// each such place says FIX and docs/instruct-verifier.md lists them.
import { z } from "zod";
import {
  type Checker,
  Count,
  compared,
  defineChecker,
  fail,
  NonEmpty,
  Positive,
  pass,
  Relation,
  verdict,
} from "./checker.ts";
import { detectLanguage, isSupportedLanguage } from "./language.ts";
import {
  blankLineParagraphs,
  countMatches,
  countSentences,
  countWords,
  escapeRegExp,
  isLowerPy,
  isUpperPy,
  stripRuns,
  treebankTokens,
  wholeWordPattern,
} from "./text.ts";

const none = z.strictObject({});

const keywordsExistence = defineChecker({
  id: "keywords:existence",
  kwargs: z.strictObject({ keywords: z.array(NonEmpty).min(1) }),
  compile({ keywords }) {
    // FIX: IFEval passes the keyword to re.search unescaped and matches inside longer words.
    const patterns = keywords.map((k) => [k, wholeWordPattern(k)] as const);
    return (text) => {
      const missing = patterns.filter(([, re]) => countMatches(re, text) === 0).map(([k]) => k);
      return missing.length === 0
        ? pass(`all ${keywords.length} keywords present`)
        : fail(`missing keyword(s): ${missing.join(", ")}`);
    };
  },
});

const keywordsFrequency = defineChecker({
  id: "keywords:frequency",
  kwargs: z.strictObject({ keyword: NonEmpty, frequency: Count, relation: Relation }),
  compile({ keyword, frequency, relation }) {
    const re = wholeWordPattern(keyword); // FIX: escaped, whole words (IFEval: raw regex, substrings)
    return (text) => compared(`occurrence(s) of "${keyword}"`, countMatches(re, text), relation, frequency);
  },
});

const forbiddenWords = defineChecker({
  id: "keywords:forbidden_words",
  kwargs: z.strictObject({ forbidden_words: z.array(NonEmpty).min(1) }),
  compile({ forbidden_words }) {
    const patterns = [...new Set(forbidden_words)].map((w) => [w, wholeWordPattern(w)] as const);
    return (text) => {
      const used = patterns.filter(([, re]) => countMatches(re, text) > 0).map(([w]) => w);
      return used.length === 0
        ? pass("no forbidden word used")
        : fail(`used forbidden word(s): ${used.join(", ")}`);
    };
  },
});

const letterFrequency = defineChecker({
  id: "keywords:letter_frequency",
  // FIX: IFEval replaces a non a–z letter with a random one; here it is rejected.
  kwargs: z.strictObject({
    letter: z.string().regex(/^[A-Za-z]$/, "must be one letter a-z"),
    let_frequency: Count,
    let_relation: Relation,
  }),
  compile({ letter, let_frequency, let_relation }) {
    const l = letter.toLowerCase();
    return (text) => {
      let n = 0;
      for (const ch of text.toLowerCase()) if (ch === l) n++;
      return compared(`occurrence(s) of letter "${l}"`, n, let_relation, let_frequency);
    };
  },
});

const responseLanguage = defineChecker({
  id: "language:response_language",
  kwargs: z.strictObject({
    language: z.string().refine(isSupportedLanguage, "unsupported language code (ISO 639-1 expected)"),
  }),
  compile({ language }) {
    return (text) => {
      const g = detectLanguage(text, language);
      // FIX: IFEval counts text langdetect cannot judge (no letters) as following the instruction.
      if (g.detector === "none") return fail("no letters to identify a language by");
      return verdict(
        g.language === language,
        `detected "${g.language}" (${g.detector}); needs "${language}"`,
      );
    };
  },
});

const numberSentences = defineChecker({
  id: "length_constraints:number_sentences",
  kwargs: z.strictObject({ num_sentences: Count, relation: Relation }),
  compile({ num_sentences, relation }) {
    return (text) => compared("sentence(s)", countSentences(text), relation, num_sentences);
  },
});

const numberParagraphs = defineChecker({
  id: "length_constraints:number_paragraphs",
  kwargs: z.strictObject({ num_paragraphs: Count }),
  compile({ num_paragraphs }) {
    return (text) => {
      const parts = text.split(/\s?\*\*\*\s?/);
      let n = parts.length;
      for (let i = 0; i < parts.length; i++) {
        if (parts[i]!.trim() !== "") continue;
        if (i === 0 || i === parts.length - 1) n--;
        else return fail(`empty paragraph ${i + 1} between *** dividers`);
      }
      return verdict(
        n === num_paragraphs,
        `${n} paragraph(s) separated by ***; needs exactly ${num_paragraphs}`,
      );
    };
  },
});

const numberWords = defineChecker({
  id: "length_constraints:number_words",
  kwargs: z.strictObject({ num_words: Count, relation: Relation }),
  compile({ num_words, relation }) {
    return (text) => compared("word(s)", countWords(text), relation, num_words);
  },
});

const PARAGRAPH_WORD_STOP = new Set([".", ",", "?", "!", "'", '"']);

const nthParagraphFirstWord = defineChecker({
  id: "length_constraints:nth_paragraph_first_word",
  kwargs: z.strictObject({ num_paragraphs: Positive, nth_paragraph: Positive, first_word: NonEmpty }),
  compile({ num_paragraphs, nth_paragraph, first_word }) {
    const want = first_word.trim().toLowerCase();
    return (text) => {
      // FIX: IFEval counts the non-empty paragraphs but indexes the unfiltered split.
      const paragraphs = blankLineParagraphs(text);
      if (paragraphs.length !== num_paragraphs) {
        return fail(
          `${paragraphs.length} paragraph(s) separated by blank lines; needs exactly ${num_paragraphs}`,
        );
      }
      const para = paragraphs[nth_paragraph - 1];
      if (para === undefined) return fail(`no paragraph ${nth_paragraph}`);
      const token = (para.split(/\s+/)[0] ?? "").replace(/^['"]+/, "");
      let word = "";
      for (const ch of token) {
        if (PARAGRAPH_WORD_STOP.has(ch)) break;
        word += ch.toLowerCase();
      }
      return verdict(word === want, `paragraph ${nth_paragraph} starts with "${word}"; needs "${want}"`);
    };
  },
});

/** How many `[...]` spans IFEval's `\[.*?\]` finds, counted in linear time (the regex is quadratic on "[[[[…"). */
function countPlaceholders(text: string): number {
  let n = 0;
  for (const line of text.split("\n")) {
    let pos = 0;
    for (;;) {
      const open = line.indexOf("[", pos);
      if (open < 0) break;
      const close = line.indexOf("]", open + 1);
      if (close < 0) break;
      n++;
      pos = close + 1;
    }
  }
  return n;
}

const placeholders = defineChecker({
  id: "detectable_content:number_placeholders",
  kwargs: z.strictObject({ num_placeholders: Count }),
  compile({ num_placeholders }) {
    return (text) => compared("[placeholder](s)", countPlaceholders(text), "at least", num_placeholders);
  },
});

const postscript = defineChecker({
  id: "detectable_content:postscript",
  kwargs: z.strictObject({ postscript_marker: NonEmpty }),
  compile({ postscript_marker }) {
    const marker = postscript_marker.trim();
    // FIX: IFEval searches anywhere in a line, so "P.P.S." satisfies "P.S."; the marker must open a line.
    const lead = "^[ \\t>*_#]*";
    const body =
      marker === "P.P.S"
        ? "p\\.[ \\t]?p\\.[ \\t]?s"
        : marker === "P.S."
          ? "p\\.[ \\t]?s\\."
          : escapeRegExp(marker.toLowerCase());
    const re = new RegExp(lead + body, "m");
    return (text) =>
      re.test(text.toLowerCase())
        ? pass(`a line starts with ${marker}`)
        : fail(`no line starts with the postscript marker ${marker}`);
  },
});

/** A markdown rule: three or more of the same `*` or `-`, nothing else but blanks. */
function isHorizontalRule(line: string): boolean {
  const marks = line.replace(/[ \t]/g, "");
  return marks.length >= 3 && (/^\**$/.test(marks) || /^-*$/.test(marks));
}
const BULLET = /^[ \t]*[*-][ \t]+\S/;

const bulletLists = defineChecker({
  id: "detectable_format:number_bullet_lists",
  kwargs: z.strictObject({ num_bullets: Count }),
  compile({ num_bullets }) {
    return (text) => {
      // FIX: IFEval also counts "---" rules and lines like "-5 degrees"; a bullet is `*` or `-` plus a space.
      let n = 0;
      for (const line of text.split("\n")) if (BULLET.test(line) && !isHorizontalRule(line)) n++;
      return verdict(n === num_bullets, `${n} bullet point(s); needs exactly ${num_bullets}`);
    };
  },
});

const CONSTRAINED_OPTIONS = ["My answer is yes.", "My answer is no.", "My answer is maybe."];

const constrainedResponse = defineChecker({
  id: "detectable_format:constrained_response",
  kwargs: none,
  compile() {
    return (text) => {
      const t = text.trim();
      const hit = CONSTRAINED_OPTIONS.find((o) => t.includes(o));
      return hit !== undefined
        ? pass(`contains "${hit}"`)
        : fail(`contains none of ${CONSTRAINED_OPTIONS.join(" / ")}`);
    };
  },
});

const highlightedSections = defineChecker({
  id: "detectable_format:number_highlighted_sections",
  kwargs: z.strictObject({ num_highlights: Count }),
  compile({ num_highlights }) {
    return (text) => {
      let n = 0;
      for (const m of text.matchAll(/\*[^\n*]*\*/g)) if (m[0].replace(/^\*+|\*+$/g, "").trim() !== "") n++;
      for (const m of text.matchAll(/\*\*[^\n*]*\*\*/g)) if (m[0].slice(2, -2).trim() !== "") n++;
      return compared("highlighted section(s)", n, "at least", num_highlights);
    };
  },
});

const multipleSections = defineChecker({
  id: "detectable_format:multiple_sections",
  kwargs: z.strictObject({ section_spliter: NonEmpty, num_sections: Count }),
  compile({ section_spliter, num_sections }) {
    const spliter = section_spliter.trim();
    const re = new RegExp(`\\s?${escapeRegExp(spliter)}\\s?\\d+\\s?`, "g");
    return (text) =>
      compared(`"${spliter} N" section(s)`, text.split(re).length - 1, "at least", num_sections);
  },
});

const jsonFormat = defineChecker({
  id: "detectable_format:json_format",
  kwargs: none,
  compile() {
    return (text) => {
      let t = text.trim();
      for (const p of ["```json", "```Json", "```JSON", "```"]) {
        if (t.startsWith(p)) {
          t = t.slice(p.length);
          break;
        }
      }
      if (t.endsWith("```")) t = t.slice(0, -3);
      try {
        JSON.parse(t.trim());
        return pass("the response is valid JSON");
      } catch (e) {
        return fail(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
  },
});

const title = defineChecker({
  id: "detectable_format:title",
  kwargs: none,
  compile() {
    return (text) => {
      // IFEval's greedy `<<[^\n]+>>`, evaluated per line in linear time: from the first
      // `<<` to the last `>>` of the line.
      for (const line of text.split("\n")) {
        const open = line.indexOf("<<");
        const close = line.lastIndexOf(">>");
        if (open < 0 || close < open + 3) continue;
        const span = line.slice(open, close + 2);
        if (stripRuns(stripRuns(span, "<", "start"), ">", "end").trim() !== "") return pass(`title ${span}`);
      }
      return fail("no <<title>> found");
    };
  },
});

const twoResponses = defineChecker({
  id: "combination:two_responses",
  kwargs: none,
  compile() {
    return (text) => {
      const parts = text.split("******");
      const valid: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p.trim() === "") {
          if (i !== 0 && i !== parts.length - 1) return fail("an empty response between ****** separators");
        } else valid.push(p.trim());
      }
      if (valid.length !== 2) return fail(`${valid.length} response(s) separated by ******; needs exactly 2`);
      return verdict(
        valid[0] !== valid[1],
        valid[0] !== valid[1] ? "two different responses" : "the two responses are identical",
      );
    };
  },
});

const repeatPrompt = defineChecker({
  id: "combination:repeat_prompt",
  kwargs: z.strictObject({ prompt_to_repeat: NonEmpty }),
  compile({ prompt_to_repeat }) {
    const want = prompt_to_repeat.trim().toLowerCase();
    return (text) =>
      text.trim().toLowerCase().startsWith(want)
        ? pass("starts with the repeated request")
        : fail("does not start with the request repeated word for word");
  },
});

const endChecker = defineChecker({
  id: "startend:end_checker",
  kwargs: z.strictObject({ end_phrase: NonEmpty }),
  compile({ end_phrase }) {
    const want = end_phrase.trim().toLowerCase();
    return (text) => {
      const t = stripRuns(text.trim(), '"').toLowerCase();
      return t.endsWith(want)
        ? pass(`ends with "${end_phrase.trim()}"`)
        : fail(`does not end with "${end_phrase.trim()}"`);
    };
  },
});

const quotation = defineChecker({
  id: "startend:quotation",
  kwargs: none,
  compile() {
    return (text) => {
      const t = text.trim();
      const ok = t.length > 1 && t.startsWith('"') && t.endsWith('"');
      return verdict(ok, ok ? "wrapped in double quotes" : "not wrapped in double quotation marks");
    };
  },
});

const capitalWordFrequency = defineChecker({
  id: "change_case:capital_word_frequency",
  kwargs: z.strictObject({ capital_frequency: Count, capital_relation: Relation }),
  compile({ capital_frequency, capital_relation }) {
    return (text) => {
      const n = treebankTokens(text).filter(isUpperPy).length;
      return compared("all-capital word(s)", n, capital_relation, capital_frequency);
    };
  },
});

function englishCase(id: string, test: (s: string) => boolean, name: string): Checker {
  return defineChecker({
    id,
    kwargs: none,
    compile() {
      return (text) => {
        if (!test(text)) return fail(`not all ${name}`);
        const g = detectLanguage(text, "en");
        // FIX: IFEval counts text whose language cannot be detected as English.
        if (g.detector === "none") return fail("no letters to identify a language by");
        return verdict(g.language === "en", `all ${name}; detected language "${g.language}", needs "en"`);
      };
    },
  });
}

const COMMAS = /[,，、،]/;

const noComma = defineChecker({
  id: "punctuation:no_comma",
  kwargs: none,
  compile() {
    return (text) => {
      const m = COMMAS.exec(text);
      return m === null ? pass("no comma") : fail(`comma at offset ${m.index}`);
    };
  },
});

export const IFEVAL_CHECKERS: readonly Checker[] = [
  keywordsExistence,
  keywordsFrequency,
  forbiddenWords,
  letterFrequency,
  responseLanguage,
  numberSentences,
  numberParagraphs,
  numberWords,
  nthParagraphFirstWord,
  placeholders,
  postscript,
  bulletLists,
  constrainedResponse,
  highlightedSections,
  multipleSections,
  jsonFormat,
  title,
  twoResponses,
  repeatPrompt,
  endChecker,
  quotation,
  capitalWordFrequency,
  englishCase("change_case:english_capital", isUpperPy, "capital letters"),
  englishCase("change_case:english_lowercase", isLowerPy, "lowercase letters"),
  noComma,
];
