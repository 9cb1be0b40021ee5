// Text measurements shared by the instruction checkers: words, sentences, paragraphs,
// Python-compatible case tests. IFEval leans on nltk (a `\w+` tokenizer, the Punkt sentence
// model, the Treebank word tokenizer); these are small hand-written equivalents because no
// npm library reproduces those exact behaviours, and the Punkt model is not installable here.

/** Letters, combining marks, digits, underscore: Python's `\w`, plus marks (Python splits Devanagari words at a virama). */
const WORD_CHAR = "[\\p{L}\\p{M}\\p{N}_]";
// A reader's word: runs of word characters joined by an inner apostrophe or hyphen
// ("don't", "well-known"), or by `.`/`,` between digits ("3.14", "1,000").
const WORD_RE = new RegExp(`${WORD_CHAR}+(?:(?:['’\\-]|(?<=\\p{N})[.,](?=\\p{N}))${WORD_CHAR}+)*`, "gu");

export function words(text: string): string[] {
  return text.match(WORD_RE) ?? [];
}

export function countWords(text: string): number {
  let n = 0;
  WORD_RE.lastIndex = 0;
  while (WORD_RE.exec(text) !== null) n++;
  return n;
}

/**
 * `s` without leading and/or trailing runs of `ch` (Python's `s.strip(ch)`), by index
 * arithmetic: the regex `/"+$/` retries at every quote of a long run and is quadratic.
 */
