// `datascale references build`: SFT Best-of-N references for GenRM-BoN.
import { parseArgs } from "node:util";
import { backendSpec, openBackend } from "../backend/open.ts";
import { errorMessage } from "../core/errors.ts";
import { BTJudge, DEFAULT_BT_FORMAT } from "../judge/bt.ts";
import { buildReferences } from "../judge/references.ts";

const HELP = `usage: datascale references build --policy SPEC --rm SPEC --in tasks.jsonl --out FILE [options]

Samples N responses per task from the policy, scores them with the Bradley–Terry reward
model, and writes each task with the best as reference.response (all scores in
meta.references). SPEC is an OpenAI-compatible server URL (…/v1, with --policy-model /
--rm-model) or a model directory run on the embedded engine (the RM needs a reward head).

options:
  --n N              samples per task (default: 5)
  --max-tokens N     response length limit (default: 512)
  --temperature T    sampling temperature (default: 1)
  --seed N           sampling seed (default: 0)
  --batch N          tasks per policy call (default: 8)
  --format TEXT      RM input from {{prompt}} and {{first}} (default: "{{prompt}}\\n{{first}}")
  --resume           continue a killed run after the last complete output line
`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === undefined) {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "build") {
    process.stderr.write(`datascale references: unknown subcommand '${sub}'\n\n${HELP}`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      policy: { type: "string" },
      "policy-model": { type: "string" },
      rm: { type: "string" },
      "rm-model": { type: "string" },
      in: { type: "string" },
      out: { type: "string" },
      n: { type: "string", default: "5" },
      "max-tokens": { type: "string", default: "512" },
      temperature: { type: "string", default: "1" },
      seed: { type: "string", default: "0" },
      batch: { type: "string", default: "8" },
      format: { type: "string", default: DEFAULT_BT_FORMAT },
      resume: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  for (const flag of ["policy", "rm", "in", "out"] as const) {
    if (values[flag] === undefined) {
      process.stderr.write(`datascale references build: --${flag} is required\n`);
      return 2;
    }
  }
  const ints = {
    n: Number(values.n),
    "max-tokens": Number(values["max-tokens"]),
    batch: Number(values.batch),
  };
  for (const [flag, v] of Object.entries(ints)) {
    if (!(Number.isInteger(v) && v > 0)) {
      process.stderr.write(`datascale references build: --${flag} must be a positive integer\n`);
      return 2;
    }
  }
  let policy: Awaited<ReturnType<typeof openBackend>> | undefined;
  let rm: BTJudge | undefined;
  try {
    policy = await openBackend(backendSpec(values.policy as string, values["policy-model"]));
    rm = new BTJudge(await openBackend(backendSpec(values.rm as string, values["rm-model"])), values.format);
    const summary = await buildReferences({
      input: values.in as string,
      output: values.out as string,
      policy,
      rm,
      n: ints.n,
      maxTokens: ints["max-tokens"],
      temperature: Number(values.temperature),
      seed: Number(values.seed),
      batch: ints.batch,
      resume: values.resume ?? false,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stderr.write(
      `references: ${summary.written} written, ${summary.skippedResumed} already done, ${summary.badLines} bad lines\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`datascale references build: ${errorMessage(e)}\n`);
    return 1;
  } finally {
    await Promise.all([policy?.close(), rm?.close()]);
  }
}
