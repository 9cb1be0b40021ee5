// Code-output prediction: small Python programs generated as an AST that we evaluate
// ourselves with Python's semantics (arbitrary-precision ints, floor division, modulo with
// the divisor's sign, list printing), so the expected output is known without running
// anything. "a=3\nprint(a+4)" at difficulty 0; loops, branches, lists and min/max at 10.
// test/tasks/code-output.test.ts cross-checks the evaluator against python3.
import { z } from "zod";
import { stripFence } from "../answer.ts";
import { correct, defineFamily, FORMAT_HINT, incorrect, isTerse, lerp } from "../family.ts";
import type { Rng } from "../rng.ts";

interface Env {
  ints: Map<string, bigint>;
  lists: Map<string, bigint[]>;
  out: string[];
}
interface Expr {
  code: string;
  /** Binding strength for parenthesisation: 3 atom, 2 multiplicative, 1 additive. */
  prec: number;
  ev: (env: Env) => bigint;
}
interface Stmt {
  lines: string[];
  run: (env: Env) => void;
}

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};
const pyMod = (a: bigint, b: bigint): bigint => a - b * floorDiv(a, b);
const getInt = (env: Env, name: string): bigint => {
  const v = env.ints.get(name);
  if (v === undefined) throw new Error(`generator bug: ${name} undefined`);
  return v;
};
const getList = (env: Env, name: string): bigint[] => {
  const v = env.lists.get(name);
  if (v === undefined) throw new Error(`generator bug: list ${name} undefined`);
  return v;
};
// Math.max does not take BigInt.
function bigMax(a: bigint, b: bigint): bigint {
  if (a >= b) return a;
  return b;
}
function bigMin(a: bigint, b: bigint): bigint {
  if (a <= b) return a;
  return b;
}
const showList = (xs: readonly bigint[]): string => `[${xs.join(", ")}]`;

interface GenCtx {
  rng: Rng;
  d: number;
  sp: string;
  ints: string[];
  lists: string[];
  loopVar: string | undefined;
  maxLit: number;
}

function lit(v: bigint): Expr {
  return { code: v < 0n ? `(${v})` : String(v), prec: 3, ev: () => v };
}

function atom(ctx: GenCtx): Expr {
  const { rng } = ctx;
  const names = ctx.loopVar ? [...ctx.ints, ctx.loopVar] : ctx.ints;
  if (names.length > 0 && rng.chance(0.6)) {
    const name = rng.pick(names);
    return { code: name, prec: 3, ev: (env) => getInt(env, name) };
  }
  if (ctx.lists.length > 0 && ctx.d >= 6 && rng.chance(0.3)) {
    const name = rng.pick(ctx.lists);
    const f = rng.pick(["len", "sum", "max"]);
    return {
      code: `${f}(${name})`,
      prec: 3,
      ev: (env) => {
        const xs = getList(env, name);
        if (f === "len") return BigInt(xs.length);
        if (f === "sum") return xs.reduce((a, b) => a + b, 0n);
        return xs.reduce(bigMax);
      },
    };
  }
  return lit(BigInt(rng.int(0, ctx.maxLit)));
}

function expr(ctx: GenCtx, depth: number): Expr {
  const { rng, d, sp } = ctx;
  if (depth <= 0 || rng.chance(0.3)) return atom(ctx);
  if (d >= 5 && rng.chance(0.15)) {
    const f = rng.pick(["min", "max"]);
    const a = expr(ctx, depth - 1);
    const b = expr(ctx, depth - 1);
    return {
      code: `${f}(${a.code},${sp}${b.code})`,
      prec: 3,
      ev: (env) => {
        const x = a.ev(env);
        const y = b.ev(env);
        return f === "min" ? bigMin(x, y) : bigMax(x, y);
      },
    };
  }
  const ops = d < 2 ? ["+", "-", "*"] : ["+", "-", "*", "//", "%"];
  const op = rng.pick(ops);
  const a = expr(ctx, depth - 1);
  if (op === "//" || op === "%") {
    // Divide by a positive literal only, so no program ever divides by zero.
    const b = BigInt(rng.int(2, 9));
    const left = a.prec >= 2 ? a.code : `(${a.code})`;
    return {
      code: `${left}${sp}${op}${sp}${b}`,
      prec: 2,
      ev: (env) => (op === "//" ? floorDiv(a.ev(env), b) : pyMod(a.ev(env), b)),
    };
  }
  const b = expr(ctx, depth - 1);
  const prec = op === "*" ? 2 : 1;
  const left = a.prec >= prec ? a.code : `(${a.code})`;
  const right = b.prec > prec ? b.code : `(${b.code})`;
  return {
    code: `${left}${sp}${op}${sp}${right}`,
    prec,
    ev: (env) => {
      const x = a.ev(env);
      const y = b.ev(env);
      return op === "+" ? x + y : op === "-" ? x - y : x * y;
    },
  };
}

