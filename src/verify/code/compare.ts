// Output comparison like the established graders. `lines` (default): line by line,
// whitespace runs and trailing blank lines ignored (LiveCodeBench/APPS behaviour without
// APPS' order-blind set fallback). `float`: as lines, plus numeric tokens equal within
// tolerance — integers are still compared exactly, so 10^17 and 10^17+1 differ (the
// np.allclose pitfall LiveCodeBench warns about). `exact`: byte-for-byte.
import { z } from "zod";

export const CompareOptions = z.object({
  mode: z.enum(["lines", "float", "exact"]).default("lines"),
  /** Relative tolerance for `float`. */
  rtol: z.number().nonnegative().default(1e-6),
  /** Absolute tolerance for `float`. */
  atol: z.number().nonnegative().default(1e-6),
});
export type CompareOptions = z.infer<typeof CompareOptions>;

const INTEGER = /^[+-]?\d+$/;
// No two parts of the pattern can match the same digits (the optional dot comes with its
// fraction), so a token of a million digits and a letter fails in linear time.
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i;

function toNumber(token: string): number {
  const t = token.toLowerCase().replace(/^\+/, "");
  if (t === "inf" || t === "infinity") return Number.POSITIVE_INFINITY;
  if (t === "-inf" || t === "-infinity") return Number.NEGATIVE_INFINITY;
  return Number(t);
}

/**
 * The lines of a text one at a time (CR LF and lone CR are line breaks), without splitting the
 * whole text up front: outputs run to megabytes, and most lines compare equal as strings.
 */
class Lines {
  readonly #text: string;
  #pos = 0;
  constructor(text: string) {
    this.#text = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  }
  next(): string | undefined {
    if (this.#pos > this.#text.length) return undefined;
    const nl = this.#text.indexOf("\n", this.#pos);
    const end = nl === -1 ? this.#text.length : nl;
    const line = this.#text.slice(this.#pos, end);
    this.#pos = end + 1;
    return line;
  }
  /** Whether every line left is blank (trailing blank lines are ignored). */
  restBlank(): boolean {
    for (let l = this.next(); l !== undefined; l = this.next()) if (l.trim() !== "") return false;
    return true;
  }
}

function tokens(line: string): string[] {
  const t = line.trim();
  return t === "" ? [] : t.split(/\s+/);
}

export function numbersClose(a: number, b: number, o: CompareOptions): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= o.atol + o.rtol * Math.abs(b);
}

function tokensEqual(got: string, want: string, o: CompareOptions): boolean {
  if (got === want) return true;
  if (o.mode !== "float") return false;
  if (INTEGER.test(got) && INTEGER.test(want)) return BigInt(got) === BigInt(want);
  if (NUMBER.test(got) && NUMBER.test(want)) return numbersClose(toNumber(got), toNumber(want), o);
  return false;
}

function lineMatches(got: string, want: string, o: CompareOptions): boolean {
  if (got === want) return true;
  const gt = got.trim();
  const wt = want.trim();
  if (gt === wt) return true;
  const g = tokens(gt);
  const w = tokens(wt);
  return g.length === w.length && g.every((t, j) => tokensEqual(t, w[j] as string, o));
}

export function outputsMatch(got: string, want: string, options: CompareOptions): boolean {
  if (options.mode === "exact" || got === want) return got === want;
  const g = new Lines(got);
  const w = new Lines(want);
  for (;;) {
    const a = g.next();
    const b = w.next();
    if (a === undefined) return b === undefined || (b.trim() === "" && w.restBlank());
    if (b === undefined) return a.trim() === "" && g.restBlank();
    if (!lineMatches(a, b, options)) return false;
  }
}

/** Deep equality of JSON values (function-call style); numbers within tolerance in `float` mode. */
export function valuesMatch(got: unknown, want: unknown, options: CompareOptions): boolean {
  if (typeof got === "number" && typeof want === "number") {
    if (got === want) return true;
    return options.mode === "float" && numbersClose(got, want, options);
  }
  if (Array.isArray(got) && Array.isArray(want)) {
    return got.length === want.length && got.every((g, i) => valuesMatch(g, want[i], options));
  }
  if (got !== null && want !== null && typeof got === "object" && typeof want === "object") {
    if (Array.isArray(got) || Array.isArray(want)) return false;
    const gk = Object.keys(got).sort();
    const wk = Object.keys(want).sort();
    if (gk.length !== wk.length || gk.some((k, i) => k !== wk[i])) return false;
    return gk.every((k) =>
      valuesMatch((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], options),
    );
  }
  return got === want;
}

const NUMBER_PREFIX = /^[+-]?(?:\d+(?:\.\d*)?|\.\d*)?(?:[eE][+-]?\d*)?$/;

/** Could `token`, cut short, still become `want` (or, in float mode, a number close to it)? */
function tokenPrefixOk(token: string, want: string, o: CompareOptions): boolean {
  if (want.startsWith(token)) return true;
  // A number cut short may still be written to more digits than the expected one has.
  return o.mode === "float" && NUMBER_PREFIX.test(token) && NUMBER.test(want);
}

/** Could line `got`, cut off somewhere, still become a line that `want` accepts? */
function lineCouldMatch(got: string, want: string, o: CompareOptions): boolean {
  if (want.startsWith(got)) return true;
  const g = tokens(got);
  const w = tokens(want);
  if (g.length > w.length) return false;
  // The last token may lack characters, unless the line ended in whitespace after it.
  const cut = g.length > 0 && !/\s$/.test(got);
  return g.every((t, j) =>
    cut && j === g.length - 1 ? tokenPrefixOk(t, w[j] as string, o) : tokensEqual(t, w[j] as string, o),
  );
}

/**
 * Whether `prefix` — a program's output cut off at a limit of ours — could still be the start
 * of an output that `want` accepts. False means the output is already wrong whatever follows
 * (output limit exceeded: a wrong answer); true means our limit, not the program, decided.
 */
export function couldStillMatch(prefix: string, want: string, options: CompareOptions): boolean {
  if (options.mode === "exact") return want.startsWith(prefix);
  const g = new Lines(prefix);
  const w = new Lines(want);
  for (let a = g.next(); a !== undefined; ) {
    const next = g.next();
    const b = w.next();
    // Beyond the expected lines only blank lines are accepted.
    if (b === undefined) {
      if (a.trim() !== "") return false;
    } else if (next === undefined ? !lineCouldMatch(a, b, options) : !lineMatches(a, b, options))
      return false;
    a = next;
  }
  return true;
}
