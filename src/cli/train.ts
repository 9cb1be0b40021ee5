// `datascale train sft|rm|genrm|ppo|grpo --config FILE`: one training stage on the embedded
// engine, writing metrics, checkpoints and the final model to the run directory. Running
// the same command again after a kill resumes from the newest checkpoint.
import { parseArgs } from "node:util";
import { DataScaleError } from "../core/errors.ts";
import { loadTrainConfig, STAGES, type Stage } from "../train/config.ts";
import { runStage } from "../train/stages.ts";

const HELP = `usage: datascale train <stage> --config FILE [options]

stages:
  sft     supervised fine-tuning on prompt/response or messages JSONL (loss on responses)
  rm      Bradley–Terry reward model on prompt/chosen/rejected JSONL (reward head)
  genrm   generative judge: pairwise (YES/NO, both orders) on prompt/chosen/rejected JSONL,
          or with genrm.format: reference the pointwise judge on prompt/response/reference/
          label JSONL, written with reward-genrm.yaml that serves it
  ppo     PPO with a value-head critic, GAE and KL control, rewards from a verifier
  grpo    GRPO: group-relative advantages, no critic

options:
  --config FILE      YAML or JSON training config (see docs/train.md)
  --run-dir DIR      override runDir
  --steps N          override train.steps
  --seed N           override seed
  --init DIR         override model.init (a saved model directory)
  --quiet            no per-step lines on stdout

The run directory gets metrics.jsonl, checkpoints/, latest.json and model/ (the final
parameters). Rerunning the same command continues from the newest checkpoint.
`;

function intFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw))
    throw new DataScaleError("bad_option", `${name} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

export async function run(argv: string[]): Promise<number> {
  const [stage, ...rest] = argv;
  if (stage === undefined || stage === "--help" || stage === "-h") {
    process.stdout.write(HELP);
    return stage === undefined ? 2 : 0;
  }
  if (!(STAGES as readonly string[]).includes(stage)) {
    process.stderr.write(`datascale train: unknown stage '${stage}' (one of ${STAGES.join(", ")})\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: "string" },
      "run-dir": { type: "string" },
      steps: { type: "string" },
      seed: { type: "string" },
      init: { type: "string" },
      quiet: { type: "boolean" },
    },
    strict: true,
  });
  if (values.config === undefined) throw new DataScaleError("bad_option", "--config FILE is required");
  const overrides: Record<string, unknown> = {};
  if (values["run-dir"] !== undefined) overrides["runDir"] = values["run-dir"];
  const steps = intFlag("--steps", values.steps);
  if (steps !== undefined) overrides["train"] = { steps };
  const seed = intFlag("--seed", values.seed);
  if (seed !== undefined) overrides["seed"] = seed;
  if (values.init !== undefined) overrides["model"] = { init: values.init };
  const config = loadTrainConfig(values.config, overrides);
  const result = await runStage(stage as Stage, config, (step, m) => {
    if (values.quiet) return;
    const brief = Object.entries(m)
      .filter(([, v]) => typeof v === "number")
      .slice(0, 8)
      .map(([k, v]) => `${k}=${Number(v).toPrecision(4)}`)
      .join(" ");
    process.stdout.write(`${stage} step ${step}: ${brief}\n`);
  });
  process.stdout.write(
    `${JSON.stringify({ stage: result.stage, runDir: result.runDir, model: result.modelDir, ...result.summary })}\n`,
  );
  return 0;
}
