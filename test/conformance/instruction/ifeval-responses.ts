// Scores IFEval's published responses in compat mode and compares them, instruction by
// instruction, with the reference implementation's own output files.
//
//   npm run conformance:ifeval -- --input input_data.jsonl --responses input_response_data.jsonl \
//     [--reference-results DIR ...] [--out FILE]
//
// DIR is an `--output_dir` of google-research's evaluation_main.py (eval_results_strict.jsonl
// and eval_results_loose.jsonl). Give several (repeated runs) to see which verdicts the
// reference itself does not repeat. Rows are paired with responses by prompt text, as
// evaluation_lib does; a row without a response is reported (the reference raises KeyError).
// Ends with one JSON line.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import type { Reward } from "../../../src/core/schemas.ts";
import { taskFromIfevalRow } from "../../../src/verify/instruct/ifeval-rows.ts";
import { createInstructionVerifier } from "../../../src/verify/instruct/verifier.ts";

const Mode = z.enum(["strict", "loose"]);
type Mode = z.infer<typeof Mode>;
const ResponseRow = z.looseObject({ prompt: z.string(), response: z.string() });
const ReferenceRow = z.looseObject({
  prompt: z.string(),
  instruction_id_list: z.array(z.string()),
  follow_instruction_list: z.array(z.boolean()),
});
/** Verdicts that depend on langdetect, which the reference calls unseeded. */
export const LANGUAGE_DEPENDENT = new Set([
  "language:response_language",
  "change_case:english_capital",
  "change_case:english_lowercase",
]);

function jsonl<T>(path: string, schema: z.ZodType<T>): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .flatMap((line, i) => {
      if (line.trim() === "") return [];
      const r = schema.safeParse(JSON.parse(line));
      if (!r.success) throw new Error(`${path}:${i + 1}: ${r.error.issues[0]?.message ?? "invalid row"}`);
      return [r.data];
    });
}

export interface Scored {
  readonly prompt: string;
  readonly key: string | number;
  readonly ids: readonly string[];
  /** Per mode, one verdict per instruction. */
  readonly follows: Record<Mode, boolean[]>;
  /** Ids of instructions whose kwargs the reference would replace by a random value. */
  readonly random: ReadonlySet<number>;
}

export function scoreResponses(inputPath: string, responsesPath: string) {
  const responses = new Map(jsonl(responsesPath, ResponseRow).map((r) => [r.prompt, r.response]));
  const verifiers = {
    strict: createInstructionVerifier({ mode: "strict", stripThinking: false }),
    loose: createInstructionVerifier({ mode: "loose", stripThinking: false }),
  };
  const scored: Scored[] = [];
  const unmatched: Array<string | number> = [];
  for (const row of jsonl(inputPath, z.unknown())) {
    const task = taskFromIfevalRow(row);
    const response = responses.get(task.prompt ?? "");
    if (response === undefined) {
      unmatched.push(task.id);
      continue;
    }
    const ins = task.reference?.instructions ?? [];
    const random = new Set(
      ins.flatMap((x, i) =>
        x.type === "keywords:letter_frequency" && !/^[A-Za-z]$/.test(String(x.kwargs["letter"])) ? [i] : [],
      ),
    );
    const follows = { strict: [] as boolean[], loose: [] as boolean[] };
    for (const mode of Mode.options) {
      const reward = verifiers[mode].verify({
        ...task,
        response,
        reference: { ...task.reference, compat: "ifeval" },
      }) as Reward;
      const list = reward.details?.["instructions"] as Array<{ ok: boolean }> | undefined;
      if (list === undefined)
        throw new Error(
          `row ${task.id}: ${reward.verdict}: ${JSON.stringify(reward.details ?? reward.error)}`,
        );
      follows[mode] = list.map((o) => o.ok);
    }
    scored.push({ prompt: task.prompt ?? "", key: task.id, ids: ins.map((x) => x.type), follows, random });
  }
  return { scored, unmatched };
}

function accuracy(scored: readonly Scored[], mode: Mode) {
  const all = scored.flatMap((s) => s.follows[mode]);
  return {
    prompt: scored.filter((s) => s.follows[mode].every(Boolean)).length / scored.length,
    instruction: all.filter(Boolean).length / all.length,
  };
}

interface Disagreement {
  key: string | number;
  index: number;
  id: string;
  ours: boolean;
  reference: boolean[];
  class: "language" | "random letter" | "reference unstable" | "unexplained";
}

function compare(scored: readonly Scored[], refDirs: readonly string[], mode: Mode) {
  const runs = refDirs.map(
    (d) => new Map(jsonl(join(d, `eval_results_${mode}.jsonl`), ReferenceRow).map((r) => [r.prompt, r])),
  );
  let checks = 0;
  const disagreements: Disagreement[] = [];
  for (const s of scored) {
    const refs = runs.map((run) => run.get(s.prompt));
    if (refs.some((r) => r === undefined))
      throw new Error(`reference results lack the prompt of row ${s.key}`);
    for (const [index, id] of s.ids.entries()) {
      checks++;
      const ours = s.follows[mode][index]!;
      const reference = refs.map((r) => r!.follow_instruction_list[index]!);
      if (reference.every((r) => r === ours)) continue;
      const cls = LANGUAGE_DEPENDENT.has(id)
        ? "language"
        : s.random.has(index)
          ? "random letter"
          : new Set(reference).size > 1
            ? "reference unstable"
            : "unexplained";
      disagreements.push({ key: s.key, index, id, ours, reference, class: cls });
    }
  }
  return { checks, disagreements };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      input: { type: "string" },
      responses: { type: "string" },
      "reference-results": { type: "string", multiple: true },
    },
  });
  if (values.input === undefined || values.responses === undefined) {
    throw new Error(
      "usage: --input input_data.jsonl --responses responses.jsonl [--reference-results DIR ...]",
    );
  }
  const { scored, unmatched } = scoreResponses(values.input, values.responses);
  if (unmatched.length > 0) console.log(`rows without a response (skipped): ${unmatched.join(", ")}`);
  const summary: Record<string, unknown> = { bench: "conformance:ifeval", rows: scored.length, unmatched };
  for (const mode of Mode.options) {
    const acc = accuracy(scored, mode);
    console.log(
      `${mode}: prompt-level ${acc.prompt.toFixed(4)}, instruction-level ${acc.instruction.toFixed(4)}`,
    );
    const entry: Record<string, unknown> = { ...acc };
    const refs = values["reference-results"] ?? [];
    if (refs.length > 0) {
      const { checks, disagreements } = compare(scored, refs, mode);
      const byClass: Record<string, number> = {};
      for (const d of disagreements) byClass[d.class] = (byClass[d.class] ?? 0) + 1;
      const unexplained = disagreements.filter((d) => d.class === "unexplained").length;
      console.log(
        `  vs reference (${refs.length} run(s)): ${checks - disagreements.length}/${checks} identical; ` +
          `disagreements by class ${JSON.stringify(byClass)}`,
      );
      for (const d of disagreements) {
        console.log(
          `    key ${d.key} #${d.index} ${d.id}: ours ${d.ours}, reference ${d.reference.join("/")} (${d.class})`,
        );
      }
      Object.assign(entry, { checks, identical: checks - disagreements.length, byClass, unexplained });
    }
    summary[mode] = entry;
  }
  console.log(JSON.stringify(summary));
}

if (import.meta.main) main();
