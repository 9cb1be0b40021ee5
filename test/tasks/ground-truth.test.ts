// Re-derives each generated answer from the PROMPT text alone, with code independent of the
// generator, for the families where a generator bug would otherwise be self-consistent
// (the checker would happily agree with a wrong reference).
import assert from "node:assert/strict";
import { test } from "node:test";
import { evalExpression } from "../../src/tasks/families/countdown.ts";
import { getFamily } from "../../src/tasks/index.ts";
import { parseRat, ratToString } from "../../src/tasks/rational.ts";

const fam = (name: string) => {
  const f = getFamily(name);
  assert.ok(f, name);
  return f;
};
const LEVELS = [0, 1, 2, 3, 4.5, 6, 7.5, 9, 10];

type Env = Record<string, boolean>;
/** Printed boolean syntax: atoms a-z, constants T/F, !, &, |, ^, ->, parentheses. */
function parseBool(src: string): (env: Env) => boolean {
  const tokens = src.match(/->|[a-zTF]|[!&|^()]/g) ?? [];
  let i = 0;
  const unary = (): ((env: Env) => boolean) => {
    const tok = tokens[i++];
    if (tok === "!") {
      const a = unary();
      return (e) => !a(e);
    }
    if (tok === "(") {
      const a = binary();
      assert.equal(tokens[i++], ")");
      return a;
    }
    if (tok === "T") return () => true;
    if (tok === "F") return () => false;
    assert.match(String(tok), /^[a-z]$/, src);
    return (e) => e[tok as string] === true;
  };
  const binary = (): ((env: Env) => boolean) => {
    const a = unary();
    const op = tokens[i];
    if (op === undefined || op === ")") return a;
    i++;
    const b = unary();
    if (op === "&") return (e) => a(e) && b(e);
    if (op === "|") return (e) => a(e) || b(e);
    if (op === "^") return (e) => a(e) !== b(e);
    return (e) => !a(e) || b(e);
  };
  const f = binary();
  assert.equal(i, tokens.length, src);
  return f;
}

function entailsByTruthTable(premises: string[], conclusion: string): boolean {
  const ps = premises.map(parseBool);
  const c = parseBool(conclusion);
  const atoms = [...new Set([...premises, conclusion].join(" ").match(/[a-z]/g) ?? [])];
  for (let mask = 0; mask < 1 << atoms.length; mask++) {
    const env: Env = Object.fromEntries(atoms.map((a, k) => [a, ((mask >> k) & 1) === 1]));
    if (ps.every((p) => p(env)) && !c(env)) return false;
  }
  return true;
}

test("propositional_logic: answers agree with a truth table over the printed premises", () => {
  for (const d of LEVELS) {
    for (let seed = 0; seed < 30; seed++) {
      const t = fam("propositional_logic").generate(seed, d);
      const prompt = String(t.prompt);
      const m = /^Premises: (.*)\. Here -> is implies.*Does "(.*)" necessarily follow/s.exec(prompt);
      const terse = m ? undefined : /^(.*)\. ([^.]*)\?$/.exec(prompt);
      assert.ok(m ?? terse, prompt);
      const premises = m ? String(m[1]).split("; ") : String(terse?.[1]).split(". ");
      const conclusion = String(m ? m[2] : terse?.[2]);
      assert.equal(t.reference?.answer, entailsByTruthTable(premises, conclusion) ? "yes" : "no", prompt);
    }
  }
});

test("boolean_eval: answers agree with evaluating the printed formula", () => {
  for (const d of LEVELS) {
    for (let seed = 0; seed < 30; seed++) {
      const t = fam("boolean_eval").generate(seed, d);
      const prompt = String(t.prompt);
      const verbose = /^Let (.*)\. Evaluate (.*) where ! is not/.exec(prompt);
      const env: Env = {};
      for (const [, k, v] of (verbose?.[1] ?? "").matchAll(/([a-z])=([TF])/g)) env[k as string] = v === "T";
      const formula = verbose ? (verbose[2] as string) : prompt.replace(/=$/, "");
      assert.equal(t.reference?.answer, parseBool(formula)(env) ? "T" : "F", prompt);
    }
  }
});

test("graph_reachability: answers agree with a search over the printed edges", () => {
  for (const d of LEVELS) {
    for (let seed = 0; seed < 30; seed++) {
      const t = fam("graph_reachability").generate(seed, d);
      const prompt = String(t.prompt);
      const edges = [...prompt.matchAll(/(\d+)-?>(\d+)/g)].map((m) => [m[1], m[2]] as [string, string]);
      const q = /(\d+) to (\d+)\?$/.exec(prompt) ?? /from node (\d+) to node (\d+)/.exec(prompt);
      assert.ok(q, prompt);
      const seen = new Set([q[1] as string]);
      let grew = true;
      while (grew) {
        grew = false;
        for (const [a, b] of edges) {
          if (seen.has(a) && !seen.has(b)) {
            seen.add(b);
            grew = true;
          }
        }
      }
      assert.equal(t.reference?.answer, seen.has(q[2] as string) ? "yes" : "no", prompt);
    }
  }
});

