// Evaluation of scalar expressions, two ways:
// - exact: Gaussian rationals over BigInt; undefined when the value is not exactly
//   representable (π, √2, sin 1) or would exceed the size limit;
// - numeric: complex doubles carrying a forward error bound, so comparisons can tell
//   rounding noise (√2·√2 − 2) from a real difference (1/2^99 vs 1/2^98).

import type { Node } from "./ast.ts";
import type { Budget } from "./budget.ts";
import {
  type CQ,
  cAdd,
  cDiv,
  cIsReal,
  cIsZero,
  cMul,
  cNeg,
  cPowInt,
  cq,
  cSub,
  ONE,
  q,
  qIsInt,
  qRoot,
  qToNumber,
  ZERO,
} from "./rational.ts";

/** A value that is not a number at this point (division by zero, log of 0, unknown structure). */
export class UndefinedValue extends Error {
  override readonly name = "UndefinedValue";
}

export type ExactEnv = ReadonlyMap<string, CQ>;

/** lo·(lo+1)·…·hi by binary splitting: balanced multiplications are far faster on big numbers. */
function rangeProduct(lo: bigint, hi: bigint): bigint {
  if (hi - lo < 16n) {
    let r = 1n;
    for (let k = lo; k <= hi; k++) r *= k;
    return r;
  }
  const mid = (lo + hi) / 2n;
  return rangeProduct(lo, mid) * rangeProduct(mid + 1n, hi);
}

function factorial(n: bigint): bigint {
  return n < 2n ? 1n : rangeProduct(2n, n);
}

export function evalExact(n: Node, env: ExactEnv, budget: Budget): CQ | undefined {
  budget.tick();
  const maxBits = budget.limits.maxBits;
  switch (n.k) {
    case "num":
      return cq(n.v);
    case "sym":
      return env.get(n.name);
    case "const":
      if (n.name === "i") return cq(ZERO, ONE);
      if (n.name === "inf") throw new UndefinedValue("infinity is not a number");
      return undefined;
    case "neg": {
      const a = evalExact(n.a, env, budget);
      return a === undefined ? undefined : cNeg(a);
    }
    case "pct": {
      const a = evalExact(n.a, env, budget);
      return a === undefined ? undefined : cDiv(a, cq(q(100n)));
    }
    case "bin": {
      const a = evalExact(n.a, env, budget);
      if (a === undefined && n.op !== "^") return undefined;
      const b = evalExact(n.b, env, budget);
      if (b === undefined || a === undefined) return undefined;
      switch (n.op) {
        case "+":
          return cAdd(a, b);
        case "-":
          return cSub(a, b);
        case "*":
          return cMul(a, b);
        case "/":
          if (cIsZero(b)) throw new UndefinedValue("division by zero");
          return cDiv(a, b);
        case "^":
          return powExact(a, b, maxBits);
      }
      return undefined;
    }
    case "fn":
      return fnExact(n, env, budget);
    default:
      throw new UndefinedValue(`${n.k} is not a scalar`);
  }
}

function powExact(a: CQ, b: CQ, maxBits: number): CQ | undefined {
  if (!cIsReal(b)) return undefined;
  const e = b.re;
  if (qIsInt(e)) {
    if (cIsZero(a) && e.n < 0n) throw new UndefinedValue("division by zero");
    return cPowInt(a, e.n, maxBits);
  }
  // Rational exponent of a non-negative rational: exact only for perfect powers.
  if (!cIsReal(a) || a.re.n < 0n || e.d > 64n) return undefined;
  const root = qRoot(a.re, Number(e.d));
  if (root === undefined) return undefined;
  return cPowInt(cq(root), e.n, maxBits);
}

