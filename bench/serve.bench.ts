// bench:serve — the reward server under load on loopback, side by side with the same
// RewardFn called in-process (the baseline: what HTTP costs). The server runs in a child
// process (as in production); autocannon drives it from this one. Every run is bounded in
// time and requests.
//   npm run bench:serve [-- --seconds 5]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import type { Rollout } from "../src/core/schemas.ts";
import { parseRewardConfig } from "../src/reward/config.ts";
import { createRewardSystem } from "../src/reward/system.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
const seconds = Number(values.seconds);
const root = new URL("../", import.meta.url);

function mathRollouts(): Rollout[] {
  const text = readFileSync(new URL("examples/math-rollouts.jsonl", root), "utf8");
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Rollout);
}

async function inProcess(rollouts: Rollout[]): Promise<number> {
  const system = await createRewardSystem(parseRewardConfig({}));
  try {
    const batch = Array.from({ length: 256 }, (_, i) => ({
      ...(rollouts[i % rollouts.length] as Rollout),
      id: i,
    }));
    await system.rewardFn(batch);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await Promise.all([system.rewardFn(batch), system.rewardFn(batch)]);
      n += 2 * batch.length;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await system.close();
  }
}

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const main = new URL("src/cli/main.ts", root).pathname;
  const child = spawn(process.execPath, [main, "serve-reward", "--port", "0", "--max-queue", "100000"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d;
      const m = /reward server on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

interface Load {
  url: string;
  path: string;
  bodies: string[];
  connections: number;
  overallRate?: number;
}
interface LoadResult {
  requestsPerS: number;
  p50: number;
  p99: number;
  failed: number;
  total: number;
}

async function load(o: Load): Promise<LoadResult> {
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: seconds,
    ...(o.overallRate !== undefined ? { overallRate: o.overallRate } : {}),
    requests: o.bodies.map((body) => ({
      method: "POST" as const,
      path: o.path,
      headers: { "content-type": "application/json" },
      body,
    })),
  });
  return {
    requestsPerS: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
  };
}

const rollouts = mathRollouts();
process.stderr.write(
  `bench:serve — ${rollouts.length} distinct math rollouts, ${seconds}s per run, ${cpus()[0]?.model ?? "?"} × ${availableParallelism()}\n`,
);

const baseline = await inProcess(rollouts);
process.stderr.write(`in-process RewardFn (baseline):   ${baseline.toFixed(0)} math rewards/s\n`);

const server = await startServer();
try {
  const B = 64;
  const batchBodies = [0, 1, 2, 3].map((k) =>
    JSON.stringify({
      rollouts: Array.from({ length: B }, (_, i) => ({
        ...(rollouts[(k * B + i) % rollouts.length] as Rollout),
        id: i,
      })),
    }),
  );
  const batch = await load({ url: server.url, path: "/v1/rewards", bodies: batchBodies, connections: 8 });
  const batchRate = batch.requestsPerS * B;
  process.stderr.write(
    `HTTP batch (${B}/request):         ${batchRate.toFixed(0)} math rewards/s  p50 ${batch.p50} ms  p99 ${batch.p99} ms  failed ${batch.failed}  (${(batchRate / baseline).toFixed(2)}× in-process)\n`,
  );

  const sampleBodies = rollouts.map((r) =>
    JSON.stringify({
      query: [`Question: ${r.prompt ?? ""}\nAnswer: ${r.response}<|im_end|>`],
      prompts: [`Question: ${r.prompt ?? ""}\nAnswer: `],
      labels: [JSON.stringify({ domain: "math", reference: r.reference })],
    }),
  );
  const saturated = await load({ url: server.url, path: "/openrlhf", bodies: sampleBodies, connections: 64 });
  process.stderr.write(
    `OpenRLHF per-sample, saturated:    ${saturated.requestsPerS.toFixed(0)} rewards/s  p50 ${saturated.p50} ms  p99 ${saturated.p99} ms  failed ${saturated.failed}\n`,
  );
  const target = 3000;
  const paced = await load({
    url: server.url,
    path: "/openrlhf",
    bodies: sampleBodies,
    connections: 64,
    overallRate: target,
  });
  process.stderr.write(
    `OpenRLHF per-sample at ${target}/s:    ${paced.requestsPerS.toFixed(0)} rewards/s  p50 ${paced.p50} ms  p99 ${paced.p99} ms  failed ${paced.failed}\n`,
  );

  const codeRollout = {
    id: "c",
    domain: "code",
    response: "```python\nprint(sum(map(int, input().split())))\n```",
    reference: {
      tests: [
        { input: "1 2\n", output: "3\n" },
        { input: "5 7\n", output: "12\n" },
      ],
    },
  };
  const code = await load({
    url: server.url,
    path: "/v1/rewards",
    bodies: [JSON.stringify({ rollouts: [codeRollout] })],
    connections: 16,
  });
  process.stderr.write(
    `code (2 tests each, per-sample):  ${code.requestsPerS.toFixed(1)} rewards/s  p99 ${code.p99} ms  failed ${code.failed}\n`,
  );

  process.stdout.write(
    `${JSON.stringify({
      bench: "serve",
      seconds,
      cores: availableParallelism(),
      in_process_math_rewards_per_s: Math.round(baseline),
      batch_math_rewards_per_s: Math.round(batchRate),
      batch_p50_ms: batch.p50,
      batch_p99_ms: batch.p99,
      batch_ratio_vs_in_process: Number((batchRate / baseline).toFixed(3)),
      per_sample_math_rewards_per_s: Math.round(saturated.requestsPerS),
      per_sample_saturated_p99_ms: saturated.p99,
      per_sample_paced_rate: target,
      per_sample_paced_achieved: Math.round(paced.requestsPerS),
      per_sample_p99_ms: paced.p99,
      code_rewards_per_s: Number(code.requestsPerS.toFixed(1)),
      failed_requests: paced.failed + batch.failed,
    })}\n`,
  );
} finally {
  await server.stop();
}
