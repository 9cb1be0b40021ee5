// The policy that answers new prompts during selection, as a SampleFn over any Backend: K
// samples per prompt in one request (n = K), seeded per prompt so a re-run draws the same.
import { createHash } from "node:crypto";
import type { Backend } from "../backend/types.ts";
import type { Task } from "../core/schemas.ts";
import type { SampleFn } from "./types.ts";

export interface PolicySampling {
  maxTokens: number;
  temperature: number;
  seed: number;
}

function promptSeed(id: Task["id"], seed: number): number {
  return (createHash("sha256").update(`${seed}:${id}`).digest().readUInt32LE(0) & 0x7fffffff) >>> 0;
}

export function sampleFnFromBackend(backend: Backend, sampling: PolicySampling): SampleFn {
  return async (tasks, k) => {
    const results = await backend.generate(
      tasks.map((t) => ({
        ...(t.messages !== undefined ? { messages: t.messages } : { prompt: t.prompt ?? "" }),
        n: k,
        maxTokens: sampling.maxTokens,
        temperature: sampling.temperature,
        seed: promptSeed(t.id, sampling.seed),
      })),
    );
    return results.map((r) => r.completions.map((c) => c.text));
  };
}
