// Python string and `re` semantics that IFEval's reference implementation depends on, for
// the `reference.compat: "ifeval"` mode. JavaScript differs from CPython in which
// characters are whitespace (Python adds \x1c–\x1f and \x85, drops \ufeff), in `\w`, `\d`
// and `\b` (ASCII-only in JS even with the u flag), in `.` (Python excludes only \n) and in
// `$` (Python's also matches before a final newline). These helpers give the Python answer.

/** The characters of Python's `str.isspace()`, which is also what `re`'s `\s` and `str.split()` use. */
export const PY_SPACE_CHARS =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const SPACE_SET = new RegExp(`[${PY_SPACE_CHARS}]`, "u");
/** Python's `\w` for str patterns: alphanumeric (letters, any numeric character) or `_`. */
export const PY_WORD_CHARS = "\\p{L}\\p{N}_";

export function pyIsSpace(ch: string): boolean {
  return SPACE_SET.test(ch);
}

/** Python's `s.strip()` (no argument). */
export function pyStrip(s: string): string {
  let from = 0;
  let to = s.length;
  while (from < to && pyIsSpace(s[from]!)) from++;
  while (to > from && pyIsSpace(s[to - 1]!)) to--;
  return from === 0 && to === s.length ? s : s.slice(from, to);
}

export function pyRstrip(s: string): string {
  let to = s.length;
  while (to > 0 && pyIsSpace(s[to - 1]!)) to--;
  return to === s.length ? s : s.slice(0, to);
}

const SPLIT_RE = new RegExp(`[^${PY_SPACE_CHARS}]+`, "gu");

/** Python's `s.split()` (no argument): runs of non-whitespace. */
export function pySplit(s: string): string[] {
  return s.match(SPLIT_RE) ?? [];
}

/** The first code point of `s` (Python's `s[0]`), or "" for an empty string. */
export function firstCodePoint(s: string): string {
  const cp = s.codePointAt(0);
  return cp === undefined ? "" : String.fromCodePoint(cp);
}

const W = `[${PY_WORD_CHARS}]`;
/** Python's `\b` in Unicode mode, as lookarounds (JS's `\b` knows only ASCII word characters). */
export const PY_BOUNDARY = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;
const NOT_BOUNDARY = `(?:(?<=${W})(?=${W})|(?<!${W})(?!${W}))`;
/** Python's `$` without MULTILINE: the end, or just before a newline that ends the string. */
export const PY_END = "(?=\\n?(?![\\s\\S]))";

const OUTSIDE: Readonly<Record<string, string>> = {
  w: W,
  W: `[^${PY_WORD_CHARS}]`,
  d: "\\p{Nd}",
  D: "\\P{Nd}",
  s: `[${PY_SPACE_CHARS}]`,
  S: `[^${PY_SPACE_CHARS}]`,
  b: PY_BOUNDARY,
  B: NOT_BOUNDARY,
  A: "^",
  Z: "(?![\\s\\S])",
};
const INSIDE: Readonly<Record<string, string>> = { w: PY_WORD_CHARS, d: "\\p{Nd}", s: PY_SPACE_CHARS };
const SYNTAX = "^$\\.*+?()[]{}|/";

/**
 * Translates a Python `re` pattern (as IFEval passes keywords and markers) into the source
 * of an equivalent JavaScript regex for the `u` flag. Covers what such patterns use:
 * literals, classes, groups, quantifiers, the `\w \d \s \b` family with Python's Unicode
 * meanings, `.` and `$`. Anything else that JS cannot express the same way throws, so the
 * caller can report the kwarg rather than judge by a different pattern.
 */
export function pyRegexSource(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) throw new Error("pattern ends with a backslash");
      i++;
      const mapped = inClass ? INSIDE[next] : OUTSIDE[next];
      if (mapped !== undefined) out += mapped;
      else if (inClass && "WDSbB".includes(next)) throw new Error(`\\${next} inside a character class`);
      else if (/[0-9A-Za-z]/.test(next)) out += `\\${next}`;
      else if (SYNTAX.includes(next) || (inClass && next === "-")) out += `\\${next}`;
      else out += `\\u{${next.codePointAt(0)!.toString(16)}}`;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      out += ch;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += ch;
      // Python allows a literal `]` first in a class; JS needs it escaped.
      if (pattern[i + 1] === "^") out += pattern[++i];
      if (pattern[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (ch === ".") out += "[^\\n]";
    else if (ch === "$") out += PY_END;
    else if (ch === "(" && pattern.startsWith("(?P<", i)) {
      out += "(?<";
      i += 3;
    } else if (ch === "(" && pattern[i + 1] === "?" && !/[:=!<]/.test(pattern[i + 2] ?? "")) {
      throw new Error(`unsupported group syntax at offset ${i}`);
    } else out += ch;
  }
  if (inClass) throw new Error("unterminated character class");
  return out;
}

/** A JS RegExp behaving as Python's `re.compile(pattern, flags)`; throws when it cannot. */
export function pyRegex(pattern: string, flags: { ignoreCase?: boolean; global?: boolean } = {}): RegExp {
  return new RegExp(pyRegexSource(pattern), `u${flags.ignoreCase ? "i" : ""}${flags.global ? "g" : ""}`);
}
