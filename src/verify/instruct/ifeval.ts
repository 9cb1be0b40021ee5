// The 25 instruction checkers of Google's IFEval, under their exact ids and kwarg names.
// Semantics follow the reference implementation except where it has a documented defect;
// each such place says FIX and docs/instruct-verifier.md lists them. The checkers exported
// as factories are the reference's too: compat/ifeval-reference.ts builds them with
// Python's whitespace (`pyStrip`) where these use JavaScript's (`trim`).
import { z } from "zod";
import {
  type Check,
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

/** How a checker strips whitespace: JavaScript's `trim` here, Python's `str.strip` in compat mode. */
export type Strip = (s: string) => string;
const trim: Strip = (s) => s.trim();
/** A kwarg that must be a string; which strings it accepts (and whether it trims) is the caller's. */
type Text = z.ZodType<string, string>;

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

/** Whether `text` is in `language`; text with no letters to judge by is not. */
function inLanguage(text: string, language: string): Check {
  const g = detectLanguage(text, language);
  // FIX: IFEval counts text langdetect cannot judge (no letters) as following the instruction.
  if (g.detector === "none") return fail("no letters to identify a language by");
  return verdict(g.language === language, `detected "${g.language}" (${g.detector}); needs "${language}"`);
}

const responseLanguage = defineChecker({
  id: "language:response_language",
  kwargs: z.strictObject({
    language: z.string().refine(isSupportedLanguage, "unsupported language code (ISO 639-1 expected)"),
  }),
  compile({ language }) {
    return (text) => inLanguage(text, language);
  },
});

const numberSentences = defineChecker({
  id: "length_constraints:number_sentences",
  kwargs: z.strictObject({ num_sentences: Count, relation: Relation }),
  compile({ num_sentences, relation }) {
    return (text) => compared("sentence(s)", countSentences(text), relation, num_sentences);
  },
});

/** Paragraphs divided by `***` (`divider`: the reference's `\s?\*\*\*\s?` in the mode's whitespace). */
export function numberParagraphsChecker(divider: RegExp, strip: Strip): Checker {
  return defineChecker({
    id: "length_constraints:number_paragraphs",
    kwargs: z.strictObject({ num_paragraphs: Count }),
    compile({ num_paragraphs }) {
      return (text) => {
        const parts = text.split(divider);
        let n = parts.length;
        for (const [i, p] of parts.entries()) {
          if (strip(p) !== "") continue;
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
}

const numberWords = defineChecker({
  id: "length_constraints:number_words",
  kwargs: z.strictObject({ num_words: Count, relation: Relation }),
  compile({ num_words, relation }) {
    return (text) => compared("word(s)", countWords(text), relation, num_words);
  },
});

const FIRST_WORD_STOP = new Set([".", ",", "?", "!", "'", '"']);

/** The reference's first word of a paragraph's first token: lower-cased, cut at the first `.,?!'"`. */
export function firstWord(token: string): string {
  let word = "";
  for (const ch of token) {
    if (FIRST_WORD_STOP.has(ch)) break;
    word += ch.toLowerCase();
  }
  return word;
}

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
      const word = firstWord((para.split(/\s+/)[0] ?? "").replace(/^['"]+/, ""));
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

export const placeholders = defineChecker({
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

export const constrainedResponse = defineChecker({
  id: "detectable_format:constrained_response",
  kwargs: none,
  compile() {
    return (text) => {
      // The reference strips the text first; no option starts or ends with a blank, so that changes nothing.
      const hit = CONSTRAINED_OPTIONS.find((o) => text.includes(o));
      return hit !== undefined
        ? pass(`contains "${hit}"`)
        : fail(`contains none of ${CONSTRAINED_OPTIONS.join(" / ")}`);
    };
  },
});

export function highlightedSectionsChecker(strip: Strip): Checker {
  return defineChecker({
    id: "detectable_format:number_highlighted_sections",
    kwargs: z.strictObject({ num_highlights: Count }),
    compile({ num_highlights }) {
      return (text) => {
        let n = 0;
        for (const m of text.matchAll(/\*[^\n*]*\*/g)) if (strip(stripRuns(m[0], "*")) !== "") n++;
        for (const m of text.matchAll(/\*\*[^\n*]*\*\*/g)) if (strip(m[0].slice(2, -2)) !== "") n++;
        return compared("highlighted section(s)", n, "at least", num_highlights);
      };
    },
  });
}

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

export function titleChecker(strip: Strip): Checker {
  return defineChecker({
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
          if (strip(stripRuns(stripRuns(span, "<", "start"), ">", "end")) !== "")
            return pass(`title ${span}`);
        }
        return fail("no <<title>> found");
      };
    },
  });
}

export function twoResponsesChecker(strip: Strip): Checker {
  return defineChecker({
    id: "combination:two_responses",
    kwargs: none,
    compile() {
      return (text) => {
        const parts = text.split("******");
        const valid: string[] = [];
        for (const [i, p] of parts.entries()) {
          const s = strip(p);
          if (s !== "") valid.push(s);
          else if (i !== 0 && i !== parts.length - 1)
            return fail("an empty response between ****** separators");
        }
        if (valid.length !== 2)
          return fail(`${valid.length} response(s) separated by ******; needs exactly 2`);
        return verdict(
          valid[0] !== valid[1],
          valid[0] !== valid[1] ? "two different responses" : "the two responses are identical",
        );
      };
    },
  });
}

/** `prompt_to_repeat`: which values the mode accepts is `Prompt`'s (ours: not blank). */
export function repeatPromptChecker(Prompt: Text, strip: Strip): Checker {
  return defineChecker({
    id: "combination:repeat_prompt",
    kwargs: z.strictObject({ prompt_to_repeat: Prompt }),
    compile({ prompt_to_repeat }) {
      const want = strip(prompt_to_repeat).toLowerCase();
      return (text) =>
        strip(text).toLowerCase().startsWith(want)
          ? pass("starts with the repeated request")
          : fail("does not start with the request repeated word for word");
    },
  });
}

/** `end_phrase`: which values the mode accepts is `Phrase`'s (ours: not blank). */
export function endPhraseChecker(Phrase: Text, strip: Strip): Checker {
  return defineChecker({
    id: "startend:end_checker",
    kwargs: z.strictObject({ end_phrase: Phrase }),
    compile({ end_phrase }) {
      const phrase = strip(end_phrase);
      const want = phrase.toLowerCase();
      return (text) =>
        stripRuns(strip(text), '"').toLowerCase().endsWith(want)
          ? pass(`ends with "${phrase}"`)
          : fail(`does not end with "${phrase}"`);
    },
  });
}

export function quotationChecker(strip: Strip): Checker {
  return defineChecker({
    id: "startend:quotation",
    kwargs: none,
    compile() {
      return (text) => {
        const t = strip(text);
        const ok = t.length > 1 && t.startsWith('"') && t.endsWith('"');
        return verdict(ok, ok ? "wrapped in double quotes" : "not wrapped in double quotation marks");
      };
    },
  });
}

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

/** All in one case (`test`, Python's isupper/islower), and English as `judge` decides. */
export function englishCase(
  id: string,
  test: (s: string) => boolean,
  name: string,
  judge: (text: string, language: string) => Check,
): Checker {
  return defineChecker({
    id,
    kwargs: none,
    compile() {
      return (text) => {
        if (!test(text)) return fail(`not all ${name}`);
        const c = judge(text, "en");
        return verdict(c.ok, `all ${name}; ${c.why}`);
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
  numberParagraphsChecker(/\s?\*\*\*\s?/, trim),
  numberWords,
  nthParagraphFirstWord,
  placeholders,
  postscript,
  bulletLists,
  constrainedResponse,
  highlightedSectionsChecker(trim),
  multipleSections,
  jsonFormat,
  titleChecker(trim),
  twoResponsesChecker(trim),
  repeatPromptChecker(NonEmpty, trim),
  endPhraseChecker(NonEmpty, trim),
  quotationChecker(trim),
  capitalWordFrequency,
  englishCase("change_case:english_capital", isUpperPy, "capital letters", inLanguage),
  englishCase("change_case:english_lowercase", isLowerPy, "lowercase letters", inLanguage),
  noComma,
];
