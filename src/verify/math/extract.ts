// Finding the final answer in a free-form response. Strategies are tried in priority order
// (configurable); within a strategy the last occurrence wins by default, because models
// restate the question and intermediate results before concluding. Every scan is linear in
// the response (no regex that can backtrack over a long run) and ticks the call's budget.

import type { Budget } from "./budget.ts";

export type ExtractionStrategy =
  | "answer_tag"
  | "gsm8k"
  | "minerva"
  | "boxed"
  | "final_answer"
  | "answer_colon"
  | "bold"
  | "last_math";

export const DEFAULT_STRATEGIES: readonly ExtractionStrategy[] = [
  "answer_tag",
  "gsm8k",
  "minerva",
  "boxed",
  "final_answer",
  "answer_colon",
  "bold",
  "last_math",
];

export interface Extracted {
  text: string;
  strategy: ExtractionStrategy;
}

export interface ExtractionOptions {
  strategies: readonly ExtractionStrategy[];
  /** Which \boxed{} to use when there are several. */
  boxed: "last" | "first";
}

/**
 * GSM8K's closing line: the last line that starts with `####` and holds a number
 * ("#### 72", "#### $1,200", "####-3.5"). GSM8K's golds are plain numbers, so currency signs,
 * thousands separators and a trailing period are dropped as its answers drop them; a markdown
 * heading ("#### Step 2") holds no leading number and is not an answer.
 */
export function gsm8kAnswer(s: string): string | undefined {
  // Scan lines from the end with lastIndexOf: linear, and no regex runs over the whole input.
  // The answer line closes the response: once a later line holds a digit, a "####" line above
  // it is a numbered markdown heading ("#### 2 Solve for x"), not GSM8K's answer.
  let end = s.length;
  while (end > 0) {
    tick();
    const nl = s.lastIndexOf("\n", end - 1);
    const line = s.slice(nl + 1, end);
    end = Math.max(nl, 0);
    const at = line.indexOf("####");
    if (at < 0 && /\d/.test(line)) return undefined;
    if (at < 0 || line.slice(0, at).trim() !== "" || line.length > 4 + at + 200) continue;
    const body = trimEnd(
      line
        .slice(at + 4)
        .replace(/\*\*/g, "")
        .trim()
        .replace(/^\$\s*(?=[-\d.])|^\\\$\s*/, "")
        .replace(/(?<=\d),(?=\d{3}(?!\d))/g, ""),
      " .;!",
    ).trim();
    if (!/^[-+−]?\s*(?:\$|\\\$)?\s*\.?\d/.test(body)) continue;
    const signed = body.replace(/^([-+−])\s*(?:\\?\$)\s*/, "$1");
    // "#### 18 clips": the number, not the unit word after it.
    const lead = /^[-+−]?(?:\d+(?:\.\d+)?|\.\d+)%?(?=\s+[A-Za-z][A-Za-z\s]*$)/.exec(signed);
    return lead === null ? signed : lead[0];
  }
  return undefined;
}

/**
 * `s` without the trailing characters in `chars`. A regex such as /[.!]+$/ would be quadratic
 * on a long run of those characters followed by anything else (it retries at every start).
 */
