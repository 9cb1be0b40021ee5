// Is a predicted answer equivalent to the gold one? Structure first (sets, tuples,
// intervals, matrices, relations), then scalars: exact rational arithmetic, exact identity
// testing at random integer points for rational expressions (Schwartz–Zippel), and
// error-bounded numeric sampling for everything else. Decimal approximations are accepted
// only with enough significant digits, so 3.14 ≠ π and 0.333 ≠ 1/3.

import { type Node, type RelOp, show } from "./ast.ts";
import type { Budget } from "./budget.ts";
import { evalExact, evalNum, freeSymbols, minDecimalDigits, type Num, UndefinedValue } from "./evaluate.ts";
import { type CQ, cEq, cq, type Q, q, qAbs, qAdd, qCmp, qIsZero, qMul, qSub, qToNumber } from "./rational.ts";

export interface EquivalenceOptions {
  /** A decimal literal is treated as an approximation only with at least this many significant digits. */
  minSignificantDigits: number;
  /** Random points for identity testing (each independent; see docs for the bound). */
  samplePoints: number;
  /** Accept a predicted inequality for a gold interval (and vice versa). */
  relationIntervalBothWays: boolean;
  /** When exactly one side carries %, accept both 25% = 0.25 and 25% = 25. */
  percentFlexible: boolean;
}

export const DEFAULT_EQUIVALENCE: Readonly<EquivalenceOptions> = {
  minSignificantDigits: 6,
  samplePoints: 6,
  relationIntervalBothWays: true,
  percentFlexible: true,
};

export interface Decision {
  equal: boolean;
  strategy: string;
  reason?: string;
}

interface Ctx {
  budget: Budget;
  opts: Readonly<EquivalenceOptions>;
  /** Strategy of the last scalar comparison, reported in details. */
  strategy: string;
}

const INF: Node = { k: "const", name: "inf" };

// ---------- ± expansion ----------

function alternatives(n: Node, limit: number): Node[] {
  switch (n.k) {
    case "pm": {
      const bs = alternatives(n.b, limit);
      const as = n.a === undefined ? [undefined] : alternatives(n.a, limit);
      const out: Node[] = [];
      const signs = n.minusFirst ? ["-", "+"] : ["+", "-"];
      for (const s of signs)
        for (const a of as)
          for (const b of bs) {
            if (a === undefined) out.push(s === "+" ? b : { k: "neg", a: b });
            else out.push({ k: "bin", op: s === "+" ? "+" : "-", a, b });
          }
      return out.slice(0, limit);
    }
    case "bin": {
      const as = alternatives(n.a, limit);
      const bs = alternatives(n.b, limit);
      if (as.length === 1 && bs.length === 1) return [n];
      const out: Node[] = [];
      for (const a of as) for (const b of bs) out.push({ ...n, a, b });
      return out.slice(0, limit);
    }
    case "neg": {
      const as = alternatives(n.a, limit);
      return as.length === 1 ? [n] : as.map((a) => ({ k: "neg", a }));
    }
    case "rel": {
      const last = n.items[n.items.length - 1]!;
      const alts = alternatives(last, limit);
      if (alts.length === 1) return [n];
      return alts.map((a) => ({ ...n, items: [...n.items.slice(0, -1), a] }));
    }
    default:
      return [n];
  }
}

export function expandPlusMinus(n: Node): Node {
  if (n.k === "list" || n.k === "set") {
    const items = n.items.flatMap((m) => alternatives(m, 8));
    return { ...n, items };
  }
  const alts = alternatives(n, 8);
  return alts.length === 1 ? n : { k: "list", items: alts };
}

// ---------- helpers ----------

function infSign(n: Node): number {
  if (n.k === "const" && n.name === "inf") return 1;
  if (n.k === "neg") return -infSign(n.a);
  if (n.k === "bin" && n.op === "*" && n.a.k === "num") return Math.sign(qToNumber(n.a.v)) * infSign(n.b);
  return 0;
}

const isScalar = (n: Node): boolean =>
  n.k === "num" ||
  n.k === "sym" ||
  n.k === "const" ||
  n.k === "bin" ||
  n.k === "neg" ||
  n.k === "fn" ||
  n.k === "pct" ||
  n.k === "pm";

/**
 * The left side of an assignment: a name made of symbols only — `x`, `AB`, `f(x)`, `(p,q)`,
 * `|AB|`, `\frac{NO}{BO}`, the ratio `A:B` — with no number and no sum in it. `a+3z = 0` is
 * an equation, not an assignment, so its right side alone does not answer it.
 */