function fnExact(n: Extract<Node, { k: "fn" }>, env: ExactEnv, budget: Budget): CQ | undefined {
  const args: CQ[] = [];
  for (const a of n.args) {
    const v = evalExact(a, env, budget);
    if (v === undefined) return undefined;
    args.push(v);
  }
  const [x, y] = args;
  if (x === undefined) return undefined;
  switch (n.name) {
    case "sqrt":
    case "root": {
      const k = n.name === "sqrt" ? 2 : y !== undefined && cIsReal(y) && qIsInt(y.re) ? Number(y.re.n) : 0;
      if (k < 2 || k > 64 || !cIsReal(x)) return undefined;
      if (x.re.n < 0n) {
        if (k % 2 === 1) {
          const r = qRoot(q(-x.re.n, x.re.d), k);
          return r === undefined ? undefined : cNeg(cq(r));
        }
        if (k === 2) {
          const r = qRoot(q(-x.re.n, x.re.d), 2);
          return r === undefined ? undefined : cq(ZERO, r);
        }
        return undefined;
      }
      const r = qRoot(x.re, k);
      return r === undefined ? undefined : cq(r);
    }
    case "abs":
      if (!cIsReal(x)) return undefined;
      return cq(x.re.n < 0n ? q(-x.re.n, x.re.d) : x.re);
    case "fact": {
      if (!cIsReal(x) || !qIsInt(x.re) || x.re.n < 0n)
        throw new UndefinedValue("factorial of a non-natural number");
      if (x.re.n > BigInt(budget.limits.maxFactorial)) return undefined;
      return cq(q(factorial(x.re.n)));
    }
    case "binom": {
      // Generalised binomial n(n-1)…(n-k+1)/k! for a natural k and any rational n.
      if (y === undefined || !cIsReal(x) || !cIsReal(y) || !qIsInt(y.re)) return undefined;
      const k = y.re.n;
      if (k < 0n) return cq(ZERO);
      if (k > BigInt(budget.limits.maxFactorial)) return undefined;
      let r: CQ = cq(ONE);
      for (let i = 0n; i < k; i++) {
        budget.tick();
        r = cDiv(cMul(r, cSub(x, cq(q(i)))), cq(q(i + 1n)));
      }
      return r;
    }
    case "floor":
    case "ceil": {
      if (!cIsReal(x)) return undefined;
      const { n: num, d } = x.re;
      let f = num / d;
      if (num < 0n && f * d !== num) f -= 1n;
      if (n.name === "ceil" && f * d !== num) f += 1n;
      return cq(q(f));
    }
    case "sin":
    case "tan":
    case "arcsin":
    case "arctan":
    case "sinh":
    case "tanh":
      return cIsZero(x) ? cq(ZERO) : undefined;
    case "cos":
    case "cosh":
    case "exp":
      return cIsZero(x) ? cq(ONE) : undefined;
    case "ln":
      return cIsReal(x) && x.re.n === 1n && x.re.d === 1n ? cq(ZERO) : undefined;
    default:
      return undefined;
  }
}

/** A complex double with an absolute error bound. */
export interface Num {
  re: number;
  im: number;
  err: number;
}

const EPS = 2 ** -52;
const mag = (a: Num): number => Math.hypot(a.re, a.im);
const num = (re: number, im: number, err: number): Num => ({ re, im, err: err + EPS * Math.hypot(re, im) });
const real = (x: number, err: number): Num => num(x, 0, err);

export type NumEnv = ReadonlyMap<string, number>;

function isRealish(a: Num): boolean {
  return Math.abs(a.im) <= a.err + 1e-300;
}

function cexp(a: Num): Num {
  const m = Math.exp(a.re);
  return num(m * Math.cos(a.im), m * Math.sin(a.im), m * a.err);
}

function clog(a: Num): Num {
  const r = mag(a);
  if (r === 0) throw new UndefinedValue("log of zero");
  return num(Math.log(r), Math.atan2(a.im, a.re), a.err / r);
}

function cmul(a: Num, b: Num): Num {
  return num(
    a.re * b.re - a.im * b.im,
    a.re * b.im + a.im * b.re,
    mag(a) * b.err + mag(b) * a.err + a.err * b.err,
  );
}

function cdiv(a: Num, b: Num): Num {
  const d = b.re * b.re + b.im * b.im;
  if (d === 0) throw new UndefinedValue("division by zero");
  const mb = Math.sqrt(d);
  if (b.err >= mb) throw new UndefinedValue("division by a value indistinguishable from zero");
  const re = (a.re * b.re + a.im * b.im) / d;
  const im = (a.im * b.re - a.re * b.im) / d;
  return num(re, im, (a.err + Math.hypot(re, im) * b.err) / (mb - b.err));
}

function cpow(a: Num, b: Num): Num {
  if (isRealish(b) && b.err === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    // Repeated multiplication keeps negative bases real and error bounds tight.
    let r: Num = real(1, 0);
    for (let k = 0; k < Math.abs(b.re); k++) r = cmul(r, a);
    return b.re < 0 ? cdiv(real(1, 0), r) : r;
  }
  if (isRealish(a) && isRealish(b) && a.re > 0) {
    const v = a.re ** b.re;
    return real(v, Math.abs(v) * (Math.abs(b.re / a.re) * a.err + Math.abs(Math.log(a.re)) * b.err));
  }
  if (isRealish(a) && isRealish(b) && a.re < 0 && b.err === 0) {
    // Real odd roots of negative numbers: (-8)^(1/3) = -2, as a student means it.
    const inv = 1 / b.re;
    if (
      Number.isInteger(Math.round(inv)) &&
      Math.abs(inv - Math.round(inv)) < 1e-12 &&
      Math.round(inv) % 2 !== 0
    ) {
      const v = -((-a.re) ** b.re);
      return real(v, Math.abs((v * b.re) / a.re) * a.err);
    }
  }
  if (mag(a) === 0) return real(0, 0);
  return cexp(cmul(b, clog(a)));
}

