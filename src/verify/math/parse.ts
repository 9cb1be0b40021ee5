// LaTeX / plain-math answer → AST, by a hand-written lexer and recursive-descent parser.
// Every loop ticks the budget and nesting is bounded, so hostile inputs end quickly with a
// MathLimitError (unparseable) or MathBudgetError (out of time) instead of hanging.

import type { BinOp, Node, RelOp } from "./ast.ts";
import { type Budget, MathLimitError } from "./budget.ts";
import { q, qIsInt } from "./rational.ts";

type Tok =
  | { t: "num"; s: string }
  | { t: "id"; s: string }
  | { t: "cmd"; s: string }
  | { t: "op"; s: string }
  | { t: "text"; s: string };

export class ParseError extends Error {
  override readonly name = "ParseError";
}

/** Words written without a backslash that name functions or constants. Longest first. */
const PLAIN_WORDS = [
  "arcsin",
  "arccos",
  "arctan",
  "infinity",
  "sqrt",
  "sinh",
  "cosh",
  "tanh",
  "sin",
  "cos",
  "tan",
  "sec",
  "csc",
  "cot",
  "exp",
  "log",
  "inf",
  "ln",
  "pi",
];

const FUNCTIONS = new Set([
  "sin",
  "cos",
  "tan",
  "sec",
  "csc",
  "cot",
  "arcsin",
  "arccos",
  "arctan",
  "sinh",
  "cosh",
  "tanh",
  "exp",
  "ln",
  "log",
  "lg",
]);

const GREEK = new Set([
  "alpha",
  "beta",
  "gamma",
  "delta",
  "epsilon",
  "varepsilon",
  "zeta",
  "eta",
  "theta",
  "vartheta",
  "iota",
  "kappa",
  "lambda",
  "mu",
  "nu",
  "xi",
  "rho",
  "sigma",
  "tau",
  "upsilon",
  "phi",
  "varphi",
  "chi",
  "psi",
  "omega",
  "Gamma",
  "Delta",
  "Theta",
  "Lambda",
  "Xi",
  "Pi",
  "Sigma",
  "Phi",
  "Psi",
  "Omega",
]);

const REL_CMDS: Readonly<Record<string, RelOp>> = {
  le: "<=",
  leq: "<=",
  leqslant: "<=",
  ge: ">=",
  geq: ">=",
  geqslant: ">=",
  lt: "<",
  gt: ">",
  ne: "!=",
  neq: "!=",
  approx: "=",
  in: "in",
};

const MUL_CMDS = new Set(["cdot", "times", "ast"]);
const NON_ATOM_CMDS = new Set([
  ...MUL_CMDS,
  "cap",
  "setminus",
  "div",
  "pm",
  "mp",
  "cup",
  "cap",
  "end",
  "\\",
  "}",
  "to",
  "quad",
  ...Object.keys(REL_CMDS),
]);

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}
function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
}

