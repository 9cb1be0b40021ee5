// Runs one training stage from a validated TrainConfig: builds or loads the model, reads
// the data, trains with the run directory (metrics, checkpoints, resume); the trainer saves
// the final model to <runDir>/model (Hugging Face layout) for the next stage to start from.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { type Task, Task as TaskSchema } from "../core/schemas.ts";
import { DecoderConfigSchema } from "../model/config.ts";
import type { Decoder } from "../model/decoder.ts";
import { createKernel, selectKernel } from "../model/kernels/index.ts";
import type { Kernel } from "../model/kernels/types.ts";
import { promptsByStep } from "../schedule/sampler.ts";
import { paperScheduleFor, parseSchedule } from "../schedule/schedule.ts";
import { generateTasks } from "../tasks/generate.ts";
import { VerifierRegistry } from "../verify/registry.ts";
import type { Stage, TrainConfig } from "./config.ts";
import {
  PreferenceRecord,
  ReferenceRecord,
  readNumberedRecords,
  readRecords,
  SftRecord,
  toPromptResponse,
} from "./data.ts";
import { verifierRewardFn } from "./evaluate.ts";
import { type ReferenceGenRmRun, type ReferenceJudgement, trainReferenceGenRm } from "./genrm-reference.ts";
import type { StepMetrics } from "./loop.ts";
import { byteTokenizer, cloneDecoder, loadDecoder, newDecoder } from "./models.ts";
import { DEFAULT_RL, trainRl } from "./ppo.ts";
import { trainGenRm, trainRewardModel } from "./rm.ts";
import { RunDir, saveModel } from "./rundir.ts";
import { trainSft } from "./sft.ts";

function needFile(value: string | undefined, field: string): string {
  if (value === undefined) throw new DataScaleError("bad_config", `this stage needs ${field}`);
  return value;
}

/** Splits off the last `fraction` of records as a held-out set (the file order is the user's). */
function split<T>(items: T[], fraction: number): { train: T[]; held: T[] } {
  const k = Math.floor(items.length * fraction);
  return { train: items.slice(0, items.length - k), held: items.slice(items.length - k) };
}

/**
 * The prompts of every step under the configured curriculum, or undefined for uniform
 * sampling. The whole schedule is laid out up front (deterministic per seed), so a resumed
 * run sees the same prompts at the same steps.
 */
async function curriculum(
  config: TrainConfig,
  tasks: readonly Task[],
  steps: number,
  promptsPerStep: number,
): Promise<((step: number) => readonly Task[]) | undefined> {
  const spec = config.data.schedule;
  if (spec === undefined) return undefined;
  const schedule =
    spec === "paper"
      ? paperScheduleFor({
          steps,
          stage1Fraction: config.data.stage1Fraction,
          batchSize: promptsPerStep,
          seed: config.seed,
        })
      : { ...parseSchedule(JSON.parse(await readFile(spec, "utf8")), spec), batchSize: promptsPerStep };
  try {
    return promptsByStep(schedule, tasks);
  } catch (e) {
    throw new DataScaleError("bad_config", `data.schedule: ${(e as Error).message}`);
  }
}

async function loadTasks(config: TrainConfig): Promise<Task[]> {
  const src = config.data.tasks;
  if (src === undefined)
    throw new DataScaleError("bad_config", "ppo/grpo need data.tasks (a file or a family)");
  if ("family" in src)
    return [...generateTasks({ family: src.family, n: src.n, seed: src.seed, difficulty: src.difficulty })];
  return readRecords(src.file, TaskSchema);
}

/** Reference-format judgements, each named by file:line for later reports. */
async function readJudgements(path: string): Promise<ReferenceJudgement[]> {
  return (await readNumberedRecords(path, ReferenceRecord)).map(({ line, value }) => ({
    prompt: value.prompt,
    response: value.response,
    reference: value.reference,
    label: value.label,
    where: `${path}:${line}`,
  }));
}

/**
 * A judge template file: {{first}} is the response and {{second}} the reference, so a
 * template without both would train a judge that never sees one of them.
 */
async function readTemplate(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new DataScaleError("bad_config", `genrm.template: ${path}: cannot read (${(e as Error).message})`);
  }
  for (const slot of ["{{first}}", "{{second}}"])
    if (!text.includes(slot))
      throw new DataScaleError(
        "bad_config",
        `genrm.template: ${path} has no ${slot} (${slot === "{{first}}" ? "the response" : "the reference"})`,
      );
  return text;
}

/** `genrm` with `format: reference`: the pointwise judge the reward system serves (genrm-reference.ts). */
async function referenceGenRm(
  config: TrainConfig,
  run: Pick<ReferenceGenRmRun, "model" | "tokenizer" | "options" | "runDir" | "onStep">,
): Promise<Record<string, unknown>> {
  const all = await readJudgements(needFile(config.data.train, "data.train"));
  const { train, held } =
    config.data.eval === undefined
      ? split(all, config.data.evalFraction)
      : { train: all, held: await readJudgements(config.data.eval) };
  const template =
    config.genrm.template === undefined ? undefined : await readTemplate(config.genrm.template);
  return { format: "reference", ...(await trainReferenceGenRm({ ...run, train, eval: held, template })) };
}

function freshModel(input: Record<string, unknown>, seed: number, kernel: Kernel): Decoder {
  const parsed = DecoderConfigSchema.safeParse(input);
  if (!parsed.success)
    throw new DataScaleError("bad_config", `model.config: ${formatZodError(parsed.error)}`);
  try {
    return newDecoder(parsed.data, seed, kernel);
  } catch (e) {
    throw new DataScaleError("bad_config", `model.config: ${(e as Error).message}`);
  }
}