function isSymbolLike(n: Node, depth = 0): boolean {
  if (depth > 8) return false;
  switch (n.k) {
    case "sym":
      return true;
    case "bin":
      return (n.op === "*" || n.op === "/") && isSymbolLike(n.a, depth + 1) && isSymbolLike(n.b, depth + 1);
    case "tuple":
      return n.open === "(" && n.close === ")" && n.items.every((m) => isSymbolLike(m, depth + 1));
    case "fn":
      return n.name === "abs" && n.args.length === 1 && isSymbolLike(n.args[0]!, depth + 1);
    default:
      return false;
  }
}

const flip: Readonly<Record<RelOp, RelOp>> = {
  "<": ">",
  ">": "<",
  "<=": ">=",
  ">=": "<=",
  "=": "=",
  "!=": "!=",
  in: "in",
};

/** Single-variable inequality → interval (`tuple` with brackets), when it is one. */
function relationToInterval(n: Node): Node | undefined {
  if (n.k !== "rel") return undefined;
  const lower = (op: RelOp): "(" | "[" => (op === "<" ? "(" : "[");
  const upper = (op: RelOp): ")" | "]" => (op === "<" ? ")" : "]");
  if (n.items.length === 2) {
    let [a, b] = n.items as [Node, Node];
    let op = n.ops[0]!;
    if (!isSymbolLike(a) && isSymbolLike(b)) {
      [a, b] = [b, a];
      op = flip[op];
    }
    if (!isSymbolLike(a) || freeSymbols(b).size > 0) return undefined;
    if (op === "<" || op === "<=")
      return { k: "tuple", open: "(", close: upper(op), items: [{ k: "neg", a: INF }, b] };
    if (op === ">" || op === ">=")
      return { k: "tuple", open: lower(op === ">" ? "<" : "<="), close: ")", items: [b, INF] };
    return undefined;
  }
  if (n.items.length === 3) {
    let [lo, x, hi] = n.items as [Node, Node, Node];
    let [o1, o2] = n.ops as [RelOp, RelOp];
    if (!isSymbolLike(x) || freeSymbols(lo).size > 0 || freeSymbols(hi).size > 0) return undefined;
    if ((o1 === ">" || o1 === ">=") && (o2 === ">" || o2 === ">=")) {
      [lo, hi] = [hi, lo];
      [o1, o2] = [flip[o2], flip[o1]];
    }
    if ((o1 === "<" || o1 === "<=") && (o2 === "<" || o2 === "<=")) {
      if (x.k === "fn" && x.name === "abs") {
        // a ≤ |z| ≤ b with 0 ≤ a: z ∈ [-b, -a] ∪ [a, b].
        if (lo.k !== "num" && !(lo.k === "bin" && lo.a.k === "num" && lo.b.k === "num")) return undefined;
        const neg = (m: Node): Node => ({ k: "neg", a: m });
        return {
          k: "union",
          items: [
            { k: "tuple", open: lower(o2), close: upper(o1), items: [neg(hi), neg(lo)] },
            { k: "tuple", open: lower(o1), close: upper(o2), items: [lo, hi] },
          ],
        };
      }
      return { k: "tuple", open: lower(o1), close: upper(o2), items: [lo, hi] };
    }
  }
  return undefined;
}

function asIntervalSet(n: Node): Node | undefined {
  const single = relationToInterval(n);
  if (single !== undefined) return single;
  if (n.k === "list" && n.items.every((m) => m.k === "rel")) {
    const parts = n.items.map(relationToInterval);
    if (parts.every((p) => p !== undefined)) return { k: "union", items: parts as Node[] };
  }
  return undefined;
}

function unwrapIn(n: Node): Node {
  if (n.k === "rel" && n.ops.length === 1 && n.ops[0] === "in") return n.items[1]!;
  return n;
}

// ---------- structural comparison ----------

export function equivalent(gold: Node, pred: Node, budget: Budget, opts = DEFAULT_EQUIVALENCE): Decision {
  const ctx: Ctx = { budget, opts, strategy: "structure" };
  const equal = same(expandPlusMinus(unwrapIn(gold)), expandPlusMinus(unwrapIn(pred)), ctx);
  return { equal, strategy: ctx.strategy };
}

