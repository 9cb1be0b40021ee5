// Finding the final answer in a free-form response. Strategies are tried in priority order
// (configurable); within a strategy the last occurrence wins by default, because models
// restate the question and intermediate results before concluding.

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
  let end = s.length;
  while (end > 0) {
    const nl = s.lastIndexOf("\n", end - 1);
    const line = s.slice(nl + 1, end);
    end = nl < 0 ? 0 : nl;
    const at = line.indexOf("####");
    if (at < 0 || line.slice(0, at).trim() !== "" || line.length > 4 + at + 200) continue;
    const body = line
      .slice(at + 4)
      .replace(/\*\*/g, "")
      .trim()
      .replace(/^\$\s*(?=[-\d.])|^\\\$\s*/, "")
      .replace(/(?<=\d),(?=\d{3}(?!\d))/g, "")
      .replace(/[.;!]+$/, "")
      .trim();
    if (!/^[-+−]?\s*(?:\$|\\\$)?\s*\.?\d/.test(body)) continue;
    const signed = body.replace(/^([-+−])\s*(?:\\?\$)\s*/, "$1");
    // "#### 18 clips": the number, not the unit word after it.
    const lead = /^[-+−]?(?:\d+(?:\.\d+)?|\.\d+)%?(?=\s+[A-Za-z][A-Za-z\s]*$)/.exec(signed);
    return lead === null ? signed : lead[0];
  }
  return undefined;
}

/** Contents of every \boxed{...} / \fbox{...} with balanced braces, left to right. */
export function boxedContents(s: string): string[] {
  const out = boxedSpans(s).map((b) => s.slice(b.start, b.end));
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
    const c = s[i];
    if (c === "\\") {
      head.lastIndex = i;
      if (head.test(s)) {
        depth++;
        open.push({ head: i, start: head.lastIndex, depth });
        i = head.lastIndex - 1;
      } else i++;
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

const JOINER = /^(?:\s|\$|,|;|\\quad|\\qquad|\\[,;! ]|\\text\{\s*(?:and|or)\s*\}|\band\b|\bor\b|\\\]|\\\[)*$/;

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
  while (i < s.length) {
    const c = s[i];
    if (c !== "$" && c !== "\\") {
      i++;
      continue;
    }
    const k = kinds.findIndex((kd, n) => !dead.has(n) && s.startsWith(kd.open, i));
    if (k < 0) {
      i += c === "\\" ? 2 : 1;
      continue;
    }
    const kind = kinds[k]!;
    const from = i + kind.open.length;
    const end = s.indexOf(kind.close, from);
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
  t = t.replace(/^[:\s]+|[\s.;,!]+$/g, "");
  if (t === "") return undefined;
  const spans = mathSpans(t);
  // "The largest $n$ is 34": the math that ends the sentence is the answer.
  if (spans.length > 0 && /(?:\$|\\\)|\\\])\s*$/.test(t)) return spans[spans.length - 1];
  const tail = tailExpression(t.replace(/\$/g, " "));
  if (tail !== undefined) return tail;
  if (spans.length > 0) return spans[0];
  // "Jane started growing it 3 hours ago": a sentence with a single number.
  const numbers = t.match(NUMBER) ?? [];
  if (numbers.length === 1) return numbers[0]!.replace(/,(?!\d{3})/g, "");
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

function lastNumber(s: string): string | undefined {
  const re = new RegExp(NUMBER.source, "g");
  let last: string | undefined;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) last = m[0];
  return last?.replace(/,(?!\d{3})/g, "");
}

const CONNECTIVES = /^(?:or|and)$/;
const FUNCTION_WORDS = /^(?:sin|cos|tan|sec|csc|cot|ln|log|exp|sqrt|pi|arcsin|arccos|arctan)$/;

function mathyWord(w: string): boolean {
  const bare = w.replace(/\\[a-zA-Z]+/g, " ");
  const runs = bare.match(/[a-zA-Z]{2,}/g) ?? [];
  const symbolic = /[=+\-*/^_(){}\d\\|<>]/.test(w);
  return runs.every((x) => FUNCTION_WORDS.test(x) || (symbolic && x.length <= 3));
}

/** The math written at the end of the last line: "so the distance is \sqrt{17}" → "\sqrt{17}". */
function tailExpression(s: string): string | undefined {
  const lines = s.trimEnd().split("\n");
  const last = (lines[lines.length - 1] ?? "")
    .trim()
    .replace(/[.!]+$/, "")
    .replace(/\\text\{\s*(or|and)\s*\}/g, " $1 ");
  const words = last.split(/\s+/).filter((w) => w !== "");
  let start = words.length;
  while (start > 0 && (mathyWord(words[start - 1]!) || CONNECTIVES.test(words[start - 1]!))) start--;
  while (start < words.length && CONNECTIVES.test(words[start]!)) start++;
  const tail = words
    .slice(start)
    .join(" ")
    .replace(/^[:,]+/, "")
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
      if (at < 0 || hope - at > 320) return undefined;
      return refineSegment(s.slice(at + anchor.length, hope));
    }
    case "boxed": {
      const boxes = boxedWithGaps(s);
      if (boxes.length === 0) return boxedContents(s).at(-1);
      if (opts.boxed === "first") return boxes[0]!.body;
      // Boxes separated only by "and", commas or spacing are one answer: \boxed{-2} and \boxed{1}.
      let k = boxes.length - 1;
      while (k > 0 && JOINER.test(boxes[k]!.gapBefore)) k--;
      return boxes
        .slice(k)
        .map((b) => b.body)
        .join(", ");
    }
    case "final_answer": {
      const seg = lastMatchSegment(s, /final answer(?:\s+is)?\s*[:：]?\s*(?:\$?\\boxed)?/gi);
      return seg === undefined ? undefined : refineSegment(seg);
    }
    case "answer_colon": {
      const seg = lastMatchSegment(s, /\banswer(?:\s+is|\s*[:：]|\s*=)\s*/gi);
      return seg === undefined ? undefined : refineSegment(seg);
    }
    case "bold": {
      const re = /\*\*([^*\n]{1,300})\*\*/g;
      let last: string | undefined;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const body = m[1]!.replace(/^\s*(?:final\s+)?answer\s*[:：]?\s*/i, "");
        // Only bold math counts: "**Step 1:**" or "**Case 2**" are headings, not answers.
        const words = body.replace(/\$/g, " ").trim().split(/\s+/);
        if (/\d|\\|\$/.test(body) && words.every((w) => mathyWord(w) && !/:$/.test(w))) last = body;
      }
      if (last === undefined) return undefined;
      return refineSegment(last);
    }
    case "last_math": {
      const spans = mathSpans(s);
      if (spans.length > 0) return spans[spans.length - 1];
      return tailExpression(s) ?? lastNumber(s);
    }
  }
}

/** Candidate answers in priority order (at most one per strategy). */
export function extractCandidates(response: string, opts: ExtractionOptions, maxLength: number): Extracted[] {
  const s = response.length > maxLength ? response.slice(response.length - maxLength) : response;
  const out: Extracted[] = [];
  for (const strategy of opts.strategies) {
    const text = byStrategy(s, strategy, opts);
    if (text !== undefined && text.trim() !== "") out.push({ text: text.trim(), strategy });
  }
  return out;
}
