// SFT Best-of-N references (the paper's GenRM-BoN reference): for each task, sample N
// responses from the policy, score them with the Bradley–Terry reward model, and keep the
// best as `reference.response`, with every score kept in `meta.references`. Streams tasks;
// the output is an append log, so a killed run resumes after its last complete line.
import { readFile, writeFile } from "node:fs/promises";
import { type TaskSampler, taskSampler } from "../backend/task-sampler.ts";
import type { Backend } from "../backend/types.ts";
import { type Task, Task as TaskSchema } from "../core/schemas.ts";
import { readJsonl } from "../io/jsonl.ts";
import { Progress } from "../io/progress.ts";
import { AppendLog, repairAppendLog } from "../io/rundir.ts";
import type { BTJudge } from "./bt.ts";
import { promptText } from "./rollout-text.ts";

/** Samples already drawn elsewhere (the main job draws one set per prompt for every use). */
export interface GivenSamples {
  name: string;
  sample: TaskSampler;
}

export interface ReferencesOptions {
  input: string;
  output: string;
  /** The policy to sample from, or a sampler with the samples to pick among. */
  policy: Backend | GivenSamples;
  rm: BTJudge;
  n: number;
  maxTokens: number;
  temperature: number;
  seed: number;
  /** Tasks per policy call. */
  batch: number;
  resume: boolean;
  log?: (line: string) => void;
}

export interface ReferencesSummary {
  written: number;
  skippedResumed: number;
  badLines: number;
}

async function completeLines(path: string): Promise<number> {
  const kept = await repairAppendLog(path);
  if (kept === 0) return 0;
  const text = await readFile(path, "utf8");
  return text.split("\n").length - 1;
}

export async function buildReferences(o: ReferencesOptions): Promise<ReferencesSummary> {
  const done = o.resume ? await completeLines(o.output) : 0;
  if (!o.resume) await writeFile(o.output, "");
  const out = await AppendLog.open(o.output);
  const progress = new Progress("references");
  const summary: ReferencesSummary = { written: 0, skippedResumed: 0, badLines: 0 };
  const given = "sample" in o.policy ? o.policy : undefined;
  const sample =
    given?.sample ??
    taskSampler(o.policy as Backend, { maxTokens: o.maxTokens, temperature: o.temperature, seed: o.seed });
  const policyName = given?.name ?? (o.policy as Backend).model;
  let batch: Task[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const tasks = batch;
    batch = [];
    const samples = await sample(tasks, o.n);
    const prompts = tasks.map(promptText);
    const scores = await o.rm.rewards(
      samples.flatMap((s, i) => s.map((response) => ({ prompt: prompts[i] as string, response }))),
    );
    let k = 0;
    for (const [i, task] of tasks.entries()) {
      const texts = samples[i] as string[];
      const s = texts.map(() => scores[k++] as number);
      const best = s.indexOf(Math.max(...s));
      await out.append({
        ...task,
        reference: { ...task.reference, response: texts[best] },
        meta: {
          ...task.meta,
          references: { n: texts.length, best, scores: s, samples: texts, policy: policyName },
        },
      });
      summary.written++;
    }
    progress.add(tasks.length);
  };
  try {
    let valid = 0;
    for await (const item of readJsonl(o.input, { schema: TaskSchema })) {
      if (!item.ok) {
        summary.badLines++;
        o.log?.(item.error);
        continue;
      }
      if (valid++ < done) {
        summary.skippedResumed++;
        continue;
      }
      batch.push(item.value);
      if (batch.length >= o.batch) await flush();
    }
    await flush();
  } finally {
    await out.close();
    progress.done();
  }
  return summary;
}