function same(g: Node, p: Node, ctx: Ctx): boolean {
  ctx.budget.tick();
  // Operations on finite sets: {1,3} ∪ {2,4} is {1,2,3,4}.
  if (isSetOp(g) || isSetOp(p)) {
    const ge = setElements(g, ctx, 0);
    const pe = setElements(p, ctx, 0);
    if (ge !== undefined && pe !== undefined) {
      ctx.strategy = "structure";
      return sameCollection(ge, pe, true, ctx);
    }
  }
  // Relations and assignments.
  if (g.k === "rel" || p.k === "rel") return sameRelation(g, p, ctx);
  const gRels = g.k === "list" && g.items.every((m) => m.k === "rel");
  const pRels = p.k === "list" && p.items.every((m) => m.k === "rel");
  if (gRels !== pRels) {
    // "x < -1 or x > 1" against a union of intervals.
    const gi = gRels ? asIntervalSet(g) : undefined;
    const pi = pRels ? asIntervalSet(p) : undefined;
    if (gi !== undefined || pi !== undefined) return same(gi ?? g, pi ?? p, ctx);
  }
  if (g.k === "text" || p.k === "text") {
    ctx.strategy = "text";
    return g.k === "text" && p.k === "text" && g.s === p.s;
  }
  if (hasMatrix(g) || hasMatrix(p)) return sameMatrix(g, p, ctx);
  if (isScalar(g) && isScalar(p)) return sameScalar(g, p, ctx);
  // Collections.
  const gColl = g.k === "set" || g.k === "list";
  const pColl = p.k === "set" || p.k === "list";
  // Bare lists are sets of answers as well: "(3,17,3,7)" written twice is one solution.
  if (gColl && pColl) {
    if (sameCollection(g.items, p.items, true, ctx)) return true;
    // Solutions as groups of assignments on one side, one flat list on the other:
    // "p = 5, q = 2 and p = 7, q = 2" against "p=5,q=2; p=7,q=2".
    const gf = flatAssignments(g.items);
    const pf = flatAssignments(p.items);
    return (gf !== g.items || pf !== p.items) && sameCollection(gf, pf, true, ctx);
  }
  if (gColl && g.items.length === 1) return same(g.items[0]!, p, ctx);
  if (pColl && p.items.length === 1) return same(g, p.items[0]!, ctx);
  if (g.k === "tuple" && p.k === "tuple") {
    ctx.strategy = "structure";
    if (g.open !== p.open || g.close !== p.close) return false;
    return sameSequence(g.items, p.items, ctx);
  }
  if (g.k === "union" || p.k === "union") {
    const gi = g.k === "union" ? g.items : [g];
    const pi = p.k === "union" ? p.items : [p];
    return sameCollection(gi, pi, true, ctx);
  }
  // A bare list given for an ordered tuple (or the reverse) is compared in order.
  if (g.k === "tuple" && p.k === "list" && g.open === "(" && g.close === ")")
    return sameSequence(g.items, p.items, ctx);
  if (p.k === "tuple" && g.k === "list" && p.open === "(" && p.close === ")")
    return sameSequence(g.items, p.items, ctx);
  return false;
}

const isSetOp = (n: Node): boolean =>
  n.k === "union" || (n.k === "fn" && (n.name === "cap" || n.name === "setminus"));

/** The elements of a finite-set expression (sets, ∪, ∩, \\), or undefined when it is not one. */
function setElements(n: Node, ctx: Ctx, depth: number): Node[] | undefined {
  ctx.budget.tick();
  if (depth > 16) return undefined;
  if (n.k === "set") return n.items;
  if (n.k === "union") {
    const parts = n.items.map((m) => setElements(m, ctx, depth + 1));
    return parts.every((x) => x !== undefined) ? parts.flat() : undefined;
  }
  if (n.k === "fn" && (n.name === "cap" || n.name === "setminus") && n.args.length === 2) {
    const a = setElements(n.args[0]!, ctx, depth + 1);
    const b = setElements(n.args[1]!, ctx, depth + 1);
    if (a === undefined || b === undefined || a.length * b.length > 4096) return undefined;
    const inB = (x: Node) => b.some((y) => same(x, y, ctx));
    return a.filter((x) => (n.name === "cap" ? inB(x) : !inB(x)));
  }
  return undefined;
}

function hasMatrix(n: Node): boolean {
  if (n.k === "matrix") return true;
  if (n.k === "bin") return hasMatrix(n.a) || hasMatrix(n.b);
  if (n.k === "neg") return hasMatrix(n.a);
  return n.k === "tuple" && n.items.length === 1 && n.open === "(" && hasMatrix(n.items[0]!);
}

/**
 * The entries of a matrix expression: sums, differences and products of matrices and scalar
 * multiples are computed entry by entry as expressions ("A + B" for the sum of two matrices).
 */
