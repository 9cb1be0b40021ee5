// Finds the solution in a model response: the last fenced block in the target language,
// else (by default) the last fenced block with no language tag. Never a guess from prose.
//
// One pass over the lines, no regex over the whole text: a response is hostile input, and
// the pattern this replaced (an opening fence, a lazy body, a back-referenced closing fence)
// rescanned the rest of the text from every unclosed fence — quadratic, so 10 KB of
// "```python\n" took 0.1 s and 100 KB of spaces after a fence 10 s. Each character is now
// looked at a bounded number of times, and the deadline is checked as the scan goes.
import { DataScaleError } from "../../core/errors.ts";

export interface Extracted {
  code: string;
  /** The fence's info string's first word, lower-cased ("" for an untagged block). */
  tag: string;
}

export interface ExtractOptions {
  /** Accept the last untagged block when none is tagged with the language. Default true. */
  allowUntagged?: boolean;
  /** performance.now() after which the scan stops with a `time_budget` error. */
  deadline?: number;
}

interface Fence {
  char: number;
  length: number;
  /** Index of the first character after the fence run. */
  end: number;
}

const BACKTICK = 0x60;
const TILDE = 0x7e;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
/** Lines between deadline checks. */
const CHECK_EVERY = 1024;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/** The run of ≥ 3 backticks or tildes starting line [from, to) after its indentation, if any. */
function fenceAt(text: string, from: number, to: number): Fence | undefined {
  let i = from;
  while (i < to && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
  const char = text.charCodeAt(i);
  if (char !== BACKTICK && char !== TILDE) return undefined;
  let j = i;
  while (j < to && text.charCodeAt(j) === char) j++;
  return j - i >= 3 ? { char, length: j - i, end: j } : undefined;
}

/**
 * The info string's first word if line [from, to) opens a block with `fence`, else undefined.
 * A backtick fence's info string may not contain a backtick (CommonMark): "```x```" is inline.
 */
function openingTag(text: string, fence: Fence, to: number): string | undefined {
  if (fence.char === BACKTICK)
    for (let k = fence.end; k < to; k++) if (text.charCodeAt(k) === BACKTICK) return undefined;
  let i = fence.end;
  while (i < to && isBlank(text.charCodeAt(i))) i++;
  let j = i;
  while (j < to && !isBlank(text.charCodeAt(j))) j++;
  return text.slice(i, j).toLowerCase();
}

/**
 * If line [from, to) closes a block opened by `open`, where that block's code ends: the line
 * ends (trailing blanks aside) with a run of at least as many of the same fence characters.
 * The run may follow code on the same line ("    return x```"), as the graders' regexes
 * allow; on a line of its own (indented or not) the line break before it is not code.
 */
function closingAt(text: string, open: Fence, from: number, to: number): number | undefined {
  let end = to;
  while (end > from && isBlank(text.charCodeAt(end - 1))) end--;
  let start = end;
  while (start > from && text.charCodeAt(start - 1) === open.char) start--;
  if (end - start < open.length) return undefined;
  let code = start;
  while (code > from && isBlank(text.charCodeAt(code - 1))) code--;
  return code === from ? from - 1 : code;
}

function checkDeadline(deadline: number | undefined): void {
  if (deadline !== undefined && performance.now() > deadline)
    throw new DataScaleError("time_budget", "time budget spent while extracting the code block");
}

export interface FencedBlocks {
  blocks: Extracted[];
  /** A fence was opened and never closed (typically a response cut off at its length limit). */
  unclosed: boolean;
}

/** Every closed fenced block, in order, in one linear pass over the lines. */
export function scanFences(text: string, deadline?: number): FencedBlocks {
  const blocks: Extracted[] = [];
  let open: { fence: Fence; tag: string; body: number } | undefined;
  let lineNo = 0;
  for (let from = 0; from <= text.length; ) {
    if (++lineNo % CHECK_EVERY === 0) checkDeadline(deadline);
    const nl = text.indexOf("\n", from);
    const to = nl === -1 ? text.length : nl;
    if (open === undefined) {
      const fence = fenceAt(text, from, to);
      const tag = fence === undefined ? undefined : openingTag(text, fence, to);
      if (fence !== undefined && tag !== undefined) open = { fence, tag, body: to + 1 };
    } else {
      const close = closingAt(text, open.fence, from, to);
      if (close !== undefined) {
        const end = Math.max(open.body, close);
        const cr = end > open.body && text.charCodeAt(end - 1) === CR;
        blocks.push({ code: text.slice(open.body, cr ? end - 1 : end), tag: open.tag });
        open = undefined;
      }
    }
    if (nl === -1) break;
    from = nl + 1;
  }
  return { blocks, unclosed: open !== undefined };
}

export function fencedBlocks(text: string, deadline?: number): Extracted[] {
  return scanFences(text, deadline).blocks;
}

export type ExtractResult = { ok: true; code: string; tag: string } | { ok: false; reason: string };

export function extractSolution(
  response: string,
  fenceTags: readonly string[],
  options: ExtractOptions = {},
): ExtractResult {
  const { blocks, unclosed } = scanFences(response, options.deadline);
  if (blocks.length === 0) {
    const reason = unclosed
      ? "no fenced code block in the response (a fence is opened and never closed: cut off?)"
      : "no fenced code block in the response";
    return { ok: false, reason };
  }
  let tagged: Extracted | undefined;
  let untagged: Extracted | undefined;
  for (const b of blocks) {
    if (fenceTags.includes(b.tag)) tagged = b;
    else if (b.tag === "") untagged = b;
  }
  const pick = tagged ?? (options.allowUntagged !== false ? untagged : undefined);
  if (pick === undefined) {
    const seen = [...new Set(blocks.map((b) => b.tag || "(untagged)"))].slice(0, 10).join(", ");
    return { ok: false, reason: `no code block in ${fenceTags[0]} (found: ${seen})` };
  }
  if (pick.code.trim() === "") return { ok: false, reason: "the selected code block is empty" };
  return { ok: true, code: pick.code, tag: pick.tag };
}
