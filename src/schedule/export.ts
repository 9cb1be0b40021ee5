// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the launch scripts hold shell parameter expansions
// Export a schedule's batches for external trainers: one file per stage, rows in the order
// our sampler chose, so a trainer reading them in order (verl with data.shuffle=False)
// follows our curriculum exactly. verl gets Parquet in its RLHFDataset row schema, OpenRLHF
// gets JSONL with an input key and a label key.

import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileWriter, ParquetWriter } from "hyparquet-writer";
import type { Message, Task } from "../core/schemas.ts";
import { JsonlWriter } from "../io/jsonl.ts";
import { sampleSchedule } from "./sampler.ts";
import { type Schedule, stageSteps } from "./schedule.ts";

/** One row of verl's dataset (docs/preparation/prepare_data.rst; examples/data_preprocess/gsm8k.py). */
export interface VerlRow {
  data_source: string;
  prompt: Message[];
  ability: string;
  reward_model: { style: string; ground_truth: string };
  extra_info: {
    index: bigint;
    id: string;
    domain: string;
    question: string;
    /** The full Reference as JSON, for our reward server and verl shim. */
    reference: string;
    stage: string;
    /** The task's meta (selection evidence included) as JSON. */
    meta: string;
  };
}

const str = (name: string) =>
  ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" }) as const;

/** The Parquet schema of VerlRow: nested groups, as verl's own preprocessors write them. */
export const VERL_SCHEMA = [
  { name: "root", num_children: 5 },
  str("data_source"),
  { name: "prompt", repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  { name: "element", repetition_type: "REQUIRED", num_children: 2 },
  str("role"),
  str("content"),
  str("ability"),
  { name: "reward_model", repetition_type: "REQUIRED", num_children: 2 },
  str("style"),
  str("ground_truth"),
  { name: "extra_info", repetition_type: "REQUIRED", num_children: 7 },
  { name: "index", type: "INT64", repetition_type: "REQUIRED" },
  str("id"),
  str("domain"),
  str("question"),
  str("reference"),
  str("stage"),
  str("meta"),
] as const;

export function messagesOf(task: Task): Message[] {
  return task.messages ?? [{ role: "user", content: task.prompt ?? "" }];
}

function questionOf(task: Task): string {
  if (task.prompt !== undefined) return task.prompt;
  const users = (task.messages ?? []).filter((m) => m.role === "user");
  return users[users.length - 1]?.content ?? "";
}

/**
 * `rule` when a program can check the answer (ground truth, tests or instructions), else
 * `model` (a judge). `ground_truth` is the plain answer when there is one (what verl's
 * built-in scorers expect), else the Reference as JSON.
 */
export function verlRow(task: Task, index: number, stage: string): VerlRow {
  const ref = task.reference ?? {};
  const rule = ref.answer !== undefined || ref.tests !== undefined || ref.instructions !== undefined;
  return {
    data_source: task.domain,
    prompt: messagesOf(task),
    ability: task.domain,
    reward_model: {
      style: rule ? "rule" : "model",
      ground_truth: ref.answer !== undefined ? String(ref.answer) : JSON.stringify(ref),
    },
    extra_info: {
      index: BigInt(index),
      id: String(task.id),
      domain: task.domain,
      question: questionOf(task),
      reference: JSON.stringify(ref),
      stage,
      meta: JSON.stringify(task.meta ?? {}),
    },
  };
}

/** One row of OpenRLHF's prompt dataset (--input_key input --label_key label). */
export function openrlhfRow(task: Task): { input: Message[]; label: string; datasource: string; id: string } {
  return {
    input: messagesOf(task),
    label: JSON.stringify({ domain: task.domain, reference: task.reference ?? {}, id: task.id }),
    datasource: task.domain,
    id: String(task.id),
  };
}

export interface ExportedStage {
  name: string;
  file: string;
  rows: number;
  steps: number;
}

export interface ExportResult {
  format: "verl" | "openrlhf";
  stages: ExportedStage[];
  launch: string;
}

const ROW_GROUP = 10_000;

class VerlStageWriter {
  readonly #pq: ParquetWriter;
  #rows: VerlRow[] = [];
  constructor(path: string) {
    this.#pq = new ParquetWriter({ writer: fileWriter(path), schema: [...VERL_SCHEMA] });
  }
  add(row: VerlRow): void {
    this.#rows.push(row);
    if (this.#rows.length >= ROW_GROUP) this.#flush();
  }
  #flush(): void {
    if (this.#rows.length === 0) return;
    const rows = this.#rows;
    this.#rows = [];
    const col = <K extends keyof VerlRow>(k: K) => rows.map((r) => r[k]);
    this.#pq.write({
      columnData: [
        { name: "data_source", data: col("data_source") },
        { name: "prompt", data: col("prompt") },
        { name: "ability", data: col("ability") },
        { name: "reward_model", data: col("reward_model") },
        { name: "extra_info", data: col("extra_info") },
      ],
      rowGroupSize: ROW_GROUP,
    });
  }
  finish(): void {
    this.#flush();
    this.#pq.finish();
  }
}