export function trimEnd(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** Contents of every \boxed{...} / \fbox{...} with balanced braces, left to right. */
export function boxedContents(s: string): string[] {
  const out = boxedSpans(s).map((b) => s.slice(b.start, b.end));
  // A box left open at the end (a truncated generation): what follows it.
  if (out.length === 0) {
    const open = s.lastIndexOf("\\boxed{");
    if (open >= 0 && s.length - open < 1000) out.push(s.slice(open + 7));
  }
  // \boxed 5 (no braces), as some models write.
  if (out.length === 0) {
    const bare = /\\boxed\s+([^\s$]+)/g;
    for (let m = bare.exec(s); m !== null; m = bare.exec(s)) out.push(m[1]!);
  }
  return out;
}

function boxedSpans(s: string): { head: number; start: number; end: number }[] {
  // One left-to-right pass with a stack of open boxes, so unbalanced input stays linear.
  const found: { head: number; start: number; end: number }[] = [];
  const open: { head: number; start: number; depth: number }[] = [];
  const head = /\\(?:boxed|fbox)\s*\{/y;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if ((i & 1023) === 0) tick();
    const c = s[i];
    if (c === "\\") {
      head.lastIndex = i;
      if (head.test(s)) {
        depth++;
        open.push({ head: i, start: head.lastIndex, depth });
        i = head.lastIndex - 1;
      } else if (s[i + 1] !== "\\") i++; // "\\boxed" (an escaping slip) still opens a box
    } else if (c === "{") depth++;
    else if (c === "}") {
      const top = open[open.length - 1];
      if (top !== undefined && top.depth === depth) {
        open.pop();
        // Only outermost boxes count; a box inside a box is part of its content.
        if (open.length === 0) found.push({ head: top.head, start: top.start, end: i });
      }
      if (depth > 0) depth--;
    }
  }
  return found;
}

/**
 * What may stand between boxes that are parts of one answer: spacing, math delimiters,
 * punctuation and symbols, connectives ("and", "or", "for part (b)"), and the label of the
 * next part ("b =", "y_2 ="). A word outside that vocabulary ("Wait, no:", "thus but")
 * separates a revision from an earlier answer, and a digit is a result in between.
 */
const JOIN_WORDS = /^(?:and|or|for|part|parts|case|cases|respectively|also|the|answers?|are|is|then)$/i;

function joinsBoxes(gap: string): boolean {
  if (gap.length > 200 || /\d/.test(gap.replace(/_\{?\d+\}?/g, ""))) return false;
  const words = gap
    .replace(/^\s*[a-z]+\b/, " ") // the unit of the box before: "\boxed{1} papers and \boxed{2}"
    .replace(/\\text\{([^{}]*)\}/g, " $1 ")
    .replace(/\\[a-zA-Z]+|\\./g, " ")
    .replace(/\([a-z]\)|\b[a-zA-Z](?:_\{?\w+\}?)?\s*=|_\{?\w+\}?/g, " ")
    .match(/[A-Za-z]{2,}/g);
  return (words ?? []).every((w) => JOIN_WORDS.test(w));
}

/**
 * The final boxed answer: the last box, together with the boxes before it that only "and",
 * commas or spacing separate from it (\boxed{-2} and \boxed{1} → "-2, 1"); an earlier box
 * that words set apart ("\boxed{1} no, rather \boxed{2}") is a revised answer and left out.
 */
export function lastBoxedAnswer(s: string): string | undefined {
  const boxes = boxedWithGaps(s);
  if (boxes.length === 0) return boxedContents(s).at(-1);
  let k = boxes.length - 1;
  while (k > 0 && joinsBoxes(boxes[k]!.gapBefore)) k--;
  return boxes
    .slice(k)
    .map((b) => b.body)
    .join(", ");
}

/** Boxes with the text between each and the previous one. */
function boxedWithGaps(s: string): { body: string; gapBefore: string }[] {
  const spans = boxedSpans(s);
  return spans.map((b, i) => ({
    body: s.slice(b.start, b.end),
    gapBefore: i === 0 ? "x" : s.slice(spans[i - 1]!.end + 1, b.head),
  }));
}

/** Math spans: $$..$$, \[..\], \(..\), $..$, left to right. */
const MAX_SPAN = 1000;

function mathSpans(s: string): string[] {
  // A hand-written scan instead of a regex: each opener looks for its closer once with indexOf,
  // and a delimiter kind with no closer left is dropped, so hostile input stays linear.
  const kinds = [
    { open: "$$", close: "$$" },
    { open: "\\[", close: "\\]" },
    { open: "\\(", close: "\\)" },
    { open: "$", close: "$" },
  ];
  const dead = new Set<number>();
  const out: string[] = [];
  let i = 0;
  let steps = 0;
  while (i < s.length) {
    if ((++steps & 1023) === 0) tick();
    const c = s[i];
    if (c !== "$" && c !== "\\") {
      i++;
      continue;
    }
    if (c === "\\" && s[i + 1] === "$") {
      i += 2; // an escaped dollar sign is currency, not a delimiter
      continue;
    }
    const k = kinds.findIndex((kd, n) => !dead.has(n) && s.startsWith(kd.open, i));
    if (k < 0) {
      i += c === "\\" ? 2 : 1;
      continue;
    }
    const kind = kinds[k]!;
    const from = i + kind.open.length;
    let end = s.indexOf(kind.close, from);
    while (end > 0 && kind.close[0] === "$" && s[end - 1] === "\\") end = s.indexOf(kind.close, end + 1);
    if (end < 0) {
      dead.add(k);
      continue;
    }
    if (end - from <= MAX_SPAN) {
      const body = s.slice(from, end);
      if (body.trim() !== "") out.push(body);
      i = end + kind.close.length;
    } else i = Math.max(i + 1, end - MAX_SPAN);
  }
  return out;
}

/** The answer inside a phrase-anchored segment: a box, else a math span, else the bare text. */
function refineSegment(seg: string): string | undefined {
  const boxes = boxedContents(seg);
  if (boxes.length > 0) return boxes[boxes.length - 1];
  let t = seg
    .replace(/\*\*/g, "")
    .replace(/\bI hope it is correct\b[\s\S]*$/i, "")
    .trim();
  // Cut at the end of the sentence (a period followed by a space or the end, not a decimal
  // point), outside math spans.
  const stop = /\.(?:\s|$)|\n/.exec(t.replace(/\$[^$]*\$/g, (m) => "x".repeat(m.length)));
  if (stop !== null) t = t.slice(0, stop.index);
  t = trimEnd(t.replace(/^[:\s]+/, ""), " \t\n\r.;,!");
  if (t === "") return undefined;
  // "(C) 42" or "C. 42": an option letter followed by the option's text.
  const option = /^(?:\\text\{\s*)?\(([A-J])\)(?:\s*\})?(?:\s|$)|^([A-J])[.)](?:\s|$)/.exec(t);
  if (option !== null) return option[1] ?? option[2];
  const spans = mathSpans(t);
  // "The largest $n$ is 34": the math that ends the sentence is the answer.
  if (spans.length > 0 && /(?:\$|\\\)|\\\])\s*$/.test(t)) return spans[spans.length - 1];
  const tail = tailExpression(t.replace(/\$/g, " "));
  if (tail !== undefined) return tail;
  if (spans.length > 0) return spans[0];
  // "Jane started growing it 3 hours ago": a sentence with a single number.
  const numbers = t.match(NUMBER) ?? [];
  if (numbers.length === 1) return numbers[0]!.replace(/,(?!\d{3})/g, "");
  // "Janeth will still owe 220 $ within 12 months": the amount of money is the answer.
  const money = /(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s*(?:\\?\$|€|£|dollars?|euros?)/.exec(t);
  if (money !== null && numbers.length > 1) return money[1]!.replace(/,(?!\d{3})/g, "");
  return t;
}

