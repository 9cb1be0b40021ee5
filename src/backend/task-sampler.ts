// K samples per task from any Backend in one request each (n = K), seeded per task so a
// re-run (or a resumed job) draws the same samples. Used by Pre-PPO selection (the policy's
// answers) and by Best-of-N reference building.
import { createHash } from "node:crypto";
import type { Task } from "../core/schemas.ts";
import type { Backend } from "./types.ts";

export interface TaskSampling {
  maxTokens: number;
  temperature: number;
  seed: number;
}

export type TaskSampler = (tasks: readonly Task[], k: number) => Promise<string[][]>;

export function taskSeed(id: Task["id"], seed: number): number {
  return createHash("sha256").update(`${seed}:${id}`).digest().readUInt32LE(0) & 0x7fffffff;
}

export function taskSampler(backend: Backend, sampling: TaskSampling): TaskSampler {
  return async (tasks, k) => {
    const results = await backend.generate(
      tasks.map((t) => ({
        ...(t.messages !== undefined ? { messages: t.messages } : { prompt: t.prompt ?? "" }),
        n: k,
        maxTokens: sampling.maxTokens,
        temperature: sampling.temperature,
        seed: taskSeed(t.id, sampling.seed),
      })),
    );
    return results.map((r) => r.completions.map((c) => c.text));
  };
}