export async function exportSchedule(
  format: "verl" | "openrlhf",
  schedule: Schedule,
  byDomain: ReadonlyMap<string, readonly Task[]>,
  outDir: string,
): Promise<ExportResult> {
  await mkdir(outDir, { recursive: true });
  const stages: ExportedStage[] = schedule.stages.map((s, i) => ({
    name: s.name,
    file: join(
      outDir,
      `${String(i + 1).padStart(2, "0")}-${s.name}.${format === "verl" ? "parquet" : "jsonl"}`,
    ),
    rows: 0,
    steps: stageSteps(s, schedule.batchSize),
  }));
  let stageIndex = -1;
  let verl: VerlStageWriter | undefined;
  let jsonl: JsonlWriter | undefined;
  const close = async (): Promise<void> => {
    verl?.finish();
    await jsonl?.close();
    if (stageIndex >= 0) await rename(`${stages[stageIndex]!.file}.partial`, stages[stageIndex]!.file);
    verl = undefined;
    jsonl = undefined;
  };
  try {
    for (const batch of sampleSchedule(schedule, byDomain)) {
      if (batch.stageIndex !== stageIndex) {
        await close();
        stageIndex = batch.stageIndex;
        const tmp = `${stages[stageIndex]!.file}.partial`;
        if (format === "verl") verl = new VerlStageWriter(tmp);
        else jsonl = new JsonlWriter(tmp);
      }
      const st = stages[stageIndex]!;
      for (const task of batch.tasks) {
        if (verl !== undefined) verl.add(verlRow(task, st.rows, st.name));
        else await jsonl!.write(openrlhfRow(task));
        st.rows++;
      }
    }
    await close();
  } catch (e) {
    for (const s of stages) await rm(`${s.file}.partial`, { force: true });
    throw e;
  }
  const launch = join(outDir, format === "verl" ? "launch-verl.sh" : "launch-openrlhf.sh");
  await writeFile(
    launch,
    format === "verl" ? verlLaunch(stages, schedule) : openrlhfLaunch(stages, schedule),
    {
      mode: 0o755,
    },
  );
  return { format, stages, launch };
}

/**
 * Runs the stages one after another; each later stage resumes from the previous stage's
 * checkpoint (trainer.resume_mode=resume_path) and reads its file in order
 * (data.shuffle=False, one epoch), so verl trains on exactly the exported order.
 */
export function verlLaunch(stages: readonly ExportedStage[], schedule: Schedule): string {
  const lines = [
    "#!/usr/bin/env bash",
    "# Generated by `datascale export verl`: one verl run per curriculum stage.",
    "# Fill in MODEL and the reward lines (our reward server via the verl shim), then run.",
    "set -euo pipefail",
    ': "${MODEL:?set MODEL to the policy checkpoint}"',
    ': "${CKPT_DIR:=$PWD/checkpoints}"',
    ': "${REWARD_PY:=integrations/verl/datascale_reward.py}"',
    "",
  ];
  stages.forEach((s, i) => {
    const prev = stages[i - 1];
    lines.push(
      `# stage ${i + 1}: ${s.name} (${s.rows} prompts, ${s.steps} steps)`,
      "python3 -m verl.trainer.main_ppo \\",
      `  data.train_files=${JSON.stringify(resolve(s.file))} \\`,
      `  data.train_batch_size=${schedule.batchSize} \\`,
      "  data.shuffle=False \\",
      "  trainer.total_epochs=1 \\",
      `  trainer.total_training_steps=${s.steps} \\`,
      `  trainer.default_local_dir="$CKPT_DIR/${s.name}" \\`,
      ...(prev === undefined
        ? ["  trainer.resume_mode=disable \\"]
        : [
            "  trainer.resume_mode=resume_path \\",
            `  trainer.resume_from_path="$CKPT_DIR/${prev.name}/global_step_${prev.steps}" \\`,
          ]),
      '  actor_rollout_ref.model.path="$MODEL" \\',
      '  reward.custom_reward_function.path="$REWARD_PY" reward.custom_reward_function.name=compute_score \\',
      '  "$@"',
      "",
    );
  });
  return `${lines.join("\n")}\n`;
}

export function openrlhfLaunch(stages: readonly ExportedStage[], schedule: Schedule): string {
  const lines = [
    "#!/usr/bin/env bash",
    "# Generated by `datascale export openrlhf`: one OpenRLHF run per curriculum stage.",
    "# OpenRLHF shuffles prompts itself, so order within a stage is not kept; stages are.",
    "set -euo pipefail",
    ': "${MODEL:?set MODEL to the policy checkpoint}"',
    ': "${REWARD_URL:?set REWARD_URL to the datascale reward server}"',
    ': "${CKPT_DIR:=$PWD/checkpoints}"',
    "",
  ];
  stages.forEach((s, i) => {
    lines.push(
      `# stage ${i + 1}: ${s.name} (${s.rows} prompts)`,
      "python3 -m openrlhf.cli.train_ppo_ray \\",
      '  --pretrain "$MODEL" --remote_rm_url "$REWARD_URL" \\',
      `  --prompt_data ${JSON.stringify(resolve(s.file))} --input_key input --label_key label --apply_chat_template \\`,
      `  --rollout_batch_size ${schedule.batchSize} --num_episodes 1 \\`,
      `  --save_path "$CKPT_DIR/${s.name}" --ckpt_path "$CKPT_DIR/ckpt" ${i > 0 ? "--load_checkpoint " : ""}\\`,
      '  "$@"',
      "",
    );
  });
  return `${lines.join("\n")}\n`;
}
