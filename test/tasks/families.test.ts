import assert from "node:assert/strict";
import { test } from "node:test";
import { Task } from "../../src/core/schemas.ts";
import { FAMILIES } from "../../src/tasks/index.ts";
import { parseRat } from "../../src/tasks/rational.ts";
import { createLogicVerifier } from "../../src/verify/logic/index.ts";

const verifier = createLogicVerifier({ partialCredit: false });
const DIFFICULTIES = [0, 0.7, 1.5, 2.9, 3, 4.2, 5, 6.5, 8, 9.3, 10];
const SEEDS = 25;

function verdict(task: Task, response: string): string {
  const r = verifier.verify({ ...task, response });
  assert.ok(!(r instanceof Promise));
  return r.verdict;
}

test("there are at least 16 families, with unique names and each of math, code and logic", () => {
  assert.ok(FAMILIES.length >= 16, `only ${FAMILIES.length} families`);
  assert.equal(new Set(FAMILIES.map((f) => f.name)).size, FAMILIES.length);
  for (const domain of ["math", "code", "logic"])
    assert.ok(
      FAMILIES.some((f) => f.domain === domain),
      domain,
    );
});

for (const family of FAMILIES) {
  test(`${family.name}: generated answers verify as correct in every accepted format`, () => {
    for (const d of DIFFICULTIES) {
      for (let seed = 0; seed < SEEDS; seed++) {
        const task = family.generate(seed, d);
        assert.ok(Task.safeParse(task).success, `${family.name} d=${d} seed=${seed}: not a valid Task`);
        assert.equal(task.domain, family.domain);
        assert.equal(task.source, family.name);
        assert.deepEqual(
          { family: task.meta?.["family"], difficulty: task.meta?.["difficulty"], seed: task.meta?.["seed"] },
          { family: family.name, difficulty: d, seed },
        );
        const answer = String(task.reference?.answer);
        const forms = [`<think>working...</think><answer>${answer}</answer>`, `Answer:\n${answer}`, answer];
        if (!answer.includes("\n"))
          forms.push(`So the result is \\boxed{${answer}}.`, `The answer is ${answer}.`);
        for (const form of forms) {
          assert.equal(
            verdict(task, form),
            "correct",
            `${family.name} d=${d} seed=${seed}: ${JSON.stringify(form)}`,
          );
        }
      }
    }
  });

  test(`${family.name}: perturbed answers verify as incorrect`, () => {
    for (const d of DIFFICULTIES) {
      for (let seed = 0; seed < SEEDS; seed++) {
        const task = family.generate(seed, d);
        const answer = String(task.reference?.answer);
        const wrong = family.wrongAnswers(task.reference, seed);
        assert.ok(wrong.length >= 2, `${family.name}: too few perturbations`);
        for (const w of wrong) {
          assert.notEqual(
            verdict(task, `<answer>${w}</answer>`),
            "correct",
            `${family.name} d=${d} seed=${seed}: ${w}`,
          );
        }
        // Mentioning the right answer inside other text is not answering.
        assert.equal(verdict(task, `I am not sure, maybe ${answer} or something else`), "incorrect");
        assert.equal(verdict(task, `<answer>${answer} because I computed it</answer>`), "incorrect");
        assert.equal(verdict(task, ""), "incorrect");
      }
    }
  });

  test(`${family.name}: the same seed gives byte-identical tasks, different seeds differ`, () => {
    for (const d of [0, 5, 10]) {
      const a = Array.from({ length: 20 }, (_, s) => JSON.stringify(family.generate(1000 + s, d)));
      const b = Array.from({ length: 20 }, (_, s) => JSON.stringify(family.generate(1000 + s, d)));
      assert.deepEqual(a, b);
      const prompts = new Set(a.map((t) => JSON.parse(t).prompt));
      assert.ok(
        prompts.size >= 5,
        `${family.name} d=${d}: only ${prompts.size} distinct prompts in 20 seeds`,
      );
    }
  });

  test(`${family.name}: difficulty grows ${family.measureName} monotonically`, () => {
    const mean = (d: number): number => {
      let sum = 0;
      for (let seed = 0; seed < 30; seed++)
        sum += Number(family.generate(seed, d).meta?.[family.measureName]);
      return sum / 30;
    };
    const levels = [0, 1, 2, 2.5, 3, 4, 5, 6, 7, 7.5, 8, 9, 10].map(mean);
    for (let i = 1; i < levels.length; i++) {
      assert.ok((levels[i] as number) >= (levels[i - 1] as number), `${family.name}: ${levels.join(", ")}`);
    }
    assert.ok((levels.at(-1) as number) > (levels[0] as number) * 2, `${family.name}: ${levels.join(", ")}`);
  });

  test(`${family.name}: low difficulty is short ASCII for a tiny model, high difficulty is long`, () => {
    let low = 0;
    let high = 0;
    for (let seed = 0; seed < 30; seed++) {
      const t0 = family.generate(seed, 0);
      const prompt = String(t0.prompt);
      const answer = String(t0.reference?.answer);
      assert.match(prompt + answer, /^[\x20-\x7e\n]*$/, `${family.name}: non-ASCII at difficulty 0`);
      assert.ok(prompt.length <= 64, `${family.name}: difficulty-0 prompt too long: ${prompt}`);
      assert.ok(answer.length <= 24, `${family.name}: difficulty-0 answer too long: ${answer}`);
      low += prompt.length + answer.length;
      const t10 = family.generate(seed, 10);
      high += String(t10.prompt).length + String(t10.reference?.answer).length;
    }
    assert.ok(high > 2 * low, `${family.name}: difficulty 10 not larger (${high} vs ${low})`);
  });
}

test("generate rejects a difficulty outside [0, 10] and a bad seed", () => {
  const [f] = FAMILIES;
  assert.ok(f);
  assert.throws(() => f.generate(1, 11), /difficulty must be a number in \[0, 10\]/);
  assert.throws(() => f.generate(1, Number.NaN), /difficulty/);
  assert.throws(() => f.generate(-1, 1), /seed must be a non-negative safe integer/);
  assert.throws(() => f.generate(1.5, 1), /seed/);
});

test("math-domain tasks carry a plain integer or reduced fraction answer a math verifier can read", () => {
  for (const family of FAMILIES.filter((f) => f.domain === "math")) {
    for (const d of [0, 5, 10]) {
      for (let seed = 0; seed < 20; seed++) {
        const answer = String(family.generate(seed, d).reference?.answer);
        assert.match(answer, /^-?\d+(\/\d+)?$/, `${family.name}: ${answer}`);
        assert.equal(parseRat(answer)?.reduced, true, `${family.name}: ${answer}`);
      }
    }
  }
});