const TRIG = new Set(["sin", "cos", "tan", "sec", "csc", "cot"]);

/**
 * f(x) with an error bound that holds for the whole interval x ± err, not only to first order:
 * the largest |f'| at the centre and both ends, times err. For the trigonometric functions an
 * argument known only to ±0.1 or worse (sin 10^300: every digit of the reduced argument is lost)
 * pins nothing down: the bound is infinite, so no comparison can be decided from the result,
 * however it is scaled (10^{-11}·sin 10^{300} is not "≈ 0").
 */
function realFn(x: Num, name: string, f: (v: number) => number, deriv: (v: number) => number): Num {
  if (!isRealish(x)) throw new UndefinedValue(`${name} of a complex number is not supported`);
  const v = f(x.re);
  if (!Number.isFinite(v)) throw new UndefinedValue(`${name} is undefined here`);
  if (TRIG.has(name) && (x.err >= 0.1 || Math.abs(x.re) > 1e15)) return real(v, Number.POSITIVE_INFINITY);
  const slope = Math.max(Math.abs(deriv(x.re)), Math.abs(deriv(x.re - x.err)), Math.abs(deriv(x.re + x.err)));
  // A pole inside x ± err (tan near π/2) makes the slope at the sampled points meaningless.
  if (name === "tan" || name === "sec" || name === "csc" || name === "cot") {
    const shift = name === "tan" || name === "sec" ? Math.PI / 2 : 0;
    const k = Math.round((x.re - shift) / Math.PI);
    if (Math.abs(x.re - shift - k * Math.PI) <= 2 * x.err + 1e-15 * Math.abs(x.re))
      return real(v, Number.POSITIVE_INFINITY);
  }
  return real(v, Number.isFinite(slope) ? slope * x.err : Number.POSITIVE_INFINITY);
}

export function evalNum(n: Node, env: NumEnv, budget: Budget): Num {
  budget.tick();
  switch (n.k) {
    case "num":
      return real(qToNumber(n.v), 0);
    case "sym": {
      const v = env.get(n.name);
      if (v === undefined) throw new UndefinedValue(`no value for ${n.name}`);
      return real(v, 0);
    }
    case "const":
      if (n.name === "pi") return real(Math.PI, 0);
      if (n.name === "e") return real(Math.E, 0);
      if (n.name === "i") return num(0, 1, 0);
      throw new UndefinedValue("infinity is not a number");
    case "neg": {
      const a = evalNum(n.a, env, budget);
      return { re: -a.re, im: -a.im, err: a.err };
    }
    case "pct": {
      const a = evalNum(n.a, env, budget);
      return num(a.re / 100, a.im / 100, a.err / 100);
    }
    case "bin": {
      const a = evalNum(n.a, env, budget);
      const b = evalNum(n.b, env, budget);
      switch (n.op) {
        case "+":
          return num(a.re + b.re, a.im + b.im, a.err + b.err);
        case "-":
          return num(a.re - b.re, a.im - b.im, a.err + b.err);
        case "*":
          return cmul(a, b);
        case "/":
          return cdiv(a, b);
        case "^":
          return cpow(a, b);
      }
      throw new UndefinedValue("unknown operator");
    }
    case "fn":
      return fnNum(n, env, budget);
    default:
      throw new UndefinedValue(`${n.k} is not a scalar`);
  }
}

