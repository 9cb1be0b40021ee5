// `datascale reward --config FILE --in rollouts.jsonl --out rewards.jsonl`: the batch path
// through the hybrid router (verifiers and judges); `datascale verify` is the verifier-only path.
import { parseArgs } from "node:util";
import { loadRewardConfig, parseRewardConfig } from "../reward/config.ts";
import { createRewardSystem } from "../reward/system.ts";
import { formatSummary, scoreStream } from "../verify/score-stream.ts";

const HELP = `usage: datascale reward [--config FILE] --in FILE [--out FILE] [--json-summary]

Scores Rollout JSONL through the hybrid reward router and writes one Reward line per
input line, in order. Without --config, the paper's default routing.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      in: { type: "string" },
      out: { type: "string" },
      "json-summary": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.in === undefined) {
    process.stderr.write(`datascale reward: --in is required\n\n${HELP}`);
    return 2;
  }
  const config = values.config === undefined ? parseRewardConfig({}) : await loadRewardConfig(values.config);
  const system = await createRewardSystem(config);
  try {
    const summary = await scoreStream({
      input: values.in === "-" ? process.stdin : values.in,
      output: values.out ?? process.stdout,
      rewardFn: system.rewardFn,
      maxInFlight: system.pool.size * 4,
    });
    process.stderr.write(values["json-summary"] ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    return 0;
  } finally {
    await system.close();
  }
}