function matrixValue(n: Node, ctx: Ctx, depth = 0): Node[][] | undefined {
  ctx.budget.tick();
  if (depth > 16) return undefined;
  if (n.k === "matrix") return n.rows;
  if (n.k === "tuple" && n.open === "(" && n.close === ")" && n.items.length === 1 && hasMatrix(n.items[0]!))
    return matrixValue(n.items[0]!, ctx, depth + 1);
  if (n.k === "neg")
    return matrixValue(n.a, ctx, depth + 1)?.map((r) => r.map((a): Node => ({ k: "neg", a })));
  if (n.k !== "bin") return undefined;
  const a = hasMatrix(n.a) ? matrixValue(n.a, ctx, depth + 1) : undefined;
  const b = hasMatrix(n.b) ? matrixValue(n.b, ctx, depth + 1) : undefined;
  if ((hasMatrix(n.a) && a === undefined) || (hasMatrix(n.b) && b === undefined)) return undefined;
  if (n.op === "+" || n.op === "-") {
    if (a === undefined || b === undefined || a.length !== b.length || a[0]!.length !== b[0]!.length)
      return undefined;
    return a.map((r, i) => r.map((x, j): Node => ({ k: "bin", op: n.op, a: x, b: b[i]![j]! })));
  }
  if (n.op !== "*") return undefined;
  if (a !== undefined && b !== undefined) {
    if (a[0]!.length !== b.length || a.length * b[0]!.length * b.length > 4096) return undefined;
    return a.map((r) =>
      b[0]!.map((_, j) =>
        r
          .map((x, k): Node => ({ k: "bin", op: "*", a: x, b: b[k]![j]! }))
          .reduce((s, t): Node => ({ k: "bin", op: "+", a: s, b: t })),
      ),
    );
  }
  const m = a ?? b!;
  const c = a === undefined ? n.a : n.b;
  return m.map((r) => r.map((x): Node => ({ k: "bin", op: "*", a: c, b: x })));
}

function sameMatrix(g: Node, p: Node, ctx: Ctx): boolean {
  ctx.strategy = "structure";
  {
    const gr = hasMatrix(g) ? matrixValue(g, ctx) : matrixRows(g);
    const pr = hasMatrix(p) ? matrixValue(p, ctx) : matrixRows(p);
    if (gr === undefined || pr === undefined) return false;
    if (gr.length !== pr.length) {
      // A vector written as a column or a row is the same vector.
      const gv =
        gr.length === 1 ? gr[0]! : gr.every((r) => r.length === 1) ? gr.map((r) => r[0]!) : undefined;
      const pv =
        pr.length === 1 ? pr[0]! : pr.every((r) => r.length === 1) ? pr.map((r) => r[0]!) : undefined;
      return gv !== undefined && pv !== undefined && sameSequence(gv, pv, ctx);
    }
    for (let i = 0; i < gr.length; i++) if (!sameSequence(gr[i]!, pr[i]!, ctx)) return false;
    return true;
  }
}

function flatAssignments(items: Node[]): Node[] {
  const grouped = items.some((m) => m.k === "tuple" && m.items.every((x) => x.k === "rel"));
  return grouped ? items.flatMap((m) => (m.k === "tuple" ? m.items : [m])) : items;
}

function matrixRows(n: Node): Node[][] | undefined {
  if (n.k === "matrix") return n.rows;
  if (n.k === "tuple" && n.open === "(" && n.close === ")") return n.items.map((m) => [m]);
  if (n.k === "tuple" && n.open === "[" && n.close === "]") return n.items.map((m) => [m]);
  return undefined;
}

function sameSequence(a: Node[], b: Node[], ctx: Ctx): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i]!, b[i]!, ctx)) return false;
  return true;
}

function sameCollection(a: Node[], b: Node[], asSets: boolean, ctx: Ctx): boolean {
  if (!asSets && a.length !== b.length) return false;
  if (a.length > 64 || b.length > 64) return false;
  if (asSets) {
    // Every element of each side has an equal element on the other (duplicates collapse).
    return a.every((x) => b.some((y) => same(x, y, ctx))) && b.every((y) => a.some((x) => same(x, y, ctx)));
  }
  const used = new Array<boolean>(b.length).fill(false);
  for (const x of a) {
    const j = b.findIndex((y, k) => !used[k] && same(x, y, ctx));
    if (j < 0) return false;
    used[j] = true;
  }
  return true;
}

function lastItem(n: Extract<Node, { k: "rel" }>): Node {
  return n.items[n.items.length - 1]!;
}

