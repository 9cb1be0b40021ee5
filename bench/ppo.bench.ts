// npm run bench:ppo — one PPO iteration on the embedded engine, broken into its parts, for a
// fixed configuration: a decoder of dim 64, 2 layers, 4 heads (byte vocabulary, 259), 8
// prompts × 4 rollouts of the arithmetic family (difficulty 0), up to 8 response tokens,
// 2 PPO epochs of mini-batches of 16, value head, k1 KL in the reward.
//   rollout   batched KV-cached sampling of all 32 sequences (sample.ts generate)
//   reward    the logic verifier through the RewardFn seam
//   score     the reference's logprobs (each prompt once into a KV cache, shared by its
//             rollouts) and the old values (a policy forward); the old logprobs are the sampler's
//   update    PPO epochs: forward + clipped-surrogate/value gradients + backward + AdamW
// Baseline, same run: the whole iteration on the reference TypeScript kernel (ratio printed).
// Second baseline: the rollout done one sequence at a time (generate per request),
// the way a loop over prompts without batching would do it; the ratio is printed.
// Figures are medians over ITER iterations after one warm-up. Ends with ONE JSON line.
import { createKernel, parseKernelName } from "../src/model/kernels/index.ts";
import { generate } from "../src/model/sample.ts";
import { generateTasks } from "../src/tasks/generate.ts";
import { promptIds, taskPrompt, verifierRewardFn } from "../src/train/evaluate.ts";
import type { StepMetrics } from "../src/train/loop.ts";
import { byteTokenizer, cloneDecoder, newDecoder } from "../src/train/models.ts";
import { DEFAULT_RL, trainRl } from "../src/train/ppo.ts";
import { createLogicVerifier } from "../src/verify/logic/index.ts";

