// nltk's `word_tokenize` (Punkt sentences, then NLTKWordTokenizer on each), re-implemented
// for IFEval's `change_case:capital_word_frequency` in compat mode. Each rule is nltk's
// regex with Python's meanings of `\s`, `\d`, `\w`, `\b` and `$` spelled out (py.ts).
import type { Punkt } from "./punkt.ts";
import { PY_BOUNDARY as B, PY_END as END, PY_SPACE_CHARS, PY_WORD_CHARS, pySplit } from "./py.ts";

const S = `[${PY_SPACE_CHARS}]`;
const W = `[${PY_WORD_CHARS}]`;
type Rule = readonly [RegExp, string];
const rule = (source: string, replacement: string, flags = ""): Rule => [
  new RegExp(source, `gu${flags}`),
  replacement,
];

const STARTING_QUOTES: readonly Rule[] = [
  rule("([«“‘„]|[`]+)", " $1 "),
  rule('^"', "``"),
  rule("(``)", " $1 "),
  rule("([ (\\[{<])(\"|'{2})", "$1 `` "),
  rule(`(?<!${W})(')(?!(?:re|ve|ll|m|t|s|d|n)${B})(?=${W})`, "$1 ", "i"),
];

const PUNCTUATION: readonly Rule[] = [
  rule(`([^.])(\\.)([\\])}>"'»”’ ]*)${S}*${END}`, "$1 $2 $3 "),
  rule("([:,])([^\\p{Nd}])", " $1 $2"),
  rule(`([:,])${END}`, " $1 "),
  rule("\\.{2,}", " $& "),
  rule("[;@#$%&]", " $& "),
  rule("[\\u2012-\\u2015]", " $& "),
  rule(`([^.])(\\.)([\\])}>"']*)${S}*${END}`, "$1 $2$3 "),
  rule("[?!]", " $& "),
  rule("([^'])' ", "$1 ' "),
  rule("[*]", " $& "),
];

const PARENS_BRACKETS = rule("[\\][(){}<>]", " $& ");
const DOUBLE_DASHES = rule("--", " -- ");

const ENDING_QUOTES: readonly Rule[] = [
  rule("([»”’])", " $1 "),
  rule("''", " '' "),
  rule('"', " '' "),
  rule(`${S}+`, " "),
  rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
  rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "),
];

const CONTRACTIONS: readonly Rule[] = [
  ...[
    ["can", "not"],
    ["d", "'ye"],
    ["gim", "me"],
    ["gon", "na"],
    ["got", "ta"],
    ["lem", "me"],
    ["more", "'n"],
  ].map(([a, b]) => rule(`${B}(${a})(${b})${B}`, " $1 $2 ", "i")),
  rule(`${B}(wan)(na)(?=${S})`, " $1 $2 ", "i"),
  rule(` ('t)(is)${B}`, " $1 $2 ", "i"),
  rule(` ('t)(was)${B}`, " $1 $2 ", "i"),
];

function apply(text: string, rules: readonly Rule[]): string {
  let t = text;
  for (const [re, sub] of rules) t = t.replace(re, sub);
  return t;
}

/** `NLTKWordTokenizer().tokenize(text)` (no parenthesis conversion). */
export function nltkWordTokens(text: string): string[] {
  let t = apply(text, STARTING_QUOTES);
  t = apply(t, PUNCTUATION);
  t = apply(t, [PARENS_BRACKETS, DOUBLE_DASHES]);
  t = apply(` ${t} `, ENDING_QUOTES);
  return pySplit(apply(t, CONTRACTIONS));
}

/** `nltk.word_tokenize(text)`: Punkt's English sentences, each through NLTKWordTokenizer. */
export function wordTokenize(text: string, punkt: Punkt): string[] {
  return punkt.sentences(text).flatMap(nltkWordTokens);
}

/**
 * How many tokens of `nltk.word_tokenize(text)` satisfy `isupper()`. A sentence without an
 * uppercase character yields none, so it is not tokenized: the count is the same, and a
 * text of many short lowercase sentences stays cheap.
 */
export function countUpperTokens(text: string, punkt: Punkt, isUpper: (s: string) => boolean): number {
  let n = 0;
  for (const [a, b] of punkt.spans(text)) {
    const sentence = text.slice(a, b);
    if (!/\p{Uppercase}/u.test(sentence)) continue;
    for (const t of nltkWordTokens(sentence)) if (isUpper(t)) n++;
  }
  return n;
}