function sameRelation(g: Node, p: Node, ctx: Ctx): boolean {
  const gEq = g.k === "rel" && g.ops.every((o) => o === "=");
  const pEq = p.k === "rel" && p.ops.every((o) => o === "=");
  if (g.k === "rel" && p.k === "rel") {
    if (gEq && pEq) {
      if (isSymbolLike(g.items[0]!) && isSymbolLike(p.items[0]!)) {
        // x = 11 vs x = 5+5+1 = 11: same variable, same final value. Two assignments of the
        // same constant name the value the same way ("W(n) = 1" vs "W(x) = 1").
        const constant = freeSymbols(lastItem(g)).size === 0 && freeSymbols(lastItem(p)).size === 0;
        if ((constant || same(g.items[0]!, p.items[0]!, ctx)) && same(lastItem(g), lastItem(p), ctx))
          return true;
      }
      return sameEquation(g, p, ctx);
    }
    const gi = relationToInterval(g);
    const pi = relationToInterval(p);
    if (gi !== undefined && pi !== undefined) return same(gi, pi, ctx);
    if (g.items.length === 2 && p.items.length === 2 && !g.ops.includes("in") && !p.ops.includes("in")) {
      if (sameInequality(g, p, ctx)) return true;
    }
    if (g.ops.length !== p.ops.length) return false;
    if (g.ops.every((o, i) => o === p.ops[i])) return sameSequence(g.items, p.items, ctx);
    if (g.ops.every((o, i) => flip[o] === p.ops[p.ops.length - 1 - i])) {
      return sameSequence(g.items, [...p.items].reverse(), ctx);
    }
    return false;
  }
  // One side is a relation, the other is not.
  if (g.k === "rel") {
    if (gEq && isSymbolLike(g.items[0]!)) return same(lastItem(g), p, ctx); // x = 3 vs 3
    const gi = relationToInterval(g);
    if (gi !== undefined) return same(gi, p, ctx);
    return false;
  }
  if (p.k === "rel") {
    // Assignment or chain ending in a value: x = 3, a+2z = 2z+a = 101.
    if (pEq && (isSymbolLike(p.items[0]!) || p.items.length > 2 || freeSymbols(lastItem(p)).size === 0)) {
      if (same(g, lastItem(p), ctx)) return true;
    }
    const pi = relationToInterval(p);
    if (pi !== undefined && ctx.opts.relationIntervalBothWays) return same(g, pi, ctx);
  }
  return false;
}

/** l₁ op₁ r₁ and l₂ op₂ r₂ with l₁−r₁ = c·(l₂−r₂): same op for c > 0, flipped op for c < 0 (-x > -1 ≡ x < 1). */
function sameInequality(g: Extract<Node, { k: "rel" }>, p: Extract<Node, { k: "rel" }>, ctx: Ctx): boolean {
  const c = proportionality(g, p, ctx);
  if (c === undefined || c === 0) return false;
  return c > 0 ? g.ops[0] === p.ops[0] : g.ops[0] === flip[p.ops[0]!];
}

/** l₁ = r₁ and l₂ = r₂ are the same equation when l₁−r₁ = c·(l₂−r₂) for a constant c ≠ 0. */
function sameEquation(g: Extract<Node, { k: "rel" }>, p: Extract<Node, { k: "rel" }>, ctx: Ctx): boolean {
  if (g.items.length !== 2 || p.items.length !== 2) {
    return g.items.length === p.items.length && sameSequence(g.items, p.items, ctx);
  }
  const c = proportionality(g, p, ctx);
  return c !== undefined && c !== 0;
}

/** The constant c with l₁−r₁ = c·(l₂−r₂) at random points, or undefined when there is none. */
function proportionality(
  g: Extract<Node, { k: "rel" }>,
  p: Extract<Node, { k: "rel" }>,
  ctx: Ctx,
): number | undefined {
  const dg: Node = { k: "bin", op: "-", a: g.items[0]!, b: g.items[1]! };
  const dp: Node = { k: "bin", op: "-", a: p.items[0]!, b: p.items[1]! };
  const syms = [...new Set([...freeSymbols(dg), ...freeSymbols(dp)])];
  if (syms.length === 0) return undefined;
  const rng = mulberry32(0x51ab1e);
  let ratio: number | undefined;
  let checked = 0;
  for (let attempt = 0; attempt < ctx.opts.samplePoints * 4 && checked < ctx.opts.samplePoints; attempt++) {
    ctx.budget.tick();
    const env = new Map(syms.map((s) => [s, 0.5 + 2.5 * rng()]));
    let a: Num;
    let b: Num;
    try {
      a = evalNum(dg, env, ctx.budget);
      b = evalNum(dp, env, ctx.budget);
    } catch (e) {
      if (e instanceof UndefinedValue) continue;
      throw e;
    }
    if (Math.abs(a.im) > 1e-9 || Math.abs(b.im) > 1e-9) return undefined;
    if (Math.abs(b.re) <= b.err * 16) {
      if (Math.abs(a.re) <= a.err * 16) continue;
      return undefined;
    }
    const r = a.re / b.re;
    if (ratio === undefined) ratio = r;
    else if (Math.abs(r - ratio) > 1e-9 * Math.max(1, Math.abs(ratio))) return undefined;
    checked++;
  }
  ctx.strategy = "equation-sampling";
  return checked >= Math.min(3, ctx.opts.samplePoints) ? ratio : undefined;
}

