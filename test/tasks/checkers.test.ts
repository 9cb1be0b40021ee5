// Family checkers accept ANY valid answer, not just the stored one, and define partial
// credit only where documented.
import assert from "node:assert/strict";
import { test } from "node:test";
import { evalExpression } from "../../src/tasks/families/countdown.ts";
import { getFamily } from "../../src/tasks/index.ts";
import { ratToString } from "../../src/tasks/rational.ts";

const fam = (name: string) => {
  const f = getFamily(name);
  assert.ok(f, name);
  return f;
};

test("countdown: any expression reaching the target with the given numbers is accepted", () => {
  const c = fam("countdown");
  const ref = { answer: "(8/(3-8/3))", numbers: [3, 3, 8, 8], target: 24, family: "countdown" };
  assert.equal(c.check(ref, "8/(3-8/3)").verdict, "correct");
  assert.equal(c.check(ref, "8 / (3 - 8 / 3) = 24").verdict, "correct");
  assert.equal(c.check(ref, "8÷(3−8÷3)").verdict, "correct");
  assert.equal(c.check(ref, "(3*8)").verdict, "correct"); // a subset of the numbers suffices
  assert.equal(c.check(ref, "8*3*(8/8)").verdict, "incorrect"); // 8 used three times
  assert.equal(c.check(ref, "8*3*1").reason, "number_not_available");
  assert.equal(c.check(ref, "3*8 = 25").reason, "wrong_stated_value");
  assert.equal(c.check(ref, "8/(3-3)").reason, "unparseable_expression"); // division by zero
  assert.equal(c.check(ref, "24").reason, "number_not_available");
  assert.equal(c.check(ref, "3**8").reason, "unparseable_expression");
  assert.equal(c.check(ref, "process.exit(1)").reason, "unparseable_expression");
  assert.equal(c.check(ref, "-3+27").reason, "unparseable_expression"); // no unary minus
  assert.equal(c.check(ref, `${"(".repeat(500)}3${")".repeat(500)}`).reason, "unparseable_expression");
});

test("countdown parser: precedence, associativity and exact division", () => {
  const v = (s: string): string => ratToString(evalExpression(s).value);
  assert.equal(v("2+3*4"), "14");
  assert.equal(v("10-4-3"), "3");
  assert.equal(v("8/4/2"), "1");
  assert.equal(v("7/2*2"), "7");
  assert.equal(v("1/3+1/3+1/3"), "1");
  assert.deepEqual(evalExpression("(1+2)*3").numbers, [1n, 2n, 3n]);
  assert.throws(() => evalExpression("2+"), /unexpected end/);
  assert.throws(() => evalExpression("2 3"), /unexpected '3'/);
});

test("sudoku: a completion different from the stored one is accepted when valid", () => {
  const s = fam("sudoku");
  // Only the first row is given: many completions exist.
  const ref = { answer: "1234/3412/2143/4321", size: 4, puzzle: `1234${".".repeat(12)}`, family: "sudoku" };
  assert.equal(s.check(ref, "1234/3412/2143/4321").verdict, "correct");
  assert.equal(s.check(ref, "1234\n3412\n4321\n2143").verdict, "correct");
  assert.equal(s.check(ref, "12 34\n34 12\n43 21\n21 43").verdict, "correct");
  assert.equal(s.check(ref, "2134/3412/1243/4321").reason, "changes_a_given");
  assert.equal(s.check(ref, "1234/3412/2143/4312").reason, "column_3_repeats");
  assert.equal(s.check(ref, "1234/2341/3412/4123").reason, "box_1_repeats");
  assert.equal(s.check(ref, "1234/3412/2143/432").reason, "wrong_cell_count");
  assert.equal(s.check(ref, "1234/3412/2143/432x").reason, "non_digit_characters");
  assert.throws(() => s.check({ ...ref, size: 5 }, "1"), /reference\.size/);
});

test("maze: any shortest path is correct; longer valid paths get partial credit", () => {
  const m = fam("maze");
  const ref = { answer: "RRDD", grid: ["S..", "...", "..E"], shortest: 4, family: "maze" };
  for (const p of ["RRDD", "DDRR", "RDRD", "d r d r", "R,D,D,R"])
    assert.equal(m.check(ref, p).verdict, "correct", p);
  const long = m.check(ref, "RRDLDR");
  assert.equal(long.verdict, "partial");
  assert.ok(Math.abs(long.score - (0.5 * 4) / 6) < 1e-12);
  assert.equal(m.check(ref, "RRDLDR", { partialCredit: false }).verdict, "incorrect");
  const walled = { ...ref, grid: ["S#.", "...", "..E"] };
  assert.equal(m.check(walled, "RRDD").reason, "hits_a_wall");
  assert.equal(m.check(ref, "UR").reason, "leaves_the_grid");
  assert.equal(m.check(ref, "RRD").reason, "does_not_reach_exit");
  assert.equal(m.check(ref, "go right").reason, "not_a_move_string");
});

