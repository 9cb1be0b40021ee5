// The 25 IFEval checks as google-research's reference implementation performs them
// (instruction_following_eval/instructions.py), for rollouts with `reference.compat:
// "ifeval"`: keywords as case-insensitive Python regexes matched anywhere, "P.S." found
// inside "P.P.S.", `\w+` word counts, Punkt sentence counts, the reference's bullet and
// paragraph rules, Python's whitespace and case rules. The two places where the reference
// is random are made deterministic and documented: langdetect (our detector decides; text
// it cannot judge counts as followed, as in the reference) and a non-letter
// `letter_frequency` letter (counted literally instead of replaced by a random letter).
// The checkers where the reference and ours differ only in which characters are whitespace
// are ifeval.ts's, built here with Python's (`pyStrip`); the rest are the reference's own.
import { z } from "zod";
import {
  type Check,
  type Checker,
  Count,
  compared,
  defineChecker,
  fail,
  pass,
  Relation,
  verdict,
} from "../checker.ts";
import {
  constrainedResponse,
  endPhraseChecker,
  englishCase,
  firstWord,
  highlightedSectionsChecker,
  numberParagraphsChecker,
  placeholders,
  quotationChecker,
  repeatPromptChecker,
  titleChecker,
  twoResponsesChecker,
} from "../ifeval.ts";
import { detectLanguage } from "../language.ts";
import { countMatches, isLowerPy, isUpperPy, stripRuns } from "../text.ts";
import { englishPunkt } from "./punkt.ts";
import { PY_SPACE_CHARS, PY_WORD_CHARS, pyIsSpace, pyRegex, pySplit, pyStrip } from "./py.ts";
import { countUpperTokens } from "./treebank.ts";