// ---------- scalars ----------

function sameScalar(g: Node, p: Node, ctx: Ctx): boolean {
  const gi = infSign(g);
  const pi = infSign(p);
  if (gi !== 0 || pi !== 0) {
    ctx.strategy = "structure";
    return gi === pi;
  }
  if (ctx.opts.percentFlexible && (g.k === "pct") !== (p.k === "pct")) {
    // 25% ~ 0.25 (value) and 25% ~ 25 (the same number written without the sign).
    const gv = g.k === "pct" ? g.a : g;
    const pv = p.k === "pct" ? p.a : p;
    return sameValue(g, p, ctx) || sameValue(gv, pv, ctx);
  }
  return sameValue(g, p, ctx);
}

/** Deterministic PRNG so the same inputs always get the same verdict. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How a numeric comparison came out; "undecided" when the error bound is wider than the tolerance. */
type Cmp = "equal" | "unequal" | "undecided";

/** A bare decimal literal (possibly negated) with enough digits to be read as an approximation. */
function approximation(n: Node, ctx: Ctx): { v: Node; ulp: Q } | undefined {
  const lit = n.k === "neg" ? n.a : n;
  if (lit.k !== "num" || lit.sig === undefined || lit.scale === undefined) return undefined;
  if (lit.sig < ctx.opts.minSignificantDigits) return undefined;
  const ulp = lit.scale >= 0 ? q(1n, 10n ** BigInt(lit.scale)) : q(10n ** BigInt(-lit.scale));
  return { v: n, ulp };
}

/**
 * The tolerance for decimals written inside a larger expression ("0.333333·3"): relative
 * 10^-s for the fewest significant digits s written, so nothing one unit away is accepted.
 */
function approxTolerance(g: Node, p: Node, ctx: Ctx): number | undefined {
  const dg = minDecimalDigits(g);
  const dp = minDecimalDigits(p);
  const s = dg === undefined ? dp : dp === undefined ? dg : Math.min(dg, dp);
  if (s === undefined || s < ctx.opts.minSignificantDigits) return undefined;
  return 0.5 * 10 ** -s;
}

/** Safety factor on the first-order error bounds carried by the numeric evaluation. */
const ERR_SLACK = 4;
/** Relative tolerance of the numeric path for values that are not approximations. */
const REL_TOL = 1e-10;
/** An error bound below this (absolute) may decide equality of values that cancel to ≈ 0 (√2·√2 − 2 = 0). */
const CANCEL_ABS = 1e-10;

/**
 * |a − b| against the tolerance, with the error bound E = 4·(err_a + err_b): equal when
 * |a − b| + E fits the tolerance (or, for a result that cancels to ≈ 0, when the difference is
 * within an error bound below 10⁻¹⁰), unequal when |a − b| − E exceeds it, undecided otherwise
 * — and undecided never counts as equal.
 */
function compareNum(a: Num, b: Num, relTol: number): Cmp {
  if (![a.re, a.im, b.re, b.im].every(Number.isFinite)) return "undecided";
  const bound = ERR_SLACK * (a.err + b.err);
  if (!Number.isFinite(bound)) return "undecided";
  const diff = Math.hypot(a.re - b.re, a.im - b.im);
  const tol = relTol * Math.max(Math.hypot(a.re, a.im), Math.hypot(b.re, b.im));
  if (diff + bound <= tol) return "equal";
  if (diff - bound > tol) return "unequal";
  if (bound <= CANCEL_ABS && diff <= bound + tol) return "equal";
  return "undecided";
}

/**
 * A decimal d written to the place u = 10^-scale approximates x when |x − d| < u strictly: d is
 * x rounded or cut at that place. So 0.333333 ≈ 1/3 and 0.666666 ≈ 2/3, but 0.999999 is not 1
 * (it is one unit away) and neither is 1.000001.
 */
