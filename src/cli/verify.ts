// `datascale verify --in FILE [--out FILE]`: Rollout JSONL → Reward JSONL, all cores.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { VerifyPool } from "../verify/pool.ts";
import { formatSummary, scoreStream } from "../verify/score-stream.ts";

const HELP = `usage: datascale verify --in FILE [--out FILE] [options]

Reads Rollout JSONL (id, domain, reference, response, ...) and writes one Reward JSON line
per input line, in input order. Malformed lines and unknown domains give 'invalid' rewards
naming the problem; the run goes on. A summary goes to stderr.

options:
  --in FILE          input JSONL ('-' for stdin)
  --out FILE         output JSONL (default: stdout)
  --workers N        worker threads (default: ${availableParallelism()})
  --budget-ms N      time budget per verification (default: 2000; code: 60000)
  --plugin MODULE    a verifier plugin exporting createVerifier() (repeatable)
  --fail-fast        stop at the first malformed line
  --json-summary     print the summary as one JSON line
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      in: { type: "string" },
      out: { type: "string" },
      workers: { type: "string" },
      "budget-ms": { type: "string" },
      plugin: { type: "string", multiple: true },
      "fail-fast": { type: "boolean" },
      "json-summary": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.in === undefined) {
    process.stderr.write(`datascale verify: --in is required\n\n${HELP}`);
    return 2;
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  const budget = values["budget-ms"] === undefined ? undefined : Number(values["budget-ms"]);
  for (const [flag, v] of [
    ["--workers", workers],
    ["--budget-ms", budget],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      process.stderr.write(`datascale verify: ${flag} must be a positive integer\n`);
      return 2;
    }
  }
  const pool = new VerifyPool({ workers, timeBudgetMs: budget, plugins: values.plugin ?? [] });
  try {
    await pool.ready();
    const summary = await scoreStream({
      input: values.in === "-" ? process.stdin : values.in,
      output: values.out ?? process.stdout,
      rewardFn: pool.rewardFn,
      maxInFlight: pool.size * 4,
      failFast: values["fail-fast"] ?? false,
    });
    process.stderr.write(values["json-summary"] ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    return 0;
  } finally {
    await pool.close();
  }
}
