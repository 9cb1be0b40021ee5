// `datascale run`: the main job. For now it scores the bundled example rollouts
// (examples/*-rollouts.jsonl) through the hybrid reward system and writes the rewards and a
// summary into a run directory; the full paper pipeline replaces it as the trainers land.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseRewardConfig } from "../reward/config.ts";
import { createRewardSystem } from "../reward/system.ts";
import { formatSummary, scoreStream } from "../verify/score-stream.ts";

const HELP = `usage: datascale run [--examples DIR] [--run-dir DIR]

Scores the bundled example rollouts with the hybrid reward system (the paper's routing)
and writes <run-dir>/<name>.rewards.jsonl and <run-dir>/summary.json.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      examples: { type: "string", default: fileURLToPath(new URL("../../examples", import.meta.url)) },
      "run-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const runDir = values["run-dir"] ?? join("runs", `main-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  const files = (await readdir(values.examples)).filter((f) => f.endsWith("-rollouts.jsonl")).sort();
  if (files.length === 0) {
    process.stderr.write(`datascale run: no *-rollouts.jsonl in ${values.examples}\n`);
    return 1;
  }
  await mkdir(runDir, { recursive: true });
  const system = await createRewardSystem(parseRewardConfig({}));
  const summaries: Record<string, unknown> = {};
  try {
    for (const file of files) {
      const name = file.replace(/-rollouts\.jsonl$/, "");
      const summary = await scoreStream({
        input: join(values.examples, file),
        output: join(runDir, `${name}.rewards.jsonl`),
        rewardFn: system.rewardFn,
        maxInFlight: system.pool.size * 4,
      });
      summaries[name] = summary;
      process.stdout.write(`== ${file}\n${formatSummary(summary)}`);
    }
  } finally {
    await system.close();
  }
  await writeFile(join(runDir, "summary.json"), `${JSON.stringify(summaries, null, 2)}\n`);
  process.stdout.write(`run directory: ${runDir}\n`);
  return 0;
}
