// `npm run conformance:ifeval` on a small hand-made input: prompts paired with responses by
// text, an unpaired row reported, verdicts compared with reference result files of two
// runs, disagreements classified (language-dependent, reference unstable, unexplained).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const SCRIPT = join(import.meta.dirname, "ifeval-responses.ts");
const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;

test("conformance:ifeval pairs, scores in compat mode and classifies disagreements", () => {
  const dir = mkdtempSync(join(tmpdir(), "ifeval-responses-"));
  const rows = [
    { key: 1, prompt: "p1", instruction_id_list: ["punctuation:no_comma"], kwargs: [{}] },
    {
      key: 2,
      prompt: "p2",
      instruction_id_list: ["detectable_content:postscript", "change_case:english_lowercase"],
      kwargs: [{ postscript_marker: "P.S." }, {}],
    },
    { key: 3, prompt: "p3 (no response)", instruction_id_list: ["startend:quotation"], kwargs: [{}] },
  ];
  writeFileSync(join(dir, "input.jsonl"), jsonl(rows));
  writeFileSync(
    join(dir, "responses.jsonl"),
    jsonl([
      { prompt: "p1", response: "no commas, here" },
      { prompt: "p2", response: "hello there.\np.p.s. bye" },
    ]),
  );
  // Two reference runs: they agree with compat mode except on the lowercase check (one run
  // flips it: language-dependent) and on no_comma (both runs say True: unexplained).
  const run = (lower: boolean) => ({
    strict: [
      { prompt: "p1", instruction_id_list: ["punctuation:no_comma"], follow_instruction_list: [true] },
      {
        prompt: "p2",
        instruction_id_list: rows[1]!.instruction_id_list,
        follow_instruction_list: [true, lower],
      },
    ],
  });
  for (const [i, lower] of [true, false].entries()) {
    const d = join(dir, `out${i}`);
    mkdirSync(d);
    writeFileSync(join(d, "eval_results_strict.jsonl"), jsonl(run(lower).strict));
    writeFileSync(join(d, "eval_results_loose.jsonl"), jsonl(run(lower).strict));
  }
  const r = spawnSync(
    process.execPath,
    [
      SCRIPT,
      "--input",
      join(dir, "input.jsonl"),
      "--responses",
      join(dir, "responses.jsonl"),
      "--reference-results",
      join(dir, "out0"),
      "--reference-results",
      join(dir, "out1"),
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(summary.unmatched, [3]);
  assert.equal(summary.rows, 2);
  assert.equal(summary.strict.checks, 3);
  // ours: no_comma false (a comma), postscript true (P.S. inside p.p.s.), lowercase true.
  assert.deepEqual(summary.strict.byClass, { unexplained: 1, language: 1 });
  assert.equal(summary.strict.identical, 1);
  assert.match(r.stdout, /key 1 #0 punctuation:no_comma: ours false, reference true\/true \(unexplained\)/);
});