export function stripRuns(s: string, ch: string, side: "both" | "start" | "end" = "both"): string {
  let from = 0;
  let to = s.length;
  if (side !== "end") while (from < to && s[from] === ch) from++;
  if (side !== "start") while (to > from && s[to - 1] === ch) to--;
  return s.slice(from, to);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/**
 * A case-insensitive, global pattern for `phrase` as a whole word: it may not be glued to
 * further word characters on a side where the phrase itself ends in a word character.
 */
export function wholeWordPattern(phrase: string): RegExp {
  const p = phrase.trim();
  const head = /^[\p{L}\p{M}\p{N}_]/u.test(p) ? `(?<!${WORD_CHAR})` : "";
  const tail = /[\p{L}\p{M}\p{N}_]$/u.test(p) ? `(?!${WORD_CHAR})` : "";
  return new RegExp(head + escapeRegExp(p).replace(/\s+/g, "\\s+") + tail, "giu");
}

/** How many matches `re` finds in `text`, as Python's `re.findall` counts them (an empty match counts once and steps on). */
export function countMatches(re: RegExp, text: string): number {
  const global = re.global ? re : new RegExp(re.source, `${re.flags}g`);
  global.lastIndex = 0;
  let n = 0;
  for (let m = global.exec(text); m !== null; m = global.exec(text)) {
    n++;
    if (m[0] === "") global.lastIndex++;
  }
  return n;
}

/** Python's str.isupper(): at least one cased character and none lower- or titlecase. */
export function isUpperPy(s: string): boolean {
  return /\p{Uppercase}/u.test(s) && !/[\p{Lowercase}\p{Lt}]/u.test(s);
}

/** Python's str.islower(): at least one cased character and none upper- or titlecase. */
export function isLowerPy(s: string): boolean {
  return /\p{Lowercase}/u.test(s) && !/[\p{Uppercase}\p{Lt}]/u.test(s);
}

// Abbreviations after which a period does not end a sentence (lower-cased, without the
// final period). Punkt learns such a list from a corpus; these are its most frequent English ones.
const ABBREVIATIONS = new Set(
  (
    "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al approx dept fig figs inc ltd co corp " +
    "vol vols pp jan feb apr jun jul aug sep sept oct nov dec mon tue thu fri " +
    "gen col lt sgt capt cmdr adm gov sen hon u.s u.k u.n a.m p.m ph.d b.a m.a b.sc m.sc d.c " +
    "ave blvd hwy misc viz"
  ).split(" "),
);

const CLOSERS = "\"'”’)]}»";
const TERMINATORS = ".?!…。！？";

/**
 * Splits text into sentences the way Punkt does for English prose: a sentence ends at
 * `.`, `?`, `!` (or `…`, CJK stops) plus closing quotes/brackets, followed by whitespace or
 * the end — except after a known abbreviation, a single-letter initial, or a list number
 * at the start of a line. A blank line also ends a sentence (Punkt would glue a heading
 * to the next paragraph). Empty pieces are dropped.
 */
export function sentences(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  const n = text.length;
  const push = (end: number) => {
    const s = text.slice(start, end).trim();
    if (s !== "") out.push(s);
    start = end;
  };
  for (let i = 0; i < n; i++) {
    const ch = text[i]!;
    if (ch === "\n") {
      let j = i + 1;
      while (j < n && (text[j] === " " || text[j] === "\t" || text[j] === "\r")) j++;
      if (j < n && text[j] === "\n") push(i);
      continue;
    }
    if (!TERMINATORS.includes(ch)) continue;
    let j = i + 1;
    while (j < n && TERMINATORS.includes(text[j]!)) j++;
    while (j < n && CLOSERS.includes(text[j]!)) j++;
    const cjk = ch === "。" || ch === "！" || ch === "？";
    if (!cjk && j < n && !/\s/.test(text[j]!)) {
      i = j - 1;
      continue;
    }
    if (ch === "." && j === i + 1 && !endsSentence(text, start, i)) continue;
    push(j);
    i = j - 1;
  }
  push(n);
  return out;
}

/** Whether the period at `dot` ends a sentence, judged by the token before it. */
function endsSentence(text: string, from: number, dot: number): boolean {
  let k = dot;
  while (k > from && !/\s/.test(text[k - 1]!)) k--;
  const token = text
    .slice(k, dot)
    .replace(/^["'“‘([{*_]+/, "")
    .toLowerCase();
  if (token === "") return true;
  if (ABBREVIATIONS.has(token)) return false;
  if (/^\p{L}$/u.test(token)) return false; // an initial: "J. Smith"
  // "1." opening a line is a list marker, not a one-word sentence.
  if (/^\d{1,3}$/.test(token) && opensLine(text, from, k)) return false;
  return true;
}

/**
 * Whether the token at `at` opens a line: only spaces/tabs since the last newline, or only
 * whitespace since `from` (the start of the current sentence). Scans back over whitespace
 * alone, so a text made of list markers stays linear.
 */
function opensLine(text: string, from: number, at: number): boolean {
  let k = at;
  while (k > from && (text[k - 1] === " " || text[k - 1] === "\t")) k--;
  if (k > from && text[k - 1] === "\n") return true;
  while (k > from && /\s/.test(text[k - 1]!)) k--;
  return k === from;
}

export function countSentences(text: string): number {
  return sentences(text).length;
}

/**
 * Word tokens in the manner of nltk's word_tokenize, as far as it matters for telling
 * all-caps words: whitespace-separated, split at the punctuation nltk splits off
 * (`, ; : @ # $ % & ? ! ( ) [ ] { } < >` and quotes) but not at `+ - / | ^ .` inside a
 * token, and contractions split ("DON'T" → "DO", "N'T").
 */
const TREEBANK_SPLIT = /([,;:@#$%&?!()[\]{}<>"“”]|``|'')/u;

export function treebankTokens(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\s+/)) {
    for (const piece of raw.split(TREEBANK_SPLIT)) {
      if (piece === "" || piece === undefined) continue;
      const c = /^(.+?)(n't|'s|'re|'ll|'d|'m|'ve)$/iu.exec(piece);
      if (c !== null) out.push(c[1]!, c[2]!);
      else out.push(piece);
    }
  }
  return out;
}

/** Paragraphs separated by blank lines (`\n\n`), empty ones dropped. */
export function blankLineParagraphs(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
}