function sameApproximation(exact: Node, approx: { v: Node; ulp: Q }, ctx: Ctx): Cmp {
  let e: CQ | undefined;
  let d: CQ | undefined;
  try {
    e = tryExact(exact, new Map(), ctx);
    d = tryExact(approx.v, new Map(), ctx);
  } catch (err) {
    if (err instanceof UndefinedValue) return "unequal";
    throw err;
  }
  if (e !== undefined && d !== undefined) {
    if (!qIsZero(e.im) || !qIsZero(d.im)) return cEq(e, d) ? "equal" : "unequal";
    return qCmp(qAbs(qSub(e.re, d.re)), approx.ulp) < 0 ? "equal" : "unequal";
  }
  // √r against a decimal d: |√r − d| < u exactly when (d − u)² < r < (d + u)² (for d ≥ u).
  if (
    d !== undefined &&
    qIsZero(d.im) &&
    exact.k === "fn" &&
    exact.name === "sqrt" &&
    exact.args.length === 1
  ) {
    const r = tryExact(exact.args[0]!, new Map(), ctx);
    if (r !== undefined && qIsZero(r.im) && qCmp(d.re, approx.ulp) >= 0) {
      const lo = qSub(d.re, approx.ulp);
      const hi = qAdd(d.re, approx.ulp);
      return qCmp(qMul(lo, lo), r.re) < 0 && qCmp(r.re, qMul(hi, hi)) < 0 ? "equal" : "unequal";
    }
  }
  let x: Num;
  let y: Num;
  try {
    x = evalNum(exact, new Map(), ctx.budget);
    y = evalNum(approx.v, new Map(), ctx.budget);
  } catch (err) {
    if (err instanceof UndefinedValue) return "unequal";
    throw err;
  }
  if (![x.re, x.im, y.re, x.err].every(Number.isFinite)) return "undecided";
  const u = qToNumber(approx.ulp);
  const diff = Math.hypot(x.re - y.re, x.im);
  const bound = ERR_SLACK * (x.err + y.err);
  if (diff + bound < u) return "equal";
  if (diff - bound >= u) return "unequal";
  return "undecided";
}

function tryExact(n: Node, env: ReadonlyMap<string, CQ>, ctx: Ctx): CQ | undefined {
  return evalExact(n, env, ctx.budget);
}

/**
 * A canonical spelling: sums and products flattened and their operands sorted, and
 * k·(k−1)! folded into k!. Equal spellings are equal values, even where evaluation cannot
 * reach them ((1+x)^{100000} and (x+1)^{100000}; 1000000·999999! and 1000000!).
 */
function canon(n: Node, ctx: Ctx, depth = 0): string {
  ctx.budget.tick();
  if (depth > 64) return `#${show(n)}`;
  const c = (m: Node) => canon(m, ctx, depth + 1);
  switch (n.k) {
    case "neg":
      return `-(${c(n.a)})`;
    case "bin": {
      if (n.op === "+" || n.op === "-") {
        const terms: string[] = [];
        const walk = (m: Node, sign: string): void => {
          if (m.k === "bin" && (m.op === "+" || m.op === "-")) {
            walk(m.a, sign);
            walk(m.b, m.op === "-" ? (sign === "+" ? "-" : "+") : sign);
          } else terms.push(sign + c(m));
        };
        walk(n, "+");
        return `(${terms.sort().join("")})`;
      }
      if (n.op === "*") {
        const factors: Node[] = [];
        const walk = (m: Node): void => {
          if (m.k === "bin" && m.op === "*") {
            walk(m.a);
            walk(m.b);
          } else factors.push(m);
        };
        walk(n);
        foldFactorials(factors);
        return factors.length === 1 ? c(factors[0]!) : `[${factors.map(c).sort().join("*")}]`;
      }
      return `(${c(n.a)})${n.op}(${c(n.b)})`;
    }
    case "fn":
      return `${n.name}(${n.args.map(c).join(",")})`;
    case "pct":
      return `${c(n.a)}%`;
    default:
      return show(n);
  }
}

/** k · (k−1)! → k!, repeatedly (the literal k and the factorial of the literal k−1). */
function foldFactorials(factors: Node[]): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < factors.length && !changed; i++) {
      const f = factors[i]!;
      if (f.k !== "fn" || f.name !== "fact" || f.args[0]?.k !== "num" || f.args[0].v.d !== 1n) continue;
      const k = f.args[0].v.n + 1n;
      const j = factors.findIndex((m) => m.k === "num" && m.v.d === 1n && m.v.n === k);
      if (j < 0) continue;
      factors[i] = { k: "fn", name: "fact", args: [{ k: "num", v: q(k), sig: undefined }] };
      factors.splice(j, 1);
      changed = true;
    }
  }
}

function sameValue(g: Node, p: Node, ctx: Ctx): boolean {
  if (canon(g, ctx) === canon(p, ctx)) {
    ctx.strategy = "canonical";
    return true;
  }
  const syms = [...new Set([...freeSymbols(g), ...freeSymbols(p)])];
  const approx = approxTolerance(g, p, ctx);
  if (syms.length === 0) return sameConstant(g, p, approx, ctx);
  // One generator for both samplings: the numeric points follow the exact ones.
  const rng = mulberry32(0x9e3779b9);
  return exactSampling(g, p, syms, approx, rng, ctx) ?? numericSampling(g, p, syms, approx, rng, ctx);
}