const ITER = Number(process.env["BENCH_ITER"] ?? 5);
const tokenizer = byteTokenizer();
const shape = { vocabSize: tokenizer.vocabSize, dim: 64, nLayers: 2, nHeads: 4, maxSeqLen: 32 };
// BENCH_KERNEL=ts|wasm|blas (default wasm; the trainers default to auto, i.e. blas when built).
const kernelName = parseKernelName(process.env["BENCH_KERNEL"] ?? "wasm", "BENCH_KERNEL");
const kernel = createKernel(kernelName);
const policy = newDecoder({ ...shape, valueHead: true }, 1, kernel);
const reference = cloneDecoder(policy, { valueHead: false });
const tasks = [...generateTasks({ family: "arithmetic", n: 256, seed: 0, difficulty: 0 })];
const reward = verifierRewardFn(createLogicVerifier());
const options = {
  ...DEFAULT_RL,
  algorithm: "ppo" as const,
  steps: ITER + 1,
  promptsPerStep: 8,
  rolloutsPerPrompt: 4,
  maxResponseTokens: 8,
  ppoEpochs: 2,
  miniBatchSize: 16,
  lr: 1e-4,
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** ITER timed iterations after one warm-up; every iteration starts from the same weights. */
async function iterations(p: typeof policy, r: typeof reference): Promise<StepMetrics[]> {
  const start = Float32Array.from(p.params);
  const steps: StepMetrics[] = [];
  await trainRl({
    policy: p,
    reference: r,
    tokenizer,
    tasks,
    reward,
    options,
    onStep: (_, m) => steps.push(m),
  });
  p.params.set(start);
  return steps.slice(1);
}
const timed = await iterations(policy, reference);
const med = (k: string) => median(timed.map((m) => m[k] as number));
// Named baseline, same run: the same iterations on the reference TypeScript kernel.
const tsKernel = createKernel("ts");
const tsPolicy = newDecoder({ ...shape, valueHead: true }, 1, tsKernel);
const tsTimed =
  kernelName === "ts" ? timed : await iterations(tsPolicy, cloneDecoder(tsPolicy, { valueHead: false }));
const tsIteration = median(
  tsTimed.map((m) =>
    ["rollout_s", "reward_s", "score_s", "update_s"].reduce((a, k) => a + (m[k] as number), 0),
  ),
);

// Baseline: the same rollout, one sequence at a time.
const seqs = options.promptsPerStep * options.rolloutsPerPrompt;
const requests = tasks.slice(0, seqs).map((t, i) => ({
  prompt: promptIds(tokenizer, taskPrompt(t)),
  params: { maxTokens: options.maxResponseTokens, temperature: 1, seed: i, stopTokenIds: [tokenizer.eosId!] },
}));
const batchedTimes: number[] = [];
const serialTimes: number[] = [];
let batchedTokens = 0;
let serialTokens = 0;
for (let r = 0; r < 3; r++) {
  let t0 = performance.now();
  const gens = await generate(policy, tokenizer, requests);
  batchedTimes.push((performance.now() - t0) / 1000);
  batchedTokens = gens.reduce((a, g) => a + g.tokens.length, 0);
  t0 = performance.now();
  serialTokens = 0;
  for (const q of requests) serialTokens += (await generate(policy, tokenizer, [q]))[0]!.tokens.length;
  serialTimes.push((performance.now() - t0) / 1000);
}
const batchedRate = batchedTokens / median(batchedTimes);
const serialRate = serialTokens / median(serialTimes);

const parts = ["rollout", "reward", "score", "update"] as const;
const seconds = Object.fromEntries(parts.map((p) => [p, med(`${p}_s`)]));
const total = parts.reduce((a, p) => a + seconds[p]!, 0);
const respTokens = med("response_length") * seqs;
const figures = {
  config: {
    ...shape,
    sequences: seqs,
    maxResponseTokens: options.maxResponseTokens,
    ppoEpochs: options.ppoEpochs,
    miniBatchSize: options.miniBatchSize,
    kernel: policy.kernel.name,
  },
  iteration_s: total,
  rollout_s: seconds["rollout"],
  reward_s: seconds["reward"],
  score_s: seconds["score"],
  update_s: seconds["update"],
  rollout_tokens_per_s: med("rollout_tokens_per_s"),
  reward_rollouts_per_s: seqs / seconds["reward"]!,
  update_tokens_per_s: med("update_tokens_per_s"),
  iteration_tokens_per_s: med("tokens_per_s"),
  response_tokens: respTokens,
  baseline_serial_rollout_tokens_per_s: serialRate,
  batched_rollout_tokens_per_s: batchedRate,
  batched_vs_serial_rollout: batchedRate / serialRate,
  baseline_ts_kernel_iteration_s: tsIteration,
  iteration_speedup_vs_ts_kernel: tsIteration / total,
  iterations: ITER,
};
for (const p of parts)
  process.stdout.write(
    `${p.padEnd(8)} ${(seconds[p]! * 1000).toFixed(1).padStart(8)} ms  ${((100 * seconds[p]!) / total).toFixed(1).padStart(5)}%\n`,
  );
process.stdout.write(
  `iteration ${(total * 1000).toFixed(1)} ms; rollout ${figures.rollout_tokens_per_s.toFixed(0)} tok/s, update ${figures.update_tokens_per_s.toFixed(0)} tok/s\n`,
);
process.stdout.write(
  `rollout batched ${batchedRate.toFixed(0)} tok/s vs one-at-a-time baseline ${serialRate.toFixed(0)} tok/s: ×${figures.batched_vs_serial_rollout.toFixed(2)}\n`,
);
process.stdout.write(
  `iteration on ${kernelName} ${(total * 1000).toFixed(1)} ms vs the ts reference kernel ${(tsIteration * 1000).toFixed(1)} ms: ×${figures.iteration_speedup_vs_ts_kernel.toFixed(2)}\n`,
);

// Second measurement: the main job's step, where prompt lengths differ (a word problem is ~75
// tokens, a sorting or maze prompt ~15) — 8 prompts × 8 rollouts of its four families, GRPO,
// its model's maxSeqLen. Micro-batches of similar width (the default) against every row padded
// to the batch's longest (`padded: true`, the code before them), alternated iteration by
// iteration so both see the same machine.
const mixed = ["word_problem", "code_output", "sorting", "maze"].flatMap((family, i) => [
  ...generateTasks({ family, n: 64, seed: 10 + i, difficulty: 1 }),
]);
const mixedShape = { ...shape, maxSeqLen: 128 };
const mixedPolicy = newDecoder(mixedShape, 2, kernel);
const mixedOptions = {
  ...options,
  algorithm: "grpo" as const,
  steps: 2,
  rolloutsPerPrompt: 8,
  maxResponseTokens: 16,
};
async function oneStep(padded: boolean, seed: number): Promise<StepMetrics> {
  const start = Float32Array.from(mixedPolicy.params);
  let last: StepMetrics | undefined;
  await trainRl({
    policy: mixedPolicy,
    reference: cloneDecoder(mixedPolicy),
    tokenizer,
    tasks: mixed,
    reward,
    options: { ...mixedOptions, seed, padded },
    onStep: (_, m) => {
      last = m;
    },
  });
  mixedPolicy.params.set(start);
  return last!;
}
const widthTimes: number[] = [];
const paddedTimes: number[] = [];
for (let r = 0; r < ITER + 1; r++) {
  const [w, p] = [await oneStep(false, r), await oneStep(true, r)];
  if (r === 0) continue;
  widthTimes.push((w["score_s"] as number) + (w["update_s"] as number));
  paddedTimes.push((p["score_s"] as number) + (p["update_s"] as number));
}
const mixedRatio = median(paddedTimes) / median(widthTimes);
process.stdout.write(
  `main-job step (4 families, 64 rollouts), score + update: micro-batched ${(median(widthTimes) * 1000).toFixed(1)} ms vs padded baseline ${(median(paddedTimes) * 1000).toFixed(1)} ms: ×${mixedRatio.toFixed(2)}\n`,
);
process.stdout.write(
  `${JSON.stringify({ ...figures, mixed_score_update_s: median(widthTimes), baseline_padded_score_update_s: median(paddedTimes), mixed_speedup_vs_padded: mixedRatio })}\n`,
);
kernel.close();
tsKernel.close();
