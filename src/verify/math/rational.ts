// Exact arithmetic: rationals over BigInt, and Gaussian rationals (re + im·i) built on them.
// Results larger than the bit limit return undefined so the caller falls back to numerics
// instead of allocating without bound.

export interface Q {
  readonly n: bigint;
  readonly d: bigint; // > 0, gcd(n, d) = 1
}

export const ZERO: Q = { n: 0n, d: 1n };
export const ONE: Q = { n: 1n, d: 1n };

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function q(n: bigint, d: bigint = 1n): Q {
  if (d === 0n) throw new RangeError("division by zero");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g === 1n || g === 0n ? { n, d } : { n: n / g, d: d / g };
}

export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x === 0n) return 0;
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + Math.floor(Math.log2(Number.parseInt(hex[0]!, 16))) + 1;
}

export const qAdd = (a: Q, b: Q): Q => q(a.n * b.d + b.n * a.d, a.d * b.d);
export const qSub = (a: Q, b: Q): Q => q(a.n * b.d - b.n * a.d, a.d * b.d);
export const qMul = (a: Q, b: Q): Q => q(a.n * b.n, a.d * b.d);
export const qDiv = (a: Q, b: Q): Q => q(a.n * b.d, a.d * b.n);
export const qNeg = (a: Q): Q => ({ n: -a.n, d: a.d });
export const qEq = (a: Q, b: Q): boolean => a.n === b.n && a.d === b.d;
export const qIsZero = (a: Q): boolean => a.n === 0n;
export const qIsInt = (a: Q): boolean => a.d === 1n;
export const qCmp = (a: Q, b: Q): number => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};
export const qAbs = (a: Q): Q => (a.n < 0n ? qNeg(a) : a);

/** Integer power with a size guard; undefined when the result would exceed maxBits. */
export function qPowInt(a: Q, e: bigint, maxBits: number): Q | undefined {
  if (e === 0n) return ONE;
  if (a.n === 0n) return e > 0n ? ZERO : undefined;
  const abs = e < 0n ? -e : e;
  if (a.d === 1n && (a.n === 1n || a.n === -1n)) return a.n === 1n || abs % 2n === 0n ? ONE : a;
  const bits = Math.max(bitLength(a.n), bitLength(a.d));
  if (Number(abs) * bits > maxBits) return undefined;
  if (abs > 1_000_000n) return undefined;
  const r = { n: a.n ** abs, d: a.d ** abs };
  return e < 0n ? q(r.d, r.n) : r;
}

/** Exact k-th root of a non-negative integer, or undefined when it is not a perfect power. */
export function intRoot(x: bigint, k: number): bigint | undefined {
  if (x < 0n) return undefined;
  if (x < 2n) return x;
  const kb = BigInt(k);
  // Newton iteration from an over-estimate.
  let r = 1n << BigInt(Math.ceil(bitLength(x) / k) + 1);
  for (;;) {
    const next = ((kb - 1n) * r + x / r ** (kb - 1n)) / kb;
    if (next >= r) break;
    r = next;
  }
  return r ** kb === x ? r : undefined;
}

export function qRoot(a: Q, k: number): Q | undefined {
  const n = intRoot(a.n, k);
  const d = intRoot(a.d, k);
  return n === undefined || d === undefined ? undefined : { n, d };
}

/** Nearest double, also for numerator/denominator far beyond the double range. */
export function qToNumber(a: Q): number {
  const bn = bitLength(a.n);
  const bd = bitLength(a.d);
  if (bn < 1000 && bd < 1000) return Number(a.n) / Number(a.d);
  const sn = Math.max(0, bn - 900);
  const sd = Math.max(0, bd - 900);
  return (Number(a.n >> BigInt(sn)) / Number(a.d >> BigInt(sd))) * 2 ** (sn - sd);
}

export function qToString(a: Q): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}

/** Exact complex number re + im·i. */
export interface CQ {
  readonly re: Q;
  readonly im: Q;
}

export const cq = (re: Q, im: Q = ZERO): CQ => ({ re, im });
export const cAdd = (a: CQ, b: CQ): CQ => cq(qAdd(a.re, b.re), qAdd(a.im, b.im));
export const cSub = (a: CQ, b: CQ): CQ => cq(qSub(a.re, b.re), qSub(a.im, b.im));
export const cNeg = (a: CQ): CQ => cq(qNeg(a.re), qNeg(a.im));
export const cMul = (a: CQ, b: CQ): CQ =>
  qIsZero(a.im) && qIsZero(b.im)
    ? cq(qMul(a.re, b.re))
    : cq(qSub(qMul(a.re, b.re), qMul(a.im, b.im)), qAdd(qMul(a.re, b.im), qMul(a.im, b.re)));
export function cDiv(a: CQ, b: CQ): CQ {
  if (qIsZero(b.im)) return cq(qDiv(a.re, b.re), qDiv(a.im, b.re));
  const den = qAdd(qMul(b.re, b.re), qMul(b.im, b.im));
  const conj = cq(b.re, qNeg(b.im));
  const num = cMul(a, conj);
  return cq(qDiv(num.re, den), qDiv(num.im, den));
}
export const cEq = (a: CQ, b: CQ): boolean => qEq(a.re, b.re) && qEq(a.im, b.im);
export const cIsReal = (a: CQ): boolean => qIsZero(a.im);
export const cIsZero = (a: CQ): boolean => qIsZero(a.re) && qIsZero(a.im);

export function cPowInt(a: CQ, e: bigint, maxBits: number): CQ | undefined {
  if (cIsReal(a)) {
    const r = qPowInt(a.re, e, maxBits);
    return r === undefined ? undefined : cq(r);
  }
  const abs = e < 0n ? -e : e;
  if (abs > 4096n) return undefined;
  let result: CQ = cq(ONE);
  let base = a;
  let k = abs;
  while (k > 0n) {
    if (k & 1n) result = cMul(result, base);
    k >>= 1n;
    if (k > 0n) base = cMul(base, base);
    if (bitLength(result.re.n) + bitLength(base.re.n) > maxBits) return undefined;
  }
  return e < 0n ? cDiv(cq(ONE), result) : result;
}

export function cToString(a: CQ): string {
  if (cIsReal(a)) return qToString(a.re);
  return `${qToString(a.re)}+${qToString(a.im)}i`;
}
