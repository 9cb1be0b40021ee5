// `datascale tasks list|generate`: the procedural reasoning-task families.
import { parseArgs } from "node:util";
import { DataScaleError } from "../core/errors.ts";
import { JsonlWriter } from "../io/jsonl.ts";
import { Progress } from "../io/progress.ts";
import { MAX_DIFFICULTY, MIN_DIFFICULTY } from "../tasks/family.ts";
import { generateTasks } from "../tasks/generate.ts";
import { FAMILIES } from "../tasks/index.ts";

const HELP = `usage: datascale tasks list [--json]
       datascale tasks generate --family NAME --n N [--seed S] [--difficulty D] [--out FILE]

list       print every task family with its domain and what grows with difficulty
generate   write N tasks as Task JSONL (stdout unless --out). Task i uses seed S+i, so
           the same options always give byte-identical output.

generate options:
  --family NAME      a family from 'tasks list', or 'all' to cycle through every family
  --n N              number of tasks
  --seed S           base seed, a non-negative integer (default 0)
  --difficulty D     a number in [${MIN_DIFFICULTY}, ${MAX_DIFFICULTY}] (default 0): 0 is "12+7=", ${MAX_DIFFICULTY} challenges real LLMs
  --out FILE         output JSONL file
`;

function intOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw))
    throw new DataScaleError("bad_option", `${name} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "list") {
    const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" } } });
    if (values.json) {
      for (const f of FAMILIES) {
        process.stdout.write(
          `${JSON.stringify({ name: f.name, domain: f.domain, measure: f.measureName, description: f.description })}\n`,
        );
      }
      return 0;
    }
    const width = Math.max(...FAMILIES.map((f) => f.name.length));
    for (const f of FAMILIES) {
      process.stdout.write(
        `${f.name.padEnd(width)}  ${f.domain.padEnd(5)}  ${f.description} (grows: ${f.measureName})\n`,
      );
    }
    return 0;
  }
  if (sub !== "generate") {
    process.stderr.write(`datascale tasks: unknown subcommand '${sub}'\n\n${HELP}`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      family: { type: "string" },
      n: { type: "string" },
      seed: { type: "string" },
      difficulty: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.family === undefined || values.n === undefined) {
    process.stderr.write(`datascale tasks generate: --family and --n are required\n\n${HELP}`);
    return 2;
  }
  const difficulty = values.difficulty === undefined ? 0 : Number(values.difficulty);
  if (values.difficulty !== undefined && (values.difficulty.trim() === "" || !Number.isFinite(difficulty))) {
    throw new DataScaleError("bad_option", `--difficulty must be a number, got '${values.difficulty}'`);
  }
  const tasks = generateTasks({
    family: values.family,
    n: intOption("--n", values.n, 0),
    seed: intOption("--seed", values.seed, 0),
    difficulty,
  });
  // Validate options (and the family name) before creating the output file.
  const first = tasks.next();
  if (values.out === undefined) {
    // `datascale tasks generate ... | head` closes the pipe early; that is not an error.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
  const writer = new JsonlWriter(values.out ?? process.stdout);
  // A counter on a terminal only, and only when the tasks do not go to stdout.
  const n = intOption("--n", values.n, 0);
  const progress = new Progress("tasks generate", {
    total: n,
    enabled: values.out !== undefined && process.stderr.isTTY,
  });
  let count = 0;
  for (let it = first; !it.done; it = tasks.next()) {
    await writer.write(it.value);
    count++;
    progress.add();
  }
  await writer.close();
  progress.done();
  if (values.out !== undefined)
    process.stderr.write(`datascale tasks: wrote ${count} ${values.family} tasks to ${values.out}\n`);
  return 0;
}
