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
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i;

function toNumber(token: string): number {
  const t = token.toLowerCase().replace(/^\+/, "");
  if (t === "inf" || t === "infinity") return Number.POSITIVE_INFINITY;
  if (t === "-inf" || t === "-infinity") return Number.NEGATIVE_INFINITY;
  return Number(t);
}

function lines(text: string): string[][] {
  const ls = text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.trim().split(/\s+/).filter(Boolean));
  while (ls.length > 0 && ls[ls.length - 1]?.length === 0) ls.pop();
  return ls;
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

export function outputsMatch(got: string, want: string, options: CompareOptions): boolean {
  if (options.mode === "exact") return got === want;
  const g = lines(got);
  const w = lines(want);
  if (g.length !== w.length) return false;
  for (let i = 0; i < g.length; i++) {
    const gl = g[i] as string[];
    const wl = w[i] as string[];
    if (gl.length !== wl.length) return false;
    for (let j = 0; j < gl.length; j++)
      if (!tokensEqual(gl[j] as string, wl[j] as string, options)) return false;
  }
  return true;
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
