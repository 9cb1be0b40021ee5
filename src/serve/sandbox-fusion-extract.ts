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

// ```lang\n(.*?)\n\s*```  with DOTALL, and the incomplete (unterminated) variant.
const FENCED = /```([^\n]*)\n([\s\S]*?)\n\s*```/g;
const INCOMPLETE = /```([^\n]*)\n([\s\S]*)/g;

function blocks(re: RegExp, text: string, priority: number): CodeBlock[] {
  return [...text.matchAll(re)].map((m) => ({
    priority,
    language: ALIAS_TO_LANGUAGE.get((m[1] ?? "").trim()) ?? "",
    code: m[2] ?? "",
  }));
}

export const extractFenced = (text: string): CodeBlock[] => blocks(FENCED, text, 30);
const extractIncomplete = (text: string): CodeBlock[] => blocks(INCOMPLETE, text, 20);

function nonEmptyLines(text: string): string {
  return `${text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .join("\n")}\n`;
}

function extractHeuristic(text: string, language: string): CodeBlock[] {
  if (language === "python") {
    const pattern = /(?:^(?:import|from|#)[^\n]+\n)*^(?:def|class) [^\n]+\n(?:\s+[^\n]+\n)+/gm;
    return [...nonEmptyLines(text).matchAll(pattern)].map((m) => ({ priority: 10, language, code: m[0] }));
  }
  if (language === "sql") {
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