function lastMatchSegment(s: string, re: RegExp): string | undefined {
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) last = m;
  return last === undefined
    ? undefined
    : s.slice(last.index + last[0].length, last.index + last[0].length + 600);
}

const NUMBER = /(?<![A-Za-z\d])(?:-?\d[\d,]*(?:\.\d+)?(?:\s*\/\s*\d+)?%?|-?\.\d+%?)(?![A-Za-z\d])/g;

const PROSE = /\b[a-zA-Z]{3,}\s+[a-zA-Z]{3,}\b/;
const CONCLUSION =
  /^(?:\**)(?:therefore|thus|hence|so|consequently|finally|altogether|in total|in conclusion|overall|the (?:final )?answer|this gives|we get|the result)\b/i;

/** The one number of a sentence that states no other ("there are 12 distinct sequences"). */
function singleNumber(sentence: string): string | undefined {
  const numbers = sentence.replace(/\*\*/g, "").match(NUMBER) ?? [];
  return numbers.length === 1 ? numbers[0]!.replace(/,(?!\d{3})/g, "") : undefined;
}

/** The number stated by the last sentence of `s`, when that sentence is prose with one number. */
function finalSentenceNumber(s: string): string | undefined {
  const t = trimEnd(s, " \t\n\r.!");
  if (t.length > 400 || /[$\\=]/.test(t)) return undefined;
  const cut = Math.max(t.lastIndexOf(". "), t.lastIndexOf("\n"), t.lastIndexOf("! "), t.lastIndexOf("? "));
  const sentence = t.slice(cut + 1).trim();
  // Only a concluding sentence: "Note that this took 3 steps." after the answer is not one.
  return CONCLUSION.test(sentence) && PROSE.test(sentence) ? singleNumber(sentence) : undefined;
}

