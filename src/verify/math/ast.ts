// The answer AST: what an extracted answer means, independent of how it was written.
import type { Q } from "./rational.ts";

export type RelOp = "=" | "<" | ">" | "<=" | ">=" | "!=" | "in";
export type BinOp = "+" | "-" | "*" | "/" | "^";

export type Node =
  /** A literal; `sig` is set for decimal literals (their significant digits), which may be approximations; `scale` is the number of decimal places written (its last place is 10^-scale). */
  | { k: "num"; v: Q; sig: number | undefined; scale?: number }
  | { k: "sym"; name: string }
  | { k: "const"; name: "pi" | "e" | "i" | "inf" }
  | { k: "bin"; op: BinOp; a: Node; b: Node }
  | { k: "neg"; a: Node }
  /** a ± b (a undefined for a leading ±); expanded into two answers before comparison. */
  | { k: "pm"; a: Node | undefined; b: Node; minusFirst: boolean }
  | { k: "fn"; name: string; args: Node[] }
  | { k: "pct"; a: Node }
  | { k: "rel"; ops: RelOp[]; items: Node[] }
  | { k: "tuple"; open: "(" | "["; close: ")" | "]"; items: Node[] }
  | { k: "set"; items: Node[] }
  /** Bare comma-separated answers: compared as an unordered collection. */
  | { k: "list"; items: Node[] }
  | { k: "union"; items: Node[] }
  | { k: "matrix"; rows: Node[][] }
  | { k: "text"; s: string };

export function show(n: Node): string {
  switch (n.k) {
    case "num":
      return n.v.d === 1n ? n.v.n.toString() : `${n.v.n}/${n.v.d}`;
    case "sym":
      return n.name;
    case "const":
      return n.name === "inf" ? "oo" : n.name;
    case "bin":
      return `(${show(n.a)}${n.op}${show(n.b)})`;
    case "neg":
      return `-${show(n.a)}`;
    case "pm":
      return `(${n.a === undefined ? "" : show(n.a)}±${show(n.b)})`;
    case "fn":
      return `${n.name}(${n.args.map(show).join(",")})`;
    case "pct":
      return `${show(n.a)}%`;
    case "rel": {
      let s = show(n.items[0]!);
      for (let i = 0; i < n.ops.length; i++) s += ` ${n.ops[i]} ${show(n.items[i + 1]!)}`;
      return s;
    }
    case "tuple":
      return `${n.open}${n.items.map(show).join(", ")}${n.close}`;
    case "set":
      return `{${n.items.map(show).join(", ")}}`;
    case "list":
      return n.items.map(show).join(", ");
    case "union":
      return n.items.map(show).join(" ∪ ");
    case "matrix":
      return `[${n.rows.map((r) => `[${r.map(show).join(", ")}]`).join(", ")}]`;
    case "text":
      return JSON.stringify(n.s);
  }
}