const indent = (lines: string[]): string[] => lines.map((l) => `    ${l}`);

/** `v += e` style update of an existing variable (no *= inside loops: values stay printable). */
function update(ctx: GenCtx, inLoop: boolean): Stmt {
  const { rng, sp } = ctx;
  const name = rng.pick(ctx.ints);
  const op = rng.pick(inLoop ? ["+=", "-="] : ["+=", "-=", "*="]);
  const e = expr(ctx, 1);
  return {
    lines: [`${name}${sp}${op}${sp}${e.code}`],
    run: (env) => {
      const x = getInt(env, name);
      const y = e.ev(env);
      env.ints.set(name, op === "+=" ? x + y : op === "-=" ? x - y : x * y);
    },
  };
}

function condition(ctx: GenCtx): Expr & { test: (env: Env) => boolean } {
  const { rng, sp } = ctx;
  const a = expr(ctx, 1);
  const b = expr(ctx, 0);
  const cmp = rng.pick(["<", ">", "==", "!="]);
  const test = (env: Env): boolean => {
    const x = a.ev(env);
    const y = b.ev(env);
    return cmp === "<" ? x < y : cmp === ">" ? x > y : cmp === "==" ? x === y : x !== y;
  };
  return { code: `${a.code}${sp}${cmp}${sp}${b.code}`, prec: 0, ev: () => 0n, test };
}

function statement(ctx: GenCtx, fresh: string[]): Stmt {
  const { rng, d, sp } = ctx;
  const kinds = ["assign"];
  if (ctx.ints.length > 0) kinds.push("update");
  if (d >= 3 && ctx.ints.length > 0 && ctx.loopVar === undefined) kinds.push("for", "for");
  if (d >= 4 && ctx.ints.length > 0) kinds.push("if");
  if (d >= 6 && ctx.lists.length === 0) kinds.push("list");
  if (d >= 6 && ctx.lists.length > 0) kinds.push("append");
  if (d >= 4 && ctx.ints.length > 0) kinds.push("print");
  const kind = rng.pick(kinds);
  switch (kind) {
    case "update":
      return update(ctx, false);
    case "for": {
      const k = rng.int(2, lerp(d, 3, 6));
      const inner: GenCtx = { ...ctx, loopVar: "i" };
      const body = Array.from({ length: rng.int(1, d >= 7 ? 2 : 1) }, () =>
        d >= 6 && rng.chance(0.3)
          ? ifStmt(inner, true)
          : ctx.lists.length > 0 && rng.chance(0.3)
            ? append(inner)
            : update(inner, true),
      );
      return {
        lines: [`for i in range(${k}):`, ...indent(body.flatMap((s) => s.lines))],
        run: (env) => {
          for (let i = 0; i < k; i++) {
            env.ints.set("i", BigInt(i));
            for (const s of body) s.run(env);
          }
          env.ints.delete("i");
        },
      };
    }
    case "if":
      return ifStmt(ctx, false);
    case "list": {
      const name = "xs";
      const items = Array.from({ length: rng.int(2, 4) }, () => expr(ctx, 1));
      ctx.lists.push(name);
      return {
        lines: [`${name}${sp}=${sp}[${items.map((e) => e.code).join(`,${sp}`)}]`],
        run: (env) =>
          env.lists.set(
            name,
            items.map((e) => e.ev(env)),
          ),
      };
    }
    case "append":
      return append(ctx);
    case "print": {
      const e = expr(ctx, 1);
      return { lines: [`print(${e.code})`], run: (env) => env.out.push(String(e.ev(env))) };
    }
    default: {
      const name = fresh.shift() ?? rng.pick(ctx.ints);
      const e = expr(ctx, ctx.ints.length === 0 ? 0 : 1);
      if (!ctx.ints.includes(name)) ctx.ints.push(name);
      return { lines: [`${name}${sp}=${sp}${e.code}`], run: (env) => env.ints.set(name, e.ev(env)) };
    }
  }
}