function lnFactorial(x: number): number {
  // Stirling series; exact enough for comparing magnitudes of huge factorials.
  if (x < 20) {
    let r = 0;
    for (let k = 2; k <= x; k++) r += Math.log(k);
    return r;
  }
  return (x + 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
}

function fnNum(n: Extract<Node, { k: "fn" }>, env: NumEnv, budget: Budget): Num {
  const args = n.args.map((a) => evalNum(a, env, budget));
  const x = args[0];
  const y = args[1];
  if (x === undefined) throw new UndefinedValue("missing argument");
  switch (n.name) {
    case "sqrt":
      return cpow(x, real(0.5, 0));
    case "root":
      if (y === undefined) throw new UndefinedValue("missing root index");
      return cpow(x, cdiv(real(1, 0), y));
    case "abs":
      return real(mag(x), x.err);
    case "exp":
      return cexp(x);
    case "ln":
      return clog(x);
    case "log10":
      return cdiv(clog(x), real(Math.LN10, 0));
    case "logb":
      if (y === undefined) throw new UndefinedValue("missing log base");
      return cdiv(clog(x), clog(y));
    case "sin":
      return realFn(x, "sin", Math.sin, Math.cos);
    case "cos":
      return realFn(x, "cos", Math.cos, Math.sin);
    case "tan":
      return realFn(x, "tan", Math.tan, (v) => 1 / Math.cos(v) ** 2);
    case "sec":
      return realFn(
        x,
        "sec",
        (v) => 1 / Math.cos(v),
        (v) => Math.abs(Math.tan(v) / Math.cos(v)),
      );
    case "csc":
      return realFn(
        x,
        "csc",
        (v) => 1 / Math.sin(v),
        (v) => Math.abs(1 / (Math.tan(v) * Math.sin(v))),
      );
    case "cot":
      return realFn(
        x,
        "cot",
        (v) => 1 / Math.tan(v),
        (v) => 1 / Math.sin(v) ** 2,
      );
    case "arcsin":
      return realFn(x, "arcsin", Math.asin, (v) => 1 / Math.sqrt(Math.max(1e-300, 1 - v * v)));
    case "arccos":
      return realFn(x, "arccos", Math.acos, (v) => 1 / Math.sqrt(Math.max(1e-300, 1 - v * v)));
    case "arctan":
      return realFn(x, "arctan", Math.atan, (v) => 1 / (1 + v * v));
    case "sinh":
      return realFn(x, "sinh", Math.sinh, Math.cosh);
    case "cosh":
      return realFn(x, "cosh", Math.cosh, Math.sinh);
    case "tanh":
      return realFn(x, "tanh", Math.tanh, (v) => 1 / Math.cosh(v) ** 2);
    case "floor":
    case "ceil": {
      if (!isRealish(x)) throw new UndefinedValue("floor of a complex number");
      const v = n.name === "floor" ? Math.floor(x.re) : Math.ceil(x.re);
      if (Math.abs(x.re - Math.round(x.re)) <= x.err) throw new UndefinedValue("floor at a discontinuity");
      return real(v, 0);
    }
    case "fact": {
      if (!isRealish(x) || x.err > 0.25 || !Number.isInteger(Math.round(x.re)) || x.re < -0.5) {
        throw new UndefinedValue("factorial of a non-natural number");
      }
      const v = Math.exp(lnFactorial(Math.round(x.re)));
      return real(v, v * 1e-12);
    }
    case "binom": {
      if (y === undefined) throw new UndefinedValue("missing argument");
      const k = Math.round(y.re);
      if (!isRealish(y) || Math.abs(y.re - k) > 1e-9)
        throw new UndefinedValue("binomial with a non-integer k");
      if (k < 0) return real(0, 0);
      if (k <= 1000) {
        let r: Num = real(1, 0);
        for (let i = 0; i < k; i++) r = cdiv(cmul(r, num(x.re - i, x.im, x.err)), real(i + 1, 0));
        return r;
      }
      const a = Math.round(x.re);
      if (k > a) return real(0, 0);
      const v = Math.exp(lnFactorial(a) - lnFactorial(k) - lnFactorial(a - k));
      return real(v, v * 1e-12);
    }
    default:
      throw new UndefinedValue(`unknown function ${n.name}`);
  }
}

/** Free symbols of an expression, in first-seen order. */
export function freeSymbols(n: Node, out: Set<string> = new Set()): Set<string> {
  switch (n.k) {
    case "sym":
      out.add(n.name);
      break;
    case "bin":
      freeSymbols(n.a, out);
      freeSymbols(n.b, out);
      break;
    case "neg":
    case "pct":
      freeSymbols(n.a, out);
      break;
    case "pm":
      if (n.a !== undefined) freeSymbols(n.a, out);
      freeSymbols(n.b, out);
      break;
    case "fn":
      for (const a of n.args) freeSymbols(a, out);
      break;
    case "rel":
    case "tuple":
    case "set":
    case "list":
    case "union":
      for (const a of n.items) freeSymbols(a, out);
      break;
    case "matrix":
      for (const r of n.rows) for (const a of r) freeSymbols(a, out);
      break;
    default:
      break;
  }
  return out;
}

/** Fewest significant digits among decimal literals, or undefined when none is written. */
export function minDecimalDigits(n: Node): number | undefined {
  let best: number | undefined;
  const walk = (m: Node): void => {
    if (m.k === "num") {
      if (m.sig !== undefined) best = best === undefined ? m.sig : Math.min(best, m.sig);
      return;
    }
    if (m.k === "bin") {
      walk(m.a);
      walk(m.b);
    } else if (m.k === "neg" || m.k === "pct") walk(m.a);
    else if (m.k === "fn") for (const a of m.args) walk(a);
  };
  walk(n);
  return best;
}