test("arithmetic and fractions: answers agree with an independent exact-rational parser", () => {
  for (const name of ["arithmetic", "fractions"]) {
    for (const d of LEVELS) {
      for (let seed = 0; seed < 30; seed++) {
        const t = fam(name).generate(seed, d);
        const expression = String(t.reference?.["expression"]);
        assert.ok(String(t.prompt).includes(expression));
        assert.equal(ratToString(evalExpression(expression).value), t.reference?.answer, expression);
      }
    }
  }
});

test("linear_equation: the answer satisfies the printed equation", () => {
  for (const d of LEVELS) {
    for (let seed = 0; seed < 30; seed++) {
      const t = fam("linear_equation").generate(seed, d);
      const equation = String(t.reference?.["equation"]);
      assert.ok(String(t.prompt).includes(equation));
      const x = parseRat(String(t.reference?.answer))?.value;
      assert.ok(x);
      const xs = `((0-${x.n < 0n ? -x.n : x.n})/${x.d})`.replace("0-", x.n < 0n ? "0-" : "0+");
      const side = (s: string): string => {
        const sub = s.replace(/(\d*)x/g, (_, c: string) => `${c || "1"}*${xs}`);
        return sub.startsWith("-") ? `0${sub}` : sub;
      };
      const [lhs, rhs] = equation.split("=") as [string, string];
      assert.equal(
        ratToString(evalExpression(side(lhs)).value),
        ratToString(evalExpression(side(rhs)).value),
        equation,
      );
    }
  }
});

test("counting: known values", () => {
  const c = fam("counting");
  const seen = new Map<string, string>();
  for (let seed = 0; seed < 200; seed++) {
    const t = c.generate(seed, 0);
    seen.set(String(t.prompt), String(t.reference?.answer));
  }
  const known: Record<string, string> = {
    "C(4,2)=": "6",
    "C(5,2)=": "10",
    "C(6,1)=": "6",
    "P(4,2)=": "12",
    "P(6,2)=": "30",
    "P(5,1)=": "5",
  };
  let matched = 0;
  for (const [prompt, answer] of Object.entries(known)) {
    if (seen.has(prompt)) {
      assert.equal(seen.get(prompt), answer, prompt);
      matched++;
    }
  }
  assert.ok(matched >= 4, `only ${matched} known prompts generated`);
});

/** Reads "All X are Y" / "No X are Y" / "Some X are (not) Y" sentences; decides by listing every world. */
function syllogismByWorlds(premises: string[], conclusion: string): boolean {
  const parse = (s: string) => {
    const m = /^(All|No|Some) (\w+) are (not )?(\w+)$/i.exec(s.trim());
    assert.ok(m, s);
    const q = m[1]?.toLowerCase() === "some" ? (m[3] ? "some-not" : "some") : (m[1]?.toLowerCase() as string);
    return { q, x: m[2] as string, y: m[4] as string };
  };
  const ps = premises.map(parse);
  const c = parse(conclusion);
  const terms = [...new Set([...ps, c].flatMap((s) => [s.x, s.y]))];
  // A "kind of individual" is a set of terms it belongs to; a world is a set of kinds that exist.
  const kinds = Array.from(
    { length: 1 << terms.length },
    (_, r) => new Set(terms.filter((_, t) => (r >> t) & 1)),
  );
  const truth = (s: { q: string; x: string; y: string }, world: Set<string>[]): boolean => {
    const xs = world.filter((k) => k.has(s.x));
    if (s.q === "all") return xs.every((k) => k.has(s.y));
    if (s.q === "no") return xs.every((k) => !k.has(s.y));
    if (s.q === "some") return xs.some((k) => k.has(s.y));
    return xs.some((k) => !k.has(s.y));
  };
  for (let w = 0; w < 2 ** kinds.length; w++) {
    const world = kinds.filter((_, i) => Math.floor(w / 2 ** i) % 2 === 1);
    if (!terms.every((t) => world.some((k) => k.has(t)))) continue;
    if (ps.every((p) => truth(p, world)) && !truth(c, world)) return false;
  }
  return true;
}

test("syllogism: answers agree with listing every world over the printed sentences", () => {
  assert.equal(syllogismByWorlds(["All B are C", "All A are B"], "All A are C"), true); // Barbara
  assert.equal(syllogismByWorlds(["All B are C", "All A are B"], "All C are A"), false); // converse
  assert.equal(syllogismByWorlds(["All B are C", "All B are A"], "Some A are C"), true); // Darapti
  assert.equal(syllogismByWorlds(["All A are B", "All C are B"], "All A are C"), false); // undistributed middle
  for (const d of LEVELS) {
    for (let seed = 0; seed < 12; seed++) {
      const t = fam("syllogism").generate(seed, d);
      const body = String(t.prompt).replace("Assume every group mentioned has at least one member. ", "");
      const m = /^(.*?)\.? (?:So|Does it necessarily follow that) (.*)\?/s.exec(body);
      assert.ok(m, body);
      const premises = String(m[1])
        .split(/\.\s*/)
        .filter((s) => s !== "");
      const conclusion = String(m[2]).replace(/^./, (c) => c.toUpperCase());
      assert.equal(t.reference?.answer, syllogismByWorlds(premises, conclusion) ? "yes" : "no", body);
    }
  }
});
