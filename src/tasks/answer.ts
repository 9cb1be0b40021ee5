// Finds the final answer in a model response. Accepted, in this order of precedence: the
// last <answer>…</answer>, the last \boxed{…}, the text after the last "answer:" / "answer
// is", and otherwise the whole response (the terse format a tiny model produces for
// "12+7="). The extracted text must BE the answer when a family parses it: mentioning the
// answer somewhere in a longer text earns nothing.

export type AnswerFormat = "tag" | "boxed" | "answer-line" | "bare";

export type Extracted = { ok: true; text: string; format: AnswerFormat } | { ok: false; reason: string };

/** Responses longer than this are judged `incorrect` without parsing, bounding the work per call. */
export const MAX_RESPONSE_CHARS = 200_000;

// "Answer: 4", "The answer is 4", and the markdown forms "**Answer:** 4", "**Final Answer**: 4".
const ANSWER_MARK = /\banswer\s*\**\s*(?::|is\b)\s*\**/gi;

function lastBoxed(s: string): string | undefined {
  const at = s.lastIndexOf("\\boxed{");
  if (at < 0) return undefined;
  let depth = 0;
  const start = at + "\\boxed{".length;
  for (let i = start - 1; i < s.length; i++) {
    const c = s[i];
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return s.slice(start, i);
    }
  }
  return undefined;
}

/** `<answer>\boxed{5}</answer>` and `Answer: $\boxed{5}$` mean 5: unwrap a box that is the whole text. */
function unwrapBoxed(text: string): string {
  const inner = text.replace(/^\$+|\$+$/g, "").trim();
  if (!inner.startsWith("\\boxed{") || !inner.endsWith("}")) return text;
  const boxed = lastBoxed(inner);
  return boxed !== undefined && inner === `\\boxed{${boxed}}` ? boxed.trim() : text;
}

function stripTrailingPeriod(s: string): string {
  return s.replace(/\s*\.\s*$/, "");
}

export function extractAnswer(response: string): Extracted {
  if (response.length > MAX_RESPONSE_CHARS) return { ok: false, reason: "response_too_long" };
  // Reasoning before the answer is not the answer.
  let s = response;
  const thinkEnd = s.lastIndexOf("</think>");
  if (thinkEnd >= 0) s = s.slice(thinkEnd + "</think>".length);

  const close = s.lastIndexOf("</answer>");
  if (close >= 0) {
    const open = s.lastIndexOf("<answer>", close);
    if (open < 0) return { ok: false, reason: "unbalanced_answer_tag" };
    return { ok: true, text: unwrapBoxed(s.slice(open + "<answer>".length, close).trim()), format: "tag" };
  }
  if (s.includes("<answer>")) return { ok: false, reason: "unclosed_answer_tag" };

  const boxed = lastBoxed(s);
  if (boxed !== undefined) return { ok: true, text: boxed.trim(), format: "boxed" };
  if (s.includes("\\boxed{")) return { ok: false, reason: "unclosed_boxed" };

  let mark: RegExpExecArray | null = null;
  for (const m of s.matchAll(ANSWER_MARK)) mark = m;
  if (mark !== null) {
    const rest = s.slice(mark.index + mark[0].length);
    return { ok: true, text: unwrapBoxed(stripTrailingPeriod(rest.trim())), format: "answer-line" };
  }
  const bare = s.trim();
  if (bare === "") return { ok: false, reason: "empty_response" };
  return { ok: true, text: bare, format: "bare" };
}

/** Removes a ``` fence around a multi-line answer (code output, grids). */
export function stripFence(text: string): string {
  const m = /^```[a-zA-Z0-9_-]*\n([\s\S]*?)\n?```$/.exec(text.trim());
  return m ? (m[1] as string) : text;
}

/** Removes one layer of surrounding quotes or \text{…} / \mathrm{…}. */
export function unwrapText(text: string): string {
  let s = text.trim();
  const tex = /^\\(?:text|mathrm|texttt|textbf)\{([\s\S]*)\}$/.exec(s);
  if (tex) s = (tex[1] as string).trim();
  if (
    s.length >= 2 &&
    ((s[0] === '"' && s.endsWith('"')) ||
      (s[0] === "'" && s.endsWith("'")) ||
      (s[0] === "`" && s.endsWith("`")))
  ) {
    s = s.slice(1, -1);
  }
  return s;
}
