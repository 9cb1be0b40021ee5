// Code extraction as SandboxFusion's /submit does it, so a completion judged here yields
// the `extracted_code` SandboxFusion would have judged. Behaviour transcribed from
// bytedance/SandboxFusion sandbox/utils/extraction.py (default_extract_helper,
// extract_code_from_freeform_completion) at 469de08; the regexes are the same patterns.
// `custom_extract_logic` (Python the client sends for the server to exec) is not supported.

export interface CodeBlock {
  priority: number;
  language: string;
  code: string;
}

const ALIASES: Record<string, string[]> = {
  python: ["python", "Python", "py", "Python3", "python3", "PY"],
  cpp: ["cpp", "c++", "C++", "Cpp", "CPP"],
  nodejs: ["javascript", "Javascript", "JavaScript", "JS", "js"],
  go: ["go", "Go"],
  java: ["java", "Java"],
  csharp: ["csharp", "c#", "C#"],
  bash: ["bash", "Bash", "BASH", "sh", "shell"],
  typescript: ["typescript"],
  sql: ["sql", "SQL", "Sql"],
  D: ["D", "d"],
  julia: ["julia", "Julia", "jl"],
  lua: ["lua", "Lua"],
  php: ["php", "PHP"],
  perl: ["perl", "Perl", "PERL"],
  R: ["R", "r"],
  ruby: ["ruby", "Ruby"],
  rust: ["rust", "Rust", "rs"],
  scala: ["scala", "Scala"],
  kotlin: ["kotlin", "Kotlin"],
  c: ["c", "C"],
  html: ["html", "Html", "HTML"],
  javascript: ["javascript", "Javascript", "JavaScript"],
  verilog: ["verilog", "Verilog", "VERILOG"],
  racket: ["racket"],
  swift: ["swift"],
};

/** Alias → language; later entries win, as in Python's dict comprehension (`js` → nodejs, `javascript` → javascript). */
const ALIAS_TO_LANGUAGE = new Map<string, string>();
for (const [lang, aliases] of Object.entries(ALIASES))
  for (const a of aliases) ALIAS_TO_LANGUAGE.set(a, lang);

// SandboxFusion's patterns, matched by linear scans rather than the regexes themselves: a
// completion is hostile, and on these patterns a backtracking engine is quadratic (1 MB of
// "a```\n" or of "#a\n" lines would hold the server's event loop for minutes). Each scan
// gives exactly the matches of the regex named above it (a differential test checks this).

const WS = /\s/;
const isWs = (c: string | undefined): boolean => c !== undefined && WS.test(c);

/** The `\n\s*```` closings: for each "```" preceded by a whitespace run holding a newline. */
interface Closing {
  /** Start of the whitespace run before the backticks. */
  runStart: number;
  /** Where the backticks start. */
  ticks: number;
}

function closings(text: string): Closing[] {
  const out: Closing[] = [];
  for (let k = text.indexOf("```"); k >= 0; k = text.indexOf("```", k + 1)) {
    let r = k;
    while (r > 0 && isWs(text[r - 1])) r--;
    const nl = text.indexOf("\n", r);
    if (nl >= 0 && nl < k) out.push({ runStart: r, ticks: k });
  }
  return out;
}

/**
 * /```([^\n]*)\n([\s\S]*?)\n\s*```/g: the header runs to the first newline; the body ends at
 * the first newline that only whitespace separates from a later "```". An opening with no
 * closing after it means no later opening has one either, so the scan stops there.
 */
function fencedMatches(text: string): [string, string][] {
  const close = closings(text);
  const out: [string, string][] = [];
  let c = 0;
  for (let p = 0; ; ) {
    const open = text.indexOf("```", p);
    const header = open < 0 ? -1 : text.indexOf("\n", open + 3);
    if (header < 0) return out;
    const bodyStart = header + 1;
    // The first closing whose run has a newline at or after the body's start.
    while (c < close.length && (close[c] as Closing).ticks <= bodyStart) c++;
    while (c < close.length && text.lastIndexOf("\n", (close[c] as Closing).ticks - 1) < bodyStart) c++;
    const hit = close[c];
    if (hit === undefined) return out;
    const end = text.indexOf("\n", Math.max(hit.runStart, bodyStart));
    out.push([text.slice(open + 3, header), text.slice(bodyStart, end)]);
    p = hit.ticks + 3;
    c++;
  }
}

/** /```([^\n]*)\n([\s\S]*)/g: one match at most, from the first opening with a newline after it to the end. */
function incompleteMatches(text: string): [string, string][] {
  const open = text.indexOf("```");
  const header = open < 0 ? -1 : text.indexOf("\n", open + 3);
  return header < 0 ? [] : [[text.slice(open + 3, header), text.slice(header + 1)]];
}