test("fractions: equal value unreduced is partial; linear_equation accepts x = and any exact form", () => {
  const f = fam("fractions");
  const ref = { answer: "5/6", expression: "1/2+1/3", family: "fractions" };
  assert.equal(f.check(ref, "5/6").verdict, "correct");
  assert.equal(f.check(ref, "\\frac{5}{6}").verdict, "correct");
  assert.deepEqual(f.check(ref, "10/12"), { score: 0.5, verdict: "partial", reason: "not_in_lowest_terms" });
  assert.equal(f.check(ref, "10/12", { partialCredit: false }).verdict, "incorrect");
  assert.equal(f.check(ref, "0.8333").verdict, "incorrect");
  const l = fam("linear_equation");
  const lref = { answer: "7/2", equation: "2x=7", family: "linear_equation" };
  for (const a of ["7/2", "3.5", "x = 7/2", "x=3.5", "14/4", "\\frac{7}{2}"])
    assert.equal(l.check(lref, a).verdict, "correct", a);
  assert.equal(l.check(lref, "3.50001").verdict, "incorrect");
});

test("multiple_choice: letter forms accepted, text after the letter must match its option", () => {
  const mc = fam("multiple_choice");
  const ref = { answer: "B", options: ["54", "56", "58"], family: "multiple_choice" };
  for (const a of ["B", "b", "(B)", "B)", "B.", "B) 56", "B: 56"])
    assert.equal(mc.check(ref, a).verdict, "correct", a);
  assert.equal(mc.check(ref, "B) 54").reason, "option_text_mismatch");
  assert.equal(mc.check(ref, "A").reason, "wrong_option");
  assert.equal(mc.check(ref, "D").reason, "no_such_option");
  assert.equal(mc.check(ref, "A or B").verdict, "incorrect");
  assert.equal(mc.check(ref, "56").reason, "not_a_letter");
});

test("truth values, yes/no, sorting, strings and bases accept their documented forms only", () => {
  const b = fam("boolean_eval");
  for (const a of ["T", "true", "True", "1", "\\text{T}"])
    assert.equal(b.check({ answer: "T" }, a).verdict, "correct", a);
  assert.equal(b.check({ answer: "T" }, "it is true").verdict, "incorrect");
  const p = fam("propositional_logic");
  for (const a of ["yes", "Yes.", "YES"]) assert.equal(p.check({ answer: "yes" }, a).verdict, "correct", a);
  assert.equal(p.check({ answer: "yes" }, "yes and no").verdict, "incorrect");
  const s = fam("sorting");
  for (const a of ["1 2 3", "1, 2, 3", "[1,2,3]"])
    assert.equal(s.check({ answer: "1 2 3" }, a).verdict, "correct", a);
  assert.equal(s.check({ answer: "1 2 3" }, "1 2").reason, "wrong_length");
  const st = fam("string_transform");
  assert.equal(st.check({ answer: "cbA", input: "Abc" }, '"cbA"').verdict, "correct");
  assert.equal(st.check({ answer: "cbA", input: "Abc" }, "cba").reason, "wrong_case");
  const bc = fam("base_conversion");
  const ref = { answer: "FF", from: 10, to: 16 };
  for (const a of ["FF", "ff", "0xff", "0FF"]) assert.equal(bc.check(ref, a).verdict, "correct", a);
  assert.equal(bc.check(ref, "255").verdict, "incorrect");
  assert.equal(bc.check({ answer: "101", from: 10, to: 2 }, "0b101").verdict, "correct");
  assert.equal(bc.check({ answer: "101", from: 10, to: 2 }, "121").reason, "not_a_number_in_base");
});

test("code_output: trailing whitespace and fences are forgiven, content is not", () => {
  const c = fam("code_output");
  const ref = { answer: "3\n[1, 2]", program: "print(3)\nprint([1, 2])" };
  assert.equal(c.check(ref, "3  \n[1, 2]\n").verdict, "correct");
  assert.equal(c.check(ref, "```\n3\n[1, 2]\n```").verdict, "correct");
  assert.equal(c.check(ref, "3\n[1,2]").verdict, "incorrect");
  assert.equal(c.check(ref, "3").verdict, "incorrect");
});

test("propositional_logic ground truth: modus ponens yes, affirming the consequent no, over any atom names", () => {
  const p = fam("propositional_logic");
  let yes = 0;
  for (let seed = 0; seed < 60; seed++) {
    const t = p.generate(seed, 0);
    const m = /^(\w)->(\w)\. (\w)\. (\w)\?$/.exec(String(t.prompt));
    assert.ok(m, String(t.prompt));
    const [, x, y, minor, conclusion] = m;
    const modusPonens = minor === x && conclusion === y;
    assert.ok(modusPonens || (minor === y && conclusion === x), String(t.prompt));
    assert.equal(t.reference?.answer, modusPonens ? "yes" : "no", String(t.prompt));
    if (modusPonens) yes++;
  }
  assert.ok(yes > 15 && yes < 45, `unbalanced: ${yes}/60 yes`);
});

test("propositional_logic ground truth at higher difficulty agrees with an independent truth table", async () => {
  const { entails } = await import("../../src/tasks/families/propositional.ts");
  const v = (name: string) => ({ k: "var" as const, name });
  const imp = (a: ReturnType<typeof v>, b: ReturnType<typeof v>) => ({
    k: "bin" as const,
    op: ">" as const,
    a,
    b,
  });
  // Hypothetical syllogism: p->q, q->r entails p->r; the converse does not follow.
  assert.equal(entails([imp(v("p"), v("q")), imp(v("q"), v("r"))], imp(v("p"), v("r"))).entailed, true);
  assert.equal(entails([imp(v("p"), v("q")), imp(v("q"), v("r"))], imp(v("r"), v("p"))).entailed, false);
  // Modus tollens: p->q, !q entails !p.
  assert.equal(
    entails([imp(v("p"), v("q")), { k: "not", a: v("q") }], { k: "not", a: v("p") }).entailed,
    true,
  );
});