/** Two closed-form values (no free symbols): exactly, as decimal approximations, or numerically. */
function sameConstant(g: Node, p: Node, approx: number | undefined, ctx: Ctx): boolean {
  let eg: CQ | undefined;
  let ep: CQ | undefined;
  try {
    eg = tryExact(g, new Map(), ctx);
    ep = tryExact(p, new Map(), ctx);
  } catch (e) {
    if (e instanceof UndefinedValue) return false;
    throw e;
  }
  if (eg !== undefined && ep !== undefined && cEq(eg, ep)) {
    ctx.strategy = "exact";
    return true;
  }
  // One side a decimal with enough digits: is it the other rounded or cut at its last place?
  const ga = approximation(g, ctx);
  const pa = approximation(p, ctx);
  if (ga !== undefined || pa !== undefined) {
    const usePred = pa !== undefined && (ga === undefined || qCmp(pa.ulp, ga.ulp) >= 0);
    const c = usePred ? sameApproximation(g, pa, ctx) : sameApproximation(p, ga!, ctx);
    ctx.strategy = c === "undecided" ? "decimal-approximation-undecidable" : "decimal-approximation";
    return c === "equal";
  }
  if (eg !== undefined && ep !== undefined && approx === undefined) {
    ctx.strategy = "exact";
    return false;
  }
  let ng: Num;
  let np: Num;
  try {
    ng = evalNum(g, new Map(), ctx.budget);
    np = evalNum(p, new Map(), ctx.budget);
  } catch (e) {
    if (e instanceof UndefinedValue) return false;
    throw e;
  }
  const c = compareNum(ng, np, approx ?? REL_TOL);
  ctx.strategy =
    c === "undecided" ? "numeric-undecidable" : approx === undefined ? "numeric" : "decimal-approximation";
  return c === "equal";
}

/**
 * Exact identity testing at random integer points (Schwartz–Zippel): the verdict, or
 * undefined when exact values are not to be had there (numeric sampling decides then).
 */
function exactSampling(
  g: Node,
  p: Node,
  syms: readonly string[],
  approx: number | undefined,
  rng: () => number,
  ctx: Ctx,
): boolean | undefined {
  if (approx !== undefined) return undefined;
  const want = ctx.opts.samplePoints;
  let exactPoints = 0;
  for (let attempt = 0; attempt < want * 3 && exactPoints < want; attempt++) {
    ctx.budget.tick();
    const env = new Map(
      syms.map((s) => {
        const v = BigInt(Math.floor(rng() * 2_000_000) - 1_000_000) || 7n;
        return [s, cq(q(v))] as const;
      }),
    );
    let a: CQ | undefined;
    let b: CQ | undefined;
    try {
      a = tryExact(g, env, ctx);
      b = a === undefined ? undefined : tryExact(p, env, ctx);
    } catch (e) {
      if (e instanceof UndefinedValue) continue;
      throw e;
    }
    if (a === undefined || b === undefined) return undefined;
    if (!cEq(a, b)) {
      ctx.strategy = "exact-sampling";
      return false; // both values are exact, so any difference is real
    }
    exactPoints++;
  }
  if (exactPoints < want) return undefined;
  ctx.strategy = "exact-sampling";
  return true;
}

/** Numeric sampling at positive reals (so √x, log x and x^{1/3} are real there). */
function numericSampling(
  g: Node,
  p: Node,
  syms: readonly string[],
  approx: number | undefined,
  rng: () => number,
  ctx: Ctx,
): boolean {
  const want = ctx.opts.samplePoints;
  let agreed = 0;
  let undecided = 0;
  for (let attempt = 0; attempt < want * 4 && agreed < want; attempt++) {
    ctx.budget.tick();
    const env = new Map(syms.map((s) => [s, 0.5 + 2.5 * rng()] as const));
    let a: Num;
    let b: Num;
    try {
      a = evalNum(g, env, ctx.budget);
    } catch (e) {
      if (e instanceof UndefinedValue) continue;
      throw e;
    }
    try {
      b = evalNum(p, env, ctx.budget);
    } catch (e) {
      if (e instanceof UndefinedValue) {
        ctx.strategy = "numeric-sampling";
        return false; // defined for the gold, undefined for the prediction
      }
      throw e;
    }
    const c = compareNum(a, b, approx ?? REL_TOL);
    if (c === "unequal") {
      ctx.strategy = "numeric-sampling";
      return false;
    }
    // A point where the bound is too wide to decide is no evidence either way.
    if (c === "undecided") {
      undecided++;
      continue;
    }
    agreed++;
  }
  ctx.strategy = agreed < Math.min(3, want) && undecided > 0 ? "numeric-undecidable" : "numeric-sampling";
  return agreed >= Math.min(3, want);
}