/**
 * "The solutions are $x = 2$ or $x = 1$": the last math spans joined by connectives, as one
 * multi-part answer (the same rule as for boxes). Undefined when the last span stands alone.
 */
function joinedLastSpans(s: string): string | undefined {
  const tail = s.length > 4000 ? s.slice(-4000) : s;
  const parts: string[] = [];
  let end = tail.length;
  for (let n = 0; n < 8; n++) {
    const close = tail.lastIndexOf("$", end - 1);
    if (close < 0) break;
    const open = tail.lastIndexOf("$", close - 1);
    if (open < 0 || tail[open - 1] === "$" || tail[close + 1] === "$") break;
    const gap = tail.slice(close + 1, end);
    if (n === 0 ? /\S/.test(gap.replace(/^[\s.!]*/, "")) : !joinsBoxes(gap) || !/\b(?:and|or)\b|,/.test(gap))
      break;
    parts.unshift(tail.slice(open + 1, close));
    end = open;
  }
  return parts.length > 1 ? parts.join(", ") : undefined;
}

/** A sentence's only number spelled in words: "There are twenty-one ways." */
function spelledNumber(s: string): string | undefined {
  const last = s.trimEnd().slice(-300);
  const m = last.match(
    /\b(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)\b/gi,
  );
  return m !== null && m.length === 1 ? m[0] : undefined;
}

/** "Soucis : 2,74 $ a..": the last line's only number, followed by a currency sign. */
function moneyOnLastLine(s: string): string | undefined {
  const line = s.trimEnd().slice(s.trimEnd().lastIndexOf("\n") + 1);
  if (line.length > 300 || (line.match(NUMBER) ?? []).length !== 1) return undefined;
  return /(?<![\w.,])(-?\d[\d,]*(?:\.\d+)?)\s*(?:\\?\$|€|£)/.exec(line)?.[1];
}

function lastNumber(s: string): string | undefined {
  const re = new RegExp(NUMBER.source, "g");
  let last: string | undefined;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) last = m[0];
  return last?.replace(/,(?!\d{3})/g, "");
}

const CONNECTIVES = /^(?:or|and)$/;
const FUNCTION_WORDS = /^(?:sin|cos|tan|sec|csc|cot|ln|log|exp|sqrt|pi|arcsin|arccos|arctan)$/;

function mathyWord(w: string): boolean {
  if (w.includes(SCRIPT_BREAK)) return false;
  const bare = w.replace(/\\(?:begin|end)\{[a-zA-Z*]+\}/g, " ").replace(/\\[a-zA-Z]+/g, " ");
  const runs = bare.match(/[a-zA-Z]{2,}/g) ?? [];
  const symbolic = /[=+\-*/^_(){}\d\\|<>]/.test(w);
  return runs.every((x) => FUNCTION_WORDS.test(x) || (symbolic && x.length <= 3));
}