export function lex(src: string, budget: Budget): Tok[] {
  const out: Tok[] = [];
  const { maxDigits } = budget.limits;
  let i = 0;
  // Inside brackets "12,102" is two numbers (a point, an interval), not twelve thousand.
  let brackets = 0;
  while (i < src.length) {
    budget.tick();
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(src[i + 1]))) {
      let j = i;
      while (isDigit(src[j])) j++;
      // Thousands separators: 1,234,567 (exactly three digits per group, no spaces).
      while (
        brackets === 0 &&
        src[j] === "," &&
        isDigit(src[j + 1]) &&
        isDigit(src[j + 2]) &&
        isDigit(src[j + 3])
      ) {
        if (isDigit(src[j + 4])) break;
        j += 4;
      }
      if (src[j] === "." && isDigit(src[j + 1])) {
        j++;
        while (isDigit(src[j])) j++;
      }
      // Plain scientific notation: 1.5e-3, 2E10.
      if (
        (src[j] === "e" || src[j] === "E") &&
        (isDigit(src[j + 1]) || ((src[j + 1] === "-" || src[j + 1] === "+") && isDigit(src[j + 2])))
      ) {
        j += 2;
        while (isDigit(src[j])) j++;
      }
      const s = src.slice(i, j).replace(/,/g, "");
      if (s.replace(/\D/g, "").length > maxDigits)
        throw new MathLimitError(`a number has more than ${maxDigits} digits`);
      out.push({ t: "num", s });
      i = j;
      continue;
    }
    if (isLetter(c)) {
      const word =
        PLAIN_WORDS.find((w) => src.startsWith(w, i) && !isLetter(src[i + w.length])) ??
        PLAIN_WORDS.find((w) => w.length > 2 && src.startsWith(w, i));
      if (word !== undefined) {
        out.push(
          word === "pi"
            ? { t: "cmd", s: "pi" }
            : word.startsWith("inf")
              ? { t: "cmd", s: "infty" }
              : { t: "cmd", s: word },
        );
        i += word.length;
        continue;
      }
      out.push({ t: "id", s: c });
      i++;
      continue;
    }
    if (c === "\\") {
      const n = src[i + 1];
      if (isLetter(n)) {
        let j = i + 1;
        while (isLetter(src[j])) j++;
        const name = src.slice(i + 1, j);
        if (name === "text") {
          // \text{...}: keep the raw content, braces balanced.
          let k = j;
          while (src[k] === " ") k++;
          if (src[k] !== "{") throw new ParseError("\\text without braces");
          let depth = 0;
          let e = k;
          for (; e < src.length; e++) {
            budget.tick();
            if (src[e] === "{") depth++;
            else if (src[e] === "}" && --depth === 0) break;
          }
          if (depth !== 0) throw new ParseError("unbalanced braces in \\text");
          out.push({ t: "text", s: src.slice(k + 1, e) });
          i = e + 1;
          continue;
        }
        out.push({ t: "cmd", s: name });
        i = j;
        continue;
      }
      if (n === "{" || n === "}" || n === "%" || n === "\\" || n === "|") {
        out.push(n === "%" ? { t: "op", s: "%" } : n === "|" ? { t: "op", s: "|" } : { t: "cmd", s: n });
        i += 2;
        continue;
      }
      i += 2; // other escaped punctuation carries no meaning here
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === "<=" || two === ">=" || two === "!=" || two === "**") {
      out.push({ t: "op", s: two === "**" ? "^" : two });
      i += 2;
      continue;
    }
    if (c === "(" || c === "[") brackets++;
    else if ((c === ")" || c === "]") && brackets > 0) brackets--;
    if ("+-*/^_()[]{},;|!=<>&'%:".includes(c)) {
      out.push({ t: "op", s: c });
      i++;
      continue;
    }
    throw new ParseError(`unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

function baseNumeral(digits: string, base: string): Node {
  const b = Number(base);
  if (!/^\d{1,2}$/.test(base) || b < 2 || b > 10 || [...digits].some((d) => Number(d) >= b))
    throw new ParseError(`${digits}_${base} is not a base-${base} numeral`);
  let v = 0n;
  for (const d of digits) v = v * BigInt(b) + BigInt(d);
  return { k: "num", v: q(v), sig: undefined };
}

function decimalLiteral(s: string): Node {
  const m = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (m === null) throw new ParseError(`bad number ${s}`);
  const int = m[1] ?? "";
  const frac = m[2] ?? "";
  const exp = m[3] === undefined ? 0 : Number(m[3]);
  if (Math.abs(exp) > 400) throw new MathLimitError("exponent in scientific notation is too large");
  const digits = BigInt((int + frac).replace(/^0+(?=\d)/, "") || "0");
  const scale = frac.length - exp;
  const v = scale >= 0 ? q(digits, 10n ** BigInt(scale)) : q(digits * 10n ** BigInt(-scale));
  const isDecimal = m[2] !== undefined || m[3] !== undefined;
  const sig = (int + frac).replace(/^0+/, "").length;
  return isDecimal ? { k: "num", v, sig: Math.max(sig, 1), scale } : { k: "num", v, sig: undefined };
}

const TOP_END = new Set([")", "]", "}", "\\}", "&", "\\\\", "|"]);

class Parser {
  readonly #toks: Tok[];
  readonly #budget: Budget;
  #i = 0;
  #depth = 0;

  constructor(toks: Tok[], budget: Budget) {
    this.#toks = toks;
    this.#budget = budget;
  }

  get done(): boolean {
    return this.#i >= this.#toks.length;
  }

  peek(offset = 0): Tok | undefined {
    return this.#toks[this.#i + offset];
  }

  #is(t: Tok["t"], s?: string, offset = 0): boolean {
    const k = this.#toks[this.#i + offset];
    return k !== undefined && k.t === t && (s === undefined || k.s === s);
  }

  #isOp(s: string): boolean {
    return this.#is("op", s);
  }

  #isCmd(s: string): boolean {
    return this.#is("cmd", s);
  }

  #next(): Tok {
    const k = this.#toks[this.#i++];
    if (k === undefined) throw new ParseError("unexpected end of answer");
    return k;
  }

  #expectOp(s: string): void {
    const k = this.#next();
    if (k.t !== "op" || k.s !== s) throw new ParseError(`expected ${s}`);
  }

  #enter(): void {
    this.#budget.tick();
    if (++this.#depth > this.#budget.limits.maxDepth) {
      throw new MathLimitError(`nesting deeper than ${this.#budget.limits.maxDepth}`);
    }
  }

  #atEnd(): boolean {
    const k = this.peek();
    if (k === undefined) return true;
    if (k.t === "op") return TOP_END.has(k.s);
    if (k.t === "cmd") return k.s === "}" || k.s === "\\" || k.s === "end";
    return false;
  }

  /**
   * Comma/semicolon separated answers. When semicolons separate groups of several
   * comma-separated parts ("p=5,q=2;p=7,q=2"), each group is one solution, an ordered tuple.
   */
  parseSeq(): Node[] {
    const groups: Node[][] = [[]];
    for (;;) {
      this.#budget.tick();
      if (this.#atEnd() && groups.some((g) => g.length > 0)) break;
      groups[groups.length - 1]!.push(this.parseRelation());
      if (this.#isOp(",") || this.#isOp(";")) {
        if (this.#next().s === ";") groups.push([]);
        continue;
      }
      break;
    }
    const parts = groups.filter((g) => g.length > 0);
    if (parts.length < 2 || parts.every((g) => g.length === 1)) return parts.flat();
    return parts.map((g) => (g.length === 1 ? g[0]! : { k: "tuple", open: "(", close: ")", items: g }));
  }

  parseTop(): Node {
    const items = this.parseSeq();
    if (!this.done) throw new ParseError(`unexpected ${JSON.stringify(this.peek()?.s)}`);
    return items.length === 1 ? items[0]! : { k: "list", items };
  }

  #relOp(): RelOp | undefined {
    const k = this.peek();
    if (k === undefined) return undefined;
    if (k.t === "op") {
      if (k.s === "=" || k.s === "<" || k.s === ">" || k.s === "<=" || k.s === ">=" || k.s === "!=")
        return k.s;
      if (k.s === ":" && this.#toks[this.#i + 1]?.s === "=") return "=";
    }
    if (k.t === "cmd") return REL_CMDS[k.s];
    return undefined;
  }

  parseRelation(): Node {
    const first = this.parseUnion();
    const ops: RelOp[] = [];
    const items: Node[] = [first];
    for (let op = this.#relOp(); op !== undefined; op = this.#relOp()) {
      this.#budget.tick();
      if (this.#isOp(":")) this.#next();
      this.#next();
      ops.push(op);
      items.push(this.parseUnion());
    }
    return ops.length === 0 ? first : { k: "rel", ops, items };
  }

  parseUnion(): Node {
    let first = this.parseAdd();
    // \cap and \setminus bind tighter than \cup; they are kept as operations on their sets.
    while (this.#isCmd("cap") || this.#isCmd("setminus")) {
      this.#budget.tick();
      const name = this.#next().s;
      first = { k: "fn", name, args: [first, this.parseAdd()] };
    }
    if (!this.#isCmd("cup")) return first;
    const items = [first];
    while (this.#isCmd("cup")) {
      this.#budget.tick();
      this.#next();
      let part = this.parseAdd();
      while (this.#isCmd("cap") || this.#isCmd("setminus")) {
        this.#budget.tick();
        const name = this.#next().s;
        part = { k: "fn", name, args: [part, this.parseAdd()] };
      }
      items.push(part);
    }
    return { k: "union", items };
  }

  parseAdd(): Node {
    this.#enter();
    let left = this.parseMul();
    for (;;) {
      this.#budget.tick();
      if (this.#isOp("+") || this.#isOp("-")) {
        const op = this.#next().s as BinOp;
        left = { k: "bin", op, a: left, b: this.parseMul() };
      } else if (this.#isCmd("pm") || this.#isCmd("mp")) {
        const minusFirst = this.#next().s === "mp";
        left = { k: "pm", a: left, b: this.parseMul(), minusFirst };
      } else break;
    }
    this.#depth--;
    return left;
  }

  #startsAtom(): boolean {
    const k = this.peek();
    if (k === undefined) return false;
    if (k.t === "num" || k.t === "id") return true;
    if (k.t === "text") return false;
    if (k.t === "cmd") return !NON_ATOM_CMDS.has(k.s) && k.s !== "{";
    return k.s === "(" || k.s === "{";
  }

  parseMul(): Node {
    this.#enter();
    let left = this.parseUnary();
    for (;;) {
      this.#budget.tick();
      const k = this.peek();
      if (k === undefined) break;
      // A ratio "7:32" is the quotient 7/32 ("A:B = 1"); ":=" is an assignment, not a ratio.
      const ratio = k.t === "op" && k.s === ":" && this.peek(1)?.s !== "=";
      if (
        (k.t === "op" && (k.s === "*" || k.s === "/")) ||
        ratio ||
        (k.t === "cmd" && (MUL_CMDS.has(k.s) || k.s === "div"))
      ) {
        this.#next();
        const op: BinOp = k.s === "/" || k.s === "div" || ratio ? "/" : "*";
        left = { k: "bin", op, a: left, b: this.parseUnary() };
        continue;
      }
      if (this.#startsAtom()) {
        // Mixed number: an integer literal directly followed by a proper fraction of integers.
        const whole = left.k === "neg" ? left.a : left;
        if (whole.k === "num" && whole.sig === undefined && qIsInt(whole.v) && this.#isCmd("frac")) {
          const f = this.parsePower();
          if (
            f.k === "bin" &&
            f.op === "/" &&
            f.a.k === "num" &&
            f.b.k === "num" &&
            f.a.sig === undefined &&
            f.b.sig === undefined &&
            f.a.v.n < f.b.v.n
          ) {
            const mixed: Node = { k: "bin", op: "+", a: whole, b: f };
            left = left.k === "neg" ? { k: "neg", a: mixed } : mixed;
          } else left = { k: "bin", op: "*", a: left, b: f };
          continue;
        }
        left = { k: "bin", op: "*", a: left, b: this.parsePower() };
        continue;
      }
      break;
    }
    this.#depth--;
    return left;
  }

  parseUnary(): Node {
    this.#enter();
    let r: Node;
    if (this.#isOp("-")) {
      this.#next();
      r = { k: "neg", a: this.parseUnary() };
    } else if (this.#isOp("+")) {
      this.#next();
      r = this.parseUnary();
    } else if (this.#isCmd("pm") || this.#isCmd("mp")) {
      const minusFirst = this.#next().s === "mp";
      r = { k: "pm", a: undefined, b: this.parseUnary(), minusFirst };
    } else r = this.parsePower();
    this.#depth--;
    return r;
  }

  /** A LaTeX macro argument: a brace group, or a single token (`\frac12`). */
  #parseArg(): Node {
    const k = this.peek();
    if (k === undefined) throw new ParseError("missing argument");
    if (k.t === "op" && k.s === "{") return this.#parseBraceGroup();
    if (k.t === "num" && k.s.length > 1) {
      this.#toks[this.#i] = { t: "num", s: k.s.slice(1) };
      return decimalLiteral(k.s[0]!);
    }
    if (k.t === "op" && k.s === "-") {
      this.#next();
      return { k: "neg", a: this.#parseArg() };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  #parseBraceGroup(): Node {
    this.#enter();
    this.#expectOp("{");
    const items = this.parseSeq();
    this.#expectOp("}");
    this.#depth--;
    return items.length === 1 ? items[0]! : { k: "list", items };
  }

  parsePower(): Node {
    this.#enter();
    let base = this.parsePostfix(this.parsePrimary());
    while (this.#isOp("^")) {
      this.#budget.tick();
      this.#next();
      const e = this.#parseArg();
      base = this.parsePostfix({ k: "bin", op: "^", a: base, b: e });
    }
    this.#depth--;
    return base;
  }

  parsePostfix(n: Node): Node {
    for (;;) {
      this.#budget.tick();
      if (this.#isOp("!")) {
        this.#next();
        n = { k: "fn", name: "fact", args: [n] };
      } else if (this.#isOp("%")) {
        this.#next();
        n = { k: "pct", a: n };
      } else if (this.#isOp("'")) {
        this.#next();
        if (n.k !== "sym") throw new ParseError("prime on a non-symbol");
        n = { k: "sym", name: `${n.name}'` };
      } else return n;
    }
  }

  #subscriptText(): string {
    this.#expectOp("_");
    const k = this.peek();
    if (k?.t === "op" && k.s === "{") {
      let depth = 0;
      let s = "";
      for (;;) {
        this.#budget.tick();
        const t = this.#next();
        if (t.t === "op" && t.s === "{") depth++;
        else if (t.t === "op" && t.s === "}") depth--;
        if (depth === 0) break;
        if (!(t.t === "op" && t.s === "{" && depth === 1)) s += t.s;
      }
      return s;
    }
    const t = this.#next();
    return t.t === "num" ? t.s[0]! : t.s;
  }

  #parseParenLike(open: "(" | "["): Node {
    this.#enter();
    this.#next();
    if (this.#isOp(")") || this.#isOp("]")) {
      this.#next();
      this.#depth--;
      return { k: "tuple", open, close: ")", items: [] };
    }
    const items = this.parseSeq();
    const close = this.#next();
    if (close.t !== "op" || (close.s !== ")" && close.s !== "]")) throw new ParseError("unclosed bracket");
    this.#depth--;
    if (items.length === 1 && open === "(" && close.s === ")") return items[0]!;
    if (items.length === 1 && open === "[" && close.s === "]") return items[0]!;
    return { k: "tuple", open, close: close.s, items };
  }

  #parseFunction(name: string): Node {
    let power: Node | undefined;
    let base: Node | undefined;
    for (let n = 0; n < 2; n++) {
      if (this.#isOp("^")) {
        this.#next();
        power = this.#parseArg();
      } else if (this.#isOp("_")) {
        this.#next();
        base = this.#parseArg();
      }
    }
    let arg: Node;
    if (this.#isOp("(")) {
      arg = this.#parseParenLike("(");
    } else {
      // \sin 2x means sin(2x): a power then any directly following number/letter atoms.
      arg = this.parsePower();
      while (this.#is("id") || this.#is("num") || this.#isCmd("pi")) {
        this.#budget.tick();
        arg = { k: "bin", op: "*", a: arg, b: this.parsePower() };
      }
    }
    let fname = name === "lg" ? "log10" : name;
    if (
      power?.k === "neg" &&
      power.a.k === "num" &&
      power.a.v.n === 1n &&
      power.a.v.d === 1n &&
      /^(sin|cos|tan)$/.test(name)
    ) {
      fname = `arc${name}`;
      power = undefined;
    }
    const call: Node =
      fname === "log" && base !== undefined
        ? { k: "fn", name: "logb", args: [arg, base] }
        : { k: "fn", name: fname === "log" ? "ln" : fname, args: [arg] };
    return power === undefined ? call : { k: "bin", op: "^", a: call, b: power };
  }

  #parseEnvironment(): Node {
    this.#expectOp("{");
    let env = "";
    while (!this.#isOp("}")) {
      this.#budget.tick();
      env += this.#next().s;
    }
    this.#next();
    if (!/^(p|b|v|B|V|small)?matrix\*?$|^array$/.test(env))
      throw new ParseError(`unsupported environment ${env}`);
    if (env === "array" && this.#isOp("{")) {
      while (!this.#isOp("}")) {
        this.#budget.tick();
        this.#next();
      }
      this.#next();
    }
    const rows: Node[][] = [[]];
    for (;;) {
      this.#budget.tick();
      if (this.#isCmd("end")) {
        this.#next();
        this.#parseBraceGroupRaw();
        break;
      }
      if (this.done) throw new ParseError("unterminated matrix");
      if (this.#isOp("&")) {
        this.#next();
        continue;
      }
      if (this.#isCmd("\\")) {
        this.#next();
        if (!this.#isCmd("end")) rows.push([]);
        continue;
      }
      rows[rows.length - 1]!.push(this.parseRelation());
    }
    const width = rows[0]!.length;
    if (width === 0 || rows.some((r) => r.length !== width)) throw new ParseError("ragged matrix");
    return { k: "matrix", rows };
  }

  #parseBraceGroupRaw(): void {
    this.#expectOp("{");
    while (!this.#isOp("}")) {
      this.#budget.tick();
      this.#next();
    }
    this.#next();
  }

  parsePrimary(): Node {
    this.#enter();
    const r = this.#primary();
    this.#depth--;
    return r;
  }

  #primary(): Node {
    const k = this.#next();
    switch (k.t) {
      case "num":
        // 204_5: a numeral in base 5 (digits below the base), i.e. 54.
        if (this.#isOp("_") && /^\d+$/.test(k.s)) return baseNumeral(k.s, this.#subscriptText());
        return decimalLiteral(k.s);
      case "id": {
        if (k.s === "e" && !this.#isOp("_")) return { k: "const", name: "e" };
        if (k.s === "i" && !this.#isOp("_")) return { k: "const", name: "i" };
        if (this.#isOp("_")) return { k: "sym", name: `${k.s}_${this.#subscriptText()}` };
        return { k: "sym", name: k.s };
      }
      case "text":
        return this.#textNode(k.s);
      case "op":
        if (k.s === "(" || k.s === "[") {
          this.#i--;
          return this.#parseParenLike(k.s);
        }
        if (k.s === "{") {
          this.#i--;
          return this.#parseBraceGroup();
        }
        if (k.s === "|") {
          const inner = this.parseAdd();
          this.#expectOp("|");
          return { k: "fn", name: "abs", args: [inner] };
        }
        throw new ParseError(`unexpected ${JSON.stringify(k.s)}`);
      case "cmd":
        return this.#command(k.s);
    }
  }

  #textNode(s: string): Node {
    const t = s.trim();
    if (t === "") throw new ParseError("empty \\text{}");
    if (/^[-+]?[\d.,\s/]+$/.test(t) || /^\(?[A-Ea-e]\)?$/.test(t)) {
      return parseTokens(lex(t.replace(/[()]/g, ""), this.#budget), this.#budget);
    }
    return { k: "text", s: t.toLowerCase().replace(/\s+/g, " ") };
  }

  #command(name: string): Node {
    switch (name) {
      case "frac": {
        const a = this.#parseArg();
        const b = this.#parseArg();
        return { k: "bin", op: "/", a, b };
      }
      case "binom":
      case "dbinom":
      case "tbinom":
      case "choose": {
        const a = this.#parseArg();
        const b = this.#parseArg();
        return { k: "fn", name: "binom", args: [a, b] };
      }
      case "sqrt": {
        if (this.#isOp("[")) {
          this.#next();
          const idx = this.parseAdd();
          this.#expectOp("]");
          return { k: "fn", name: "root", args: [this.#parseArg(), idx] };
        }
        if (this.#isOp("(")) return { k: "fn", name: "sqrt", args: [this.#parseParenLike("(")] };
        return { k: "fn", name: "sqrt", args: [this.#parseArg()] };
      }
      case "pi":
        return { k: "const", name: "pi" };
      case "infty":
      case "infin":
        return { k: "const", name: "inf" };
      case "imath":
      case "jmath":
        return { k: "const", name: "i" };
      case "emptyset":
      case "varnothing":
        return { k: "set", items: [] };
      case "{": {
        if (this.#isCmd("}")) {
          this.#next();
          return { k: "set", items: [] };
        }
        const items = this.parseSeq();
        if (!this.#isCmd("}")) throw new ParseError("unclosed \\{");
        this.#next();
        return { k: "set", items };
      }
      case "begin":
        return this.#parseEnvironment();
      case "mathbb": {
        const a = this.#parseArg();
        if (a.k === "sym" && a.name === "R")
          return { k: "tuple", open: "(", close: ")", items: [NEG_INF, INF] };
        throw new ParseError("unsupported \\mathbb");
      }
      case "abs":
        return { k: "fn", name: "abs", args: [this.#parseArg()] };
      case "lfloor":
      case "lceil": {
        const inner = this.parseAdd();
        this.#next();
        return { k: "fn", name: name === "lfloor" ? "floor" : "ceil", args: [inner] };
      }
      case "overline":
      case "bar":
      case "hat":
      case "vec":
      case "mathbf":
      case "boxed":
        return this.#parseArg();
      case "circ":
        return { k: "num", v: q(1n), sig: undefined };
      default:
        if (FUNCTIONS.has(name)) return this.#parseFunction(name);
        if (GREEK.has(name)) {
          if (this.#isOp("_")) return { k: "sym", name: `${name}_${this.#subscriptText()}` };
          return { k: "sym", name };
        }
        throw new ParseError(`unsupported command \\${name}`);
    }
  }
}

const INF: Node = { k: "const", name: "inf" };
const NEG_INF: Node = { k: "neg", a: INF };

function parseTokens(toks: Tok[], budget: Budget): Node {
  if (toks.length === 0) throw new ParseError("empty answer");
  return new Parser(toks, budget).parseTop();
}

/** Parses a normalised answer string; throws ParseError, MathLimitError or MathBudgetError. */
export function parseMath(src: string, budget: Budget): Node {
  if (src.length > budget.limits.maxAnswerLength) {
    throw new MathLimitError(`answer longer than ${budget.limits.maxAnswerLength} characters`);
  }
  return parseTokens(lex(src, budget), budget);
}
