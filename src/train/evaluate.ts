// Scoring a policy on tasks: sample (greedy by default) one response per task and ask the
// RewardFn. The same path PPO's rollouts take, so an evaluation means what training sees.
import type { RewardFn, Task } from "../core/schemas.ts";
import type { Decoder } from "../model/decoder.ts";
import { generate } from "../model/sample.ts";
import { plainChatPrompt } from "../model/tokenizer/chat-template.ts";
import type { Tokenizer } from "../model/types.ts";
import type { Verifier } from "../verify/types.ts";

export function promptIds(tokenizer: Tokenizer, prompt: string): number[] {
  return [...(tokenizer.bosId === undefined ? [] : [tokenizer.bosId]), ...tokenizer.encode(prompt)];
}

/** A task's prompt text: its `prompt`, or its `messages` in the plain chat format (see toPromptResponse). */
export function taskPrompt(task: Task): string {
  return task.prompt ?? plainChatPrompt(task.messages ?? []);
}

/** A synchronous or async verifier as the trainers' RewardFn. */
export function verifierRewardFn(verifier: Verifier): RewardFn {
  return async (rollouts) => Promise.all(rollouts.map((r) => verifier.verify(r)));
}

export interface TaskEval {
  /** Mean score over the tasks that were scored (an `error` reward has no score). */
  meanScore: number;
  correct: number;
  /** Tasks scored: all but the errors. */
  n: number;
  /** Rewards with verdict `error` (infrastructure failures): neither correct nor incorrect. */
  errors: number;
  responses: string[];
}

export async function evaluateOnTasks(
  model: Decoder,
  tokenizer: Tokenizer,
  tasks: readonly Task[],
  reward: RewardFn,
  options: { maxTokens: number; temperature?: number; seed?: number },
): Promise<TaskEval> {
  const gens = await generate(
    model,
    tokenizer,
    tasks.map((t, i) => ({
      prompt: promptIds(tokenizer, taskPrompt(t)),
      params: {
        maxTokens: options.maxTokens,
        temperature: options.temperature ?? 0,
        seed: (options.seed ?? 0) + i,
        stopTokenIds: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
      },
    })),
  );
  const rewards = await reward(tasks.map((t, i) => ({ ...t, response: gens[i]!.text })));
  let sum = 0;
  let correct = 0;
  let errors = 0;
  for (const r of rewards) {
    if (r.verdict === "error") {
      errors++;
      continue;
    }
    sum += r.score;
    if (r.verdict === "correct") correct++;
  }
  const n = rewards.length - errors;
  return { meanScore: sum / Math.max(1, n), correct, n, errors, responses: gens.map((g) => g.text) };
}