/** The math written at the end of the last line: "so the distance is \sqrt{17}" → "\sqrt{17}". */
function tailExpression(s: string): string | undefined {
  const lines = s.trimEnd().split("\n");
  const last = trimEnd((lines[lines.length - 1] ?? "").trim(), ".!").replace(
    /\\text\{\s*(or|and)\s*\}/g,
    " $1 ",
  );
  const words = last.split(/\s+/).filter((w) => w !== "");
  while (words.length > 0 && (words[words.length - 1] === SCRIPT_BREAK || words[words.length - 1] === "."))
    words.pop();
  let start = words.length;
  while (start > 0 && (mathyWord(words[start - 1]!) || CONNECTIVES.test(words[start - 1]!))) start--;
  while (start < words.length && CONNECTIVES.test(words[start]!)) start++;
  const tail = words
    .slice(start)
    .join(" ")
    .replace(/^(?:[:,=]|\\approx)+/, "")
    .trim();
  return /[\d\\()[\]{}=<>^+\-*/|]|^[a-zA-Z]$/.test(tail) ? tail : undefined;
}

function byStrategy(s: string, strategy: ExtractionStrategy, opts: ExtractionOptions): string | undefined {
  switch (strategy) {
    case "answer_tag": {
      const lower = s.toLowerCase();
      const end = lower.lastIndexOf("</answer>");
      if (end < 0) return undefined;
      const start = lower.lastIndexOf("<answer>", end);
      if (start < 0) return undefined;
      const body = s.slice(start + "<answer>".length, end);
      return refineSegment(body) ?? body.trim();
    }
    case "gsm8k":
      return gsm8kAnswer(s);
    case "minerva": {
      // "Final Answer: The final answer is X. I hope it is correct." closes Minerva-style answers.
      const lower = s.toLowerCase();
      const hope = lower.lastIndexOf("i hope it is correct");
      if (hope < 0) return undefined;
      const anchor = "final answer is";
      const at = lower.lastIndexOf(anchor, hope);
      if (at >= 0 && hope - at <= 320) return refineSegment(s.slice(at + anchor.length, hope));
      // No "final answer is": the sentence just before "I hope it is correct" states the answer.
      const before = trimEnd(s.slice(Math.max(0, hope - 400), hope), " \t\n\r.");
      const cut = Math.max(before.lastIndexOf(". "), before.lastIndexOf("\n"));
      const sentence = before.slice(cut + 1);
      return mathSpans(sentence).length === 0 && boxedContents(sentence).length === 0
        ? singleNumber(sentence)
        : refineSegment(sentence);
    }
    case "boxed":
      if (opts.boxed !== "first") return lastBoxedAnswer(s);
      return boxedWithGaps(s)[0]?.body ?? boxedContents(s).at(-1);
    case "final_answer": {
      const seg = lastMatchSegment(s, /final answer(?:\s+is)?\s*[:：]?\s*(?:\$?\\boxed)?/gi);
      return seg === undefined ? undefined : refineSegment(seg);
    }
    case "answer_colon": {
      const seg = lastMatchSegment(
        s,
        /\b(?:answer|(?:correct\s+)?(?:option|choice))(?:\s+is|\s*[:：]|\s*=)\s*/gi,
      );
      return seg === undefined ? undefined : refineSegment(seg);
    }
    case "bold": {
      const re = /\*\*([^*\n]{1,300})\*\*/g;
      let last: string | undefined;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const body = m[1]!.replaceAll(SCRIPT_BREAK, " ").replace(/^\s*(?:final\s+)?answer\s*[:：]?\s*/i, "");
        // Only bold math counts: "**Step 1:**" or "**Case 2**" are headings, not answers.
        const words = body.replace(/\$/g, " ").trim().split(/\s+/);
        if (/\d|\\|\$/.test(body) && words.every((w) => mathyWord(w) && !/:$/.test(w))) last = body;
      }
      if (last === undefined) return undefined;
      return refineSegment(last);
    }
    case "last_math": {
      const spans = mathSpans(s);
      if (spans.length === 0)
        return moneyOnLastLine(s) ?? tailExpression(s) ?? lastNumber(s) ?? spelledNumber(s);
      const joined = joinedLastSpans(s);
      if (joined !== undefined) return joined;
      // A sentence after the last math that states one number is the conclusion:
      // "... $$\frac{a}{b} \ge 2.$$ Therefore, the error increases by 100%."
      const after = s
        .slice(s.lastIndexOf(spans[spans.length - 1]!) + spans[spans.length - 1]!.length)
        .replace(/^(?:\$\$|\$|\\\]|\\\))/, "");
      const endsSentence = /[.!?]\s*$/.test(spans[spans.length - 1]!) && /^\s*\$*\s*[A-Z]/.test(after);
      const conclusion =
        endsSentence || /[.!?:]\s*\$*\s+|\n/.test(after) ? finalSentenceNumber(after) : undefined;
      if (conclusion !== undefined) return conclusion;
      const last = spans[spans.length - 1]!;
      // Prose inside the delimiters ("$? just about 1$") is not one expression.
      if (PROSE.test(last.replace(/\\text\{[^{}]*\}/g, " ").replace(/\\[a-zA-Z]+/g, " ")))
        return tailExpression(last) ?? lastNumber(last) ?? last;
      return last;
    }
  }
}