function blocks(matches: [string, string][], priority: number): CodeBlock[] {
  return matches.map(([header, code]) => ({
    priority,
    language: ALIAS_TO_LANGUAGE.get(header.trim()) ?? "",
    code,
  }));
}

export const extractFenced = (text: string): CodeBlock[] => blocks(fencedMatches(text), 30);
const extractIncomplete = (text: string): CodeBlock[] => blocks(incompleteMatches(text), 20);

function nonEmptyLines(text: string): string {
  return `${text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .join("\n")}\n`;
}

const isHeaderLine = (l: string): boolean =>
  (l.startsWith("import") && l.length > 6) ||
  (l.startsWith("from") && l.length > 4) ||
  (l.startsWith("#") && l.length > 1);
const isDefLine = (l: string): boolean =>
  (l.startsWith("def ") && l.length > 4) || (l.startsWith("class ") && l.length > 6);
// Lines here are never blank (nonEmptyLines), so `\s+[^\n]+` is "starts with whitespace".
const isBodyLine = (l: string): boolean => isWs(l[0]);

/**
 * /(?:^(?:import|from|#)[^\n]+\n)*^(?:def|class) [^\n]+\n(?:\s+[^\n]+\n)+/gm over non-blank
 * lines: a run of import/comment lines, a def or class line, then at least one indented line.
 * A run that fails fails from every line in it, so each line is looked at once.
 */
function pythonMatches(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let d = i;
    while (d < lines.length && isHeaderLine(lines[d] as string)) d++;
    if (d >= lines.length || !isDefLine(lines[d] as string)) {
      i = Math.max(d, i + 1);
      continue;
    }
    let end = d + 1;
    while (end < lines.length && isBodyLine(lines[end] as string)) end++;
    if (end === d + 1) {
      i = d + 1;
      continue;
    }
    out.push(`${lines.slice(i, end).join("\n")}\n`);
    i = end;
  }
  return out;
}

function extractHeuristic(text: string, language: string): CodeBlock[] {
  if (language === "python") {
    // The last element is the empty text after the final newline; no match can use it.
    const lines = nonEmptyLines(text).split("\n").slice(0, -1);
    return pythonMatches(lines).map((code) => ({ priority: 10, language, code }));
  }
  if (language === "sql") {
    // Linear as a regex: each attempt starts at a line start and runs to the next ';'.
    const pattern = /^\s*(?:select|with\s[^\n]+as)[^;]*/gim;
    return [...nonEmptyLines(text).matchAll(pattern)].map((m) => ({ priority: 10, language, code: m[0] }));
  }
  if (language === "bash") return [{ priority: 10, language, code: nonEmptyLines(text) }];
  return [];
}

/** default_extract_helper: the first block of the highest priority in the language, else the first of that priority. */
export function defaultExtract(completion: string, language: string): string {
  let all = [
    ...extractFenced(completion),
    ...extractHeuristic(completion, language),
    ...extractIncomplete(completion),
  ];
  if (all.length === 0) return "";
  const top = Math.max(...all.map((b) => b.priority));
  all = all.filter((b) => b.priority === top);
  return (all.find((b) => b.language === language) ?? all[0])?.code ?? "";
}

export type ExtractedType = "fenced" | "incomplete_fenced" | "heuristic" | "empty";

function cutAt(code: string, marker: string, trim = true): string {
  const i = code.indexOf(marker);
  if (i < 0) return code;
  return trim ? code.slice(0, i).trim() : code.slice(0, i);
}

/** extract_code_from_freeform_completion(completion, language, first_block_only) with no kwargs. */
export function extractFreeform(
  completion: string,
  language: string,
  firstBlockOnly: boolean,
): { code: string; type: ExtractedType } {
  let type: ExtractedType = "empty";
  let found = extractFenced(completion);
  if (found.length > 0) type = "fenced";
  else {
    found = extractIncomplete(completion);
    if (found.length > 0) type = "incomplete_fenced";
    else {
      found = extractHeuristic(completion, language);
      if (found.length > 0) type = "heuristic";
    }
  }
  let code = firstBlockOnly
    ? (found[0]?.code ?? "").replaceAll("\r", "")
    : found
        .map((b) => b.code)
        .join("\n\n")
        .replaceAll("\r", "");
  if (language === "python") code = cutAt(code, 'if __name__ == "__main__":');
  else if (language === "cpp") code = cutAt(code, "int main()");
  else if (language === "java") {
    if (code.includes("public class Main {\n")) {
      code = code
        .replaceAll("public class Main {\n", "class Solution {\n")
        .replaceAll("public static void main(String[] args)", "");
    }
  } else if (language === "go") code = code.replaceAll("package main", "");
  code = cutAt(code, "# Example usage");
  return { code, type };
}
