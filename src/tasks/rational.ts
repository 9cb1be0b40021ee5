// Exact rationals over BigInt: numeric answers are compared exactly (no float tolerance,
// which would accept 99 for 100), and countdown expressions are evaluated without rounding.

export interface Rat {
  readonly n: bigint;
  /** Always positive; gcd(n, d) = 1. */
  readonly d: bigint;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

export function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export function rat(n: bigint | number, d: bigint | number = 1n): Rat {
  let nn = BigInt(n);
  let dd = BigInt(d);
  if (dd === 0n) throw new RangeError("division by zero");
  if (dd < 0n) {
    nn = -nn;
    dd = -dd;
  }
  const g = gcd(nn, dd) || 1n;
  return { n: nn / g, d: dd / g };
}

export const add = (a: Rat, b: Rat): Rat => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rat, b: Rat): Rat => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Rat, b: Rat): Rat => rat(a.n * b.n, a.d * b.d);
export const div = (a: Rat, b: Rat): Rat => rat(a.n * b.d, a.d * b.n);
export const eq = (a: Rat, b: Rat): boolean => a.n === b.n && a.d === b.d;
export const isInt = (a: Rat): boolean => a.d === 1n;

export function ratToString(a: Rat): string {
  return a.d === 1n ? String(a.n) : `${a.n}/${a.d}`;
}

const INT = /^[+-]?\d+$/;
const DEC = /^([+-]?)(\d*)\.(\d+)$/;
const FRAC = /^([+-]?\d+)\/([+-]?\d+)$/;
const LATEX_FRAC = /^([+-]?)\\[dt]?frac\{([+-]?\d+)\}\{([+-]?\d+)\}$/;
const GROUPED = /^[+-]?\d{1,3}(,\d{3})+$/;

/**
 * Parses a number as a model writes it: `42`, `-7`, `3/4`, `0.75`, `\frac{3}{4}`, `1,234`,
 * optionally wrapped in `$…$` or `\(…\)`. Returns `undefined` for anything else, so text
 * around a number ("x = 5", "5 apples") is NOT accepted: the content must be the number.
 * Also returns whether the written form was a fraction in lowest terms (for families that
 * ask for it).
 */
export function parseRat(text: string): { value: Rat; reduced: boolean } | undefined {
  let s = text.trim();
  if (s.startsWith("$") && s.endsWith("$")) s = s.replace(/^\$+|\$+$/g, "").trim();
  if (s.startsWith("\\(") && s.endsWith("\\)")) s = s.slice(2, -2).trim();
  s = s.replace(/\s+/g, "");
  if (GROUPED.test(s)) s = s.replace(/,/g, "");
  try {
    if (INT.test(s)) return { value: rat(BigInt(s)), reduced: true };
    const dec = DEC.exec(s);
    if (dec) {
      const [, sign, whole, frac] = dec as unknown as [string, string, string, string];
      const n = BigInt(`${sign}${whole || "0"}${frac}`);
      return { value: rat(n, 10n ** BigInt(frac.length)), reduced: true };
    }
    const m = FRAC.exec(s);
    const lm = m ? undefined : LATEX_FRAC.exec(s);
    if (m || lm) {
      const n = m
        ? BigInt(m[1] as string)
        : BigInt(`${lm?.[1] ?? ""}${lm?.[2] ?? ""}`.replace("+-", "-").replace("--", ""));
      const d = BigInt((m ? m[2] : lm?.[3]) as string);
      if (d === 0n) return undefined;
      const value = rat(n, d);
      return { value, reduced: abs(n) === abs(value.n) && abs(d) === value.d };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