const none = z.strictObject({});
const Text = z.string().min(1, "the reference draws a random value when this is empty");
/** A Python regex the reference passes to `re`; one that cannot be reproduced is rejected. */
const PyPattern = Text.refine(
  (p) => {
    try {
      pyRegex(p);
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a regular expression the reference's `re` call can be reproduced for" },
);
const S = `[${PY_SPACE_CHARS}]`;

const keywordsExistence = defineChecker({
  id: "keywords:existence",
  kwargs: z.strictObject({ keywords: z.array(PyPattern).min(1) }),
  compile({ keywords }) {
    const patterns = keywords.map((k) => [k, pyRegex(k, { ignoreCase: true })] as const);
    return (text) => {
      const missing = patterns.filter(([, re]) => !re.test(text)).map(([k]) => k);
      return missing.length === 0
        ? pass("every keyword pattern found")
        : fail(`not found: ${missing.join(", ")}`);
    };
  },
});

const keywordsFrequency = defineChecker({
  id: "keywords:frequency",
  kwargs: z.strictObject({ keyword: PyPattern, frequency: Count, relation: Relation }),
  compile({ keyword, frequency, relation }) {
    const re = pyRegex(pyStrip(keyword), { ignoreCase: true, global: true });
    return (text) =>
      compared(`match(es) of /${pyStrip(keyword)}/i`, countMatches(re, text), relation, frequency);
  },
});

const forbiddenWords = defineChecker({
  id: "keywords:forbidden_words",
  kwargs: z.strictObject({ forbidden_words: z.array(PyPattern).min(1) }),
  compile({ forbidden_words }) {
    const patterns = [...new Set(forbidden_words)].map(
      (w) => [w, pyRegex(`\\b${w}\\b`, { ignoreCase: true })] as const,
    );
    return (text) => {
      const used = patterns.filter(([, re]) => re.test(text)).map(([w]) => w);
      return used.length === 0 ? pass("no forbidden word used") : fail(`used: ${used.join(", ")}`);
    };
  },
});

const letterFrequency = defineChecker({
  id: "keywords:letter_frequency",
  // The reference swaps a non-letter (the dataset has "#" and "!") for a random letter;
  // here the character given is counted, so the verdict is repeatable.
  kwargs: z.strictObject({
    letter: z.string().refine((l) => [...l].length === 1, "must be one character"),
    let_frequency: Count,
    let_relation: Relation,
  }),
  compile({ letter, let_frequency, let_relation }) {
    const l = pyStrip(letter).toLowerCase() || letter;
    return (text) => {
      let n = 0;
      for (const ch of text.toLowerCase()) if (ch === l) n++;
      return compared(`occurrence(s) of "${l}"`, n, let_relation, let_frequency);
    };
  },
});

/** The reference's `langdetect.detect(text) == language`, True when nothing can be detected. */
function inLanguage(text: string, language: string): Check {
  const g = detectLanguage(text, language);
  if (g.detector === "none")
    return pass("no letters to detect a language by (the reference counts that as followed)");
  return verdict(g.language === language, `detected "${g.language}" (${g.detector}); needs "${language}"`);
}

const responseLanguage = defineChecker({
  id: "language:response_language",
  kwargs: z.strictObject({ language: Text }),
  compile({ language }) {
    return (text) => inLanguage(text, language);
  },
});

const numberSentences = defineChecker({
  id: "length_constraints:number_sentences",
  kwargs: z.strictObject({ num_sentences: Count, relation: Relation }),
  compile({ num_sentences, relation }) {
    return (text) => compared("Punkt sentence(s)", englishPunkt().count(text), relation, num_sentences);
  },
});

const PARAGRAPH_SPLIT = new RegExp(`${S}?\\*\\*\\*${S}?`, "u");

const PY_WORD = new RegExp(`[${PY_WORD_CHARS}]+`, "gu");

const numberWords = defineChecker({
  id: "length_constraints:number_words",
  kwargs: z.strictObject({ num_words: Count, relation: Relation }),
  compile({ num_words, relation }) {
    return (text) => compared("\\w+ run(s)", countMatches(PY_WORD, text), relation, num_words);
  },
});

const nthParagraphFirstWord = defineChecker({
  id: "length_constraints:nth_paragraph_first_word",
  kwargs: z
    .strictObject({ num_paragraphs: Count, nth_paragraph: z.int().positive(), first_word: Text })
    .refine((k) => k.nth_paragraph <= k.num_paragraphs, {
      message: "the reference draws a random paragraph when nth_paragraph exceeds num_paragraphs",
      path: ["nth_paragraph"],
    }),
  compile({ num_paragraphs, nth_paragraph, first_word }) {
    const want = first_word.toLowerCase();
    return (text) => {
      // As the reference: count the non-empty paragraphs, but index the unfiltered split.
      const paragraphs = text.split("\n\n");
      const n = paragraphs.filter((p) => pyStrip(p) !== "").length;
      if (nth_paragraph > n) return fail(`${n} non-empty paragraph(s); no paragraph ${nth_paragraph}`);
      const para = pyStrip(paragraphs[nth_paragraph - 1]!);
      if (para === "") return fail(`paragraph ${nth_paragraph} of the split is empty`);
      const word = firstWord(stripRuns(stripRuns(pySplit(para)[0]!, "'", "start"), '"', "start"));
      return verdict(
        n === num_paragraphs && word === want,
        `${n} paragraph(s) (needs ${num_paragraphs}); paragraph ${nth_paragraph} starts "${word}" (needs "${want}")`,
      );
    };
  },
});

const postscript = defineChecker({
  id: "detectable_content:postscript",
  kwargs: z.strictObject({ postscript_marker: PyPattern }),
  compile({ postscript_marker }) {
    const marker = pyStrip(postscript_marker);
    // `\s*MARKER.*$` under MULTILINE matches somewhere exactly when MARKER does.
    const re =
      marker === "P.P.S"
        ? new RegExp(`p\\.${S}?p\\.${S}?s`, "u")
        : marker === "P.S."
          ? new RegExp(`p\\.${S}?s\\.`, "u")
          : pyRegex(marker.toLowerCase());
    return (text) =>
      re.test(text.toLowerCase()) ? pass(`${marker} found`) : fail(`no ${marker} anywhere in the response`);
  },
});

/** Start of the line after `i` (or the end). */
function nextLineStart(text: string, i: number): number {
  const nl = text.indexOf("\n", i);
  return nl < 0 ? text.length : nl + 1;
}

/**
 * How many matches `re.findall(r"^\s*" + MARK + REST, text, re.MULTILINE)` finds, where
 * the match succeeds iff the first non-space character after a line start is `mark` and
 * `more(j)` accepts what follows; `more` returns where the match ends. Linear: a failed
 * start skips past the whitespace run it scanned (every line start inside it fails alike).
 */
function countLineMatches(text: string, mark: string, more: (j: number) => number | undefined): number {
  let n = 0;
  for (let s = 0; s < text.length; ) {
    let w = s;
    while (w < text.length && pyIsSpace(text[w]!)) w++;
    const end = text[w] === mark ? more(w + 1) : undefined;
    if (end !== undefined) {
      n++;
      s = end < text.length && text[end - 1] === "\n" ? end : nextLineStart(text, Math.max(end, w));
      if (end === text.length) break;
      continue;
    }
    s = nextLineStart(text, w);
  }
  return n;
}

const lineEnd = (text: string, j: number) => {
  const nl = text.indexOf("\n", j);
  return nl < 0 ? text.length : nl;
};

const bulletLists = defineChecker({
  id: "detectable_format:number_bullet_lists",
  kwargs: z.strictObject({ num_bullets: Count }),
  compile({ num_bullets }) {
    return (text) => {
      // r"^\s*\*[^\*].*$" and r"^\s*-.*$", both MULTILINE, counted separately and added.
      const star = countLineMatches(text, "*", (j) =>
        j < text.length && text[j] !== "*" ? lineEnd(text, j + 1) : undefined,
      );
      const dash = countLineMatches(text, "-", (j) => lineEnd(text, j));
      return verdict(
        star + dash === num_bullets,
        `${star} "*" + ${dash} "-" line(s); needs exactly ${num_bullets}`,
      );
    };
  },
});

const multipleSections = defineChecker({
  id: "detectable_format:multiple_sections",
  kwargs: z.strictObject({ section_spliter: PyPattern, num_sections: Count }),
  compile({ section_spliter, num_sections }) {
    const spliter = pyStrip(section_spliter);
    const re = pyRegex(`\\s?${spliter}\\s?\\d+\\s?`);
    return (text) =>
      compared(`"${spliter} N" section(s)`, text.split(re).length - 1, "at least", num_sections);
  },
});

/** Python's json.loads acceptance: JSON plus the bare constants NaN, Infinity, -Infinity. */
function pyJsonLoads(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    if (!/NaN|Infinity/.test(s)) return false;
  }
  let out = "";
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (inString) {
      out += ch;
      if (ch === "\\") out += s[++i] ?? "";
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (s.startsWith("NaN", i) || s.startsWith("Infinity", i)) {
      out += "0";
      i += s.startsWith("NaN", i) ? 2 : 7;
    } else out += ch;
  }
  try {
    JSON.parse(out);
    return true;
  } catch {
    return false;
  }
}

function removePrefix(s: string, p: string): string {
  return s.startsWith(p) ? s.slice(p.length) : s;
}

const jsonFormat = defineChecker({
  id: "detectable_format:json_format",
  kwargs: none,
  compile() {
    return (text) => {
      let t = pyStrip(text);
      for (const p of ["```json", "```Json", "```JSON", "```"]) t = removePrefix(t, p);
      if (t.endsWith("```")) t = t.slice(0, -3);
      return pyJsonLoads(pyStrip(t))
        ? pass("parses as JSON (Python json.loads)")
        : fail("does not parse as JSON");
    };
  },
});

const capitalWordFrequency = defineChecker({
  id: "change_case:capital_word_frequency",
  kwargs: z.strictObject({ capital_frequency: z.int(), capital_relation: Relation }),
  compile({ capital_frequency, capital_relation }) {
    return (text) => {
      const n = countUpperTokens(text, englishPunkt(), isUpperPy);
      return compared("all-capital nltk token(s)", n, capital_relation, capital_frequency);
    };
  },
});

const noComma = defineChecker({
  id: "punctuation:no_comma",
  kwargs: none,
  compile() {
    return (text) => verdict(!text.includes(","), text.includes(",") ? "contains a comma" : "no comma");
  },
});

export const IFEVAL_REFERENCE_CHECKERS: readonly Checker[] = [
  keywordsExistence,
  keywordsFrequency,
  forbiddenWords,
  letterFrequency,
  responseLanguage,
  numberSentences,
  numberParagraphsChecker(PARAGRAPH_SPLIT, pyStrip),
  numberWords,
  nthParagraphFirstWord,
  placeholders,
  postscript,
  bulletLists,
  constrainedResponse,
  highlightedSectionsChecker(pyStrip),
  multipleSections,
  jsonFormat,
  titleChecker(pyStrip),
  twoResponsesChecker(pyStrip),
  repeatPromptChecker(Text, pyStrip),
  endPhraseChecker(Text, pyStrip),
  quotationChecker(pyStrip),
  capitalWordFrequency,
  englishCase("change_case:english_capital", isUpperPy, "capital letters", inLanguage),
  englishCase("change_case:english_lowercase", isLowerPy, "lowercase letters", inLanguage),
  noComma,
];