function append(ctx: GenCtx): Stmt {
  const name = ctx.lists[0] as string;
  const e = expr(ctx, 1);
  return { lines: [`${name}.append(${e.code})`], run: (env) => getList(env, name).push(e.ev(env)) };
}

function ifStmt(ctx: GenCtx, inLoop: boolean): Stmt {
  const c = condition(ctx);
  const yes = update(ctx, inLoop);
  const no = ctx.rng.chance(0.5) ? update(ctx, inLoop) : undefined;
  return {
    lines: [`if ${c.code}:`, ...indent(yes.lines), ...(no ? ["else:", ...indent(no.lines)] : [])],
    run: (env) => (c.test(env) ? yes.run(env) : no?.run(env)),
  };
}

export function generateProgram(rng: Rng, d: number): { code: string; output: string; statements: number } {
  const statements = lerp(d, 1, 12);
  const ctx: GenCtx = {
    rng,
    d,
    sp: isTerse(d) ? "" : " ",
    ints: [],
    lists: [],
    loopVar: undefined,
    maxLit: lerp(d, 9, 99),
  };
  const fresh = ["a", "b", "c", "d", "e", "f"].slice(0, lerp(d, 1, 6));
  const body: Stmt[] = [];
  for (let i = 0; i < statements; i++) body.push(statement(ctx, fresh));
  const final: Stmt =
    ctx.lists.length > 0 && rng.chance(0.5)
      ? {
          lines: [`print(${ctx.lists[0]})`],
          run: (env) => env.out.push(showList(getList(env, ctx.lists[0] as string))),
        }
      : (() => {
          const e = expr(ctx, d < 1 ? 1 : 2);
          return { lines: [`print(${e.code})`], run: (env: Env) => env.out.push(String(e.ev(env))) };
        })();
  body.push(final);
  const env: Env = { ints: new Map(), lists: new Map(), out: [] };
  for (const s of body) s.run(env);
  return { code: body.flatMap((s) => s.lines).join("\n"), output: env.out.join("\n"), statements };
}

/** Output comparison ignores trailing whitespace on lines and blank lines at either end. */
export function normalizeOutput(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .replace(/^\n+|\n+$/g, "");
}

export const codeOutput = defineFamily({
  name: "code_output",
  domain: "code",
  description: "predict the output of a small Python program",
  measureName: "statements",
  reference: z.looseObject({ answer: z.string(), program: z.string(), language: z.string().optional() }),
  generate(rng, d) {
    const { code, output, statements } = generateProgram(rng, d);
    const prompt = isTerse(d)
      ? code
      : `What does this Python program print?\n\`\`\`python\n${code}\n\`\`\`\nGive the exact output. ${FORMAT_HINT}`;
    return { prompt, reference: { answer: output, program: code, language: "python" }, measure: statements };
  },
  check(ref, answer) {
    const got = normalizeOutput(stripFence(answer));
    return got === normalizeOutput(ref.answer) ? correct() : incorrect("wrong_output");
  },
  wrongAnswers(ref) {
    const lines = ref.answer.split("\n");
    const last = lines.at(-1) as string;
    const bumped = /^-?\d+$/.test(last) ? String(BigInt(last) + 1n) : `${last}0`;
    const out = [[...lines.slice(0, -1), bumped].join("\n"), `${ref.answer}\n0`];
    if (lines.length > 1) out.push(lines.slice(1).join("\n"));
    return out;
  },
});