export interface StageResult {
  stage: Stage;
  runDir: string;
  modelDir: string;
  summary: Record<string, unknown>;
}

export async function runStage(
  stage: Stage,
  config: TrainConfig,
  onStep?: (step: number, metrics: StepMetrics) => void,
): Promise<StageResult> {
  const kernel = config.model.kernel === "auto" ? selectKernel() : createKernel(config.model.kernel);
  try {
    return await runWith(stage, config, kernel, onStep);
  } finally {
    kernel.close();
  }
}

async function runWith(
  stage: Stage,
  config: TrainConfig,
  kernel: Kernel,
  onStep?: (step: number, metrics: StepMetrics) => void,
): Promise<StageResult> {
  const tokenizer = byteTokenizer();
  const runDir = new RunDir(config.runDir);
  const separateCritic = stage === "ppo" && config.rl.critic === "separate";
  const heads = { valueHead: stage === "ppo" && !separateCritic, rewardHead: stage === "rm" };
  const model: Decoder =
    config.model.init !== undefined
      ? loadDecoder(config.model.init, heads, config.seed, kernel)
      : freshModel({ vocabSize: tokenizer.vocabSize, ...config.model.config, ...heads }, config.seed, kernel);
  if (model.vocabSize < tokenizer.vocabSize)
    throw new DataScaleError(
      "bad_config",
      `model.vocabSize ${model.vocabSize} is below the tokenizer's ${tokenizer.vocabSize}`,
    );
  const t = config.train;
  const optimizer = { weightDecay: t.weightDecay, gradClip: t.gradClip };
  const common = {
    steps: t.steps,
    batchSize: t.batchSize,
    lr: t.lr,
    warmup: t.warmup,
    seed: config.seed,
    evalEvery: t.evalEvery,
    checkpointEvery: t.checkpointEvery,
    optimizer,
  };
  const summary: Record<string, unknown> = {};
  if (stage === "sft") {
    const train = (await readRecords(needFile(config.data.train, "data.train"), SftRecord)).map(
      toPromptResponse,
    );
    const evalSet =
      config.data.eval === undefined
        ? undefined
        : (await readRecords(config.data.eval, SftRecord)).map(toPromptResponse);
    Object.assign(
      summary,
      await trainSft({ model, tokenizer, train, eval: evalSet, options: common, runDir, onStep }),
    );
  } else if (stage === "genrm" && config.genrm.format === "reference") {
    Object.assign(
      summary,
      await referenceGenRm(config, { model, tokenizer, options: common, runDir, onStep }),
    );
  } else if (stage === "rm" || stage === "genrm") {
    const all = await readRecords(needFile(config.data.train, "data.train"), PreferenceRecord);
    const { train, held } =
      config.data.eval === undefined
        ? split(all, config.data.evalFraction)
        : { train: all, held: await readRecords(config.data.eval, PreferenceRecord) };
    if (stage === "rm")
      Object.assign(
        summary,
        await trainRewardModel({ model, tokenizer, train, eval: held, options: common, runDir, onStep }),
      );
    else
      Object.assign(summary, {
        eval: await trainGenRm({
          model,
          tokenizer,
          train,
          eval: held,
          options: { ...common, maxChars: config.genrm.maxResponseChars ?? 64 },
          runDir,
          onStep,
        }),
      });
  } else {
    const tasks = await loadTasks(config);
    const verifier = await new VerifierRegistry().get(config.reward.verifier);
    if (verifier === undefined)
      throw new DataScaleError(
        "bad_config",
        `reward.verifier: no verifier for domain '${config.reward.verifier}'`,
      );
    // The reference is the starting policy, kept beside the run so a resumed run uses the same one.
    const refDir = join(config.runDir, "reference");
    let reference: Decoder;
    try {
      reference = loadDecoder(refDir, { valueHead: false }, 1, kernel);
    } catch (e) {
      if (!(e instanceof DataScaleError && e.code === "not_found")) throw e;
      reference = cloneDecoder(model, { valueHead: false });
      saveModel(refDir, reference, tokenizer);
    }
    const grpoKl = { coef: 0.02, estimator: "k3", mode: "loss" } as const;
    const kl = { ...(stage === "grpo" ? grpoKl : DEFAULT_RL.kl), ...config.rl.kl };
    // A separate critic starts from the policy's weights plus a fresh value head.
    const critic = separateCritic ? cloneDecoder(model, { valueHead: true }) : undefined;
    const { critic: _critic, kl: _kl, ...rl } = config.rl;
    const last = await trainRl({
      policy: model,
      reference,
      critic,
      tokenizer,
      tasks,
      promptsForStep: await curriculum(
        config,
        tasks,
        t.steps,
        config.rl.promptsPerStep ?? DEFAULT_RL.promptsPerStep,
      ),
      reward: verifierRewardFn(verifier),
      options: {
        ...DEFAULT_RL,
        ...rl,
        kl,
        algorithm: stage,
        steps: t.steps,
        lr: t.lr,
        warmup: t.warmup,
        seed: config.seed,
        checkpointEvery: t.checkpointEvery,
        optimizer,
      },
      runDir,
      onStep,
    });
    Object.assign(summary, { last });
  }
  // The trainer saved the final model (HF layout) there.
  return { stage, runDir: config.runDir, modelDir: runDir.modelDir, summary };
}
