// `datascale export verl|openrlhf`: staged training files from a task set and a schedule.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { errorMessage } from "../core/errors.ts";
import { Task } from "../core/schemas.ts";
import { readJsonl } from "../io/jsonl.ts";
import { exportSchedule } from "../schedule/export.ts";
import { groupByDomain } from "../schedule/sampler.ts";
import { paperSchedule, parseSchedule, type Schedule } from "../schedule/schedule.ts";

const HELP = `usage: datascale export verl|openrlhf --tasks FILE --out-dir DIR [options]

Samples the schedule's batches (deterministic per seed) from the tasks and writes one file
per stage in batch order: verl Parquet (data_source, prompt, ability, reward_model,
extra_info) or OpenRLHF JSONL (input, label), plus a launch script that runs the stages in
order, each resuming from the previous stage's checkpoint.

options:
  --tasks FILE         tasks JSONL (e.g. the output of 'datascale select'); repeatable
  --out-dir DIR        where the stage files and launch script go
  --schedule FILE      schedule JSON {batchSize, seed, stages: [{name, steps|samples, weights?}]}
                       (default: the paper's, stage 1 math+code, stage 2 everything)
  --batch-size N       batch size for the default schedule (default: 64)
  --stage1-steps N     default schedule: stage 1 length (default: 1000)
  --stage2-steps N     default schedule: stage 2 length (default: 2500)
  --seed N             sampler seed for the default schedule (default: 0)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tasks: { type: "string", multiple: true },
      "out-dir": { type: "string" },
      schedule: { type: "string" },
      "batch-size": { type: "string" },
      "stage1-steps": { type: "string" },
      "stage2-steps": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = positionals[0];
  if (
    (format !== "verl" && format !== "openrlhf") ||
    values.tasks === undefined ||
    values["out-dir"] === undefined
  ) {
    process.stderr.write(`datascale export: need verl|openrlhf, --tasks and --out-dir\n\n${HELP}`);
    return 2;
  }
  try {
    const int = (flag: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      const x = Number(v);
      if (!Number.isInteger(x) || x <= 0) throw new Error(`${flag}: must be a positive integer, got '${v}'`);
      return x;
    };
    let schedule: Schedule;
    if (values.schedule !== undefined) {
      schedule = parseSchedule(JSON.parse(await readFile(values.schedule, "utf8")), values.schedule);
    } else {
      const o: Parameters<typeof paperSchedule>[0] = {};
      const b = int("--batch-size", values["batch-size"]);
      const s1 = int("--stage1-steps", values["stage1-steps"]);
      const s2 = int("--stage2-steps", values["stage2-steps"]);
      if (b !== undefined) o.batchSize = b;
      if (s1 !== undefined) o.stage1Steps = s1;
      if (s2 !== undefined) o.stage2Steps = s2;
      if (values.seed !== undefined) o.seed = Number(values.seed);
      schedule = paperSchedule(o);
    }
    const tasks: Task[] = [];
    for (const file of values.tasks) {
      for await (const item of readJsonl(file, { schema: Task })) {
        if (item.ok) tasks.push(item.value);
        else process.stderr.write(`datascale export: skipping ${item.error}\n`);
      }
    }
    const result = await exportSchedule(format, schedule, groupByDomain(tasks), values["out-dir"]);
    for (const s of result.stages)
      process.stdout.write(`${s.name}: ${s.rows} rows, ${s.steps} steps → ${s.file}\n`);
    process.stdout.write(`launch script: ${result.launch}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`datascale export: ${errorMessage(e)}\n`);
    return 1;
  }
}