/**
 * Responses in other scripts: answer anchors become English ("答案：" → "answer:"), full-width
 * punctuation becomes ASCII, and words in scripts that never spell math (Han, Devanagari,
 * Arabic, Cyrillic, ...) become spaces, so "体重是192公斤。" ends in the number 192. Latin
 * (with accents) and Greek letters are kept: they spell variables, units and constants.
 */
const FULL_WIDTH: Readonly<Record<string, string>> = {
  "。": ". ",
  "，": ", ",
  "：": ": ",
  "；": "; ",
  "（": "(",
  "）": ")",
  "！": "! ",
  "？": "? ",
  "।": ". ",
  "、": ", ",
};
const OTHER_SCRIPTS =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Cyrillic}\p{Script=Thai}\p{Script=Tamil}\p{Script=Telugu}\p{M}]+/gu;

export function latinize(s: string): string {
  if (!/[^\x00-\x7f]/.test(s)) return s;
  return s
    .replace(
      /(?:答案|答)\s*(?:是|为|[:：])|(?:उत्तर|जवाब)\s*[:：]?|(?:الإجابة|الجواب)\s*[:：]?|\bR[ée]ponse\s*(?=[:：])|\bОтвет\s*(?=[:：])/g,
      " answer: ",
    )
    .replace(/[。，：；（）！？।、]/g, (c) => FULL_WIDTH[c] ?? " ")
    .replace(OTHER_SCRIPTS, ` ${SCRIPT_BREAK} `);
}

/** Stands where a word in another script was: it ends a tail expression, and is removed from answers. */
const SCRIPT_BREAK = "\uE000";

/**
 * The budget of the extraction under way: its character loops tick it, so a hostile response
 * ends as a time-budget error instead of running on. Extraction is synchronous, so one slot is
 * enough; it is a no-op outside extractCandidates.
 */
let tick: () => void = () => undefined;

/** Candidate answers in priority order (at most one per strategy). */
export function extractCandidates(
  response: string,
  opts: ExtractionOptions,
  maxLength: number,
  budget?: Budget,
): Extracted[] {
  if (budget === undefined) return extractAll(response, opts, maxLength);
  const outer = tick;
  tick = () => budget.tick();
  try {
    return extractAll(response, opts, maxLength);
  } finally {
    tick = outer;
  }
}

function extractAll(response: string, opts: ExtractionOptions, maxLength: number): Extracted[] {
  const s = latinize(response.length > maxLength ? response.slice(response.length - maxLength) : response);
  const out: Extracted[] = [];
  for (const strategy of opts.strategies) {
    tick();
    const text = byStrategy(s, strategy, opts)?.replaceAll(SCRIPT_BREAK, " ").trim();
    if (text !== undefined && text !== "") out.push({ text, strategy });
  }
  return out;
}
