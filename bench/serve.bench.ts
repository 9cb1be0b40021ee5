// bench:serve — the reward server under load on loopback: one process and all cores
// (`--processes N`) side by side in one run, beside the same RewardFn called in-process (the
// baseline: what HTTP costs). The server runs in a child process (as in production);
// autocannon drives it from this one. Every run is bounded in time and requests.
//   per-sample: OpenRLHF one-sample requests, 64 connections, saturated → rewards/s and p99
//   batch:      /v1/rewards, 64 math rollouts per request, 8 connections
//   code:       one code rollout (2 stdin tests) per request, for every language the sandbox
//               registry reports (a language without a program here is listed as skipped)
//   npm run bench:serve [-- --seconds 5 --code-seconds 3 --balance reuseport|rr --no-code]
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { Rollout } from "../src/core/schemas.ts";
import { parseRewardConfig } from "../src/reward/config.ts";
import { createRewardSystem } from "../src/reward/system.ts";
import { probeIsolation } from "../src/sandbox/isolation.ts";
import { RUNNERS } from "../src/sandbox/runners/index.ts";
import { OpenRlhfResponse } from "../src/serve/openrlhf.ts";
import { NativeResponse } from "../src/serve/reward-server.ts";
import { compileSerializer } from "../src/serve/schema.ts";
import { openrlhfBody, postLoad, startRewardServer } from "./serve-load.ts";
import { SUM_PROGRAMS } from "./sum-programs.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    "code-seconds": { type: "string", default: "3" },
    balance: { type: "string", default: "reuseport" },
    processes: { type: "string" },
    "no-code": { type: "boolean" },
  },
});
const seconds = Number(values.seconds);
const codeSeconds = Number(values["code-seconds"]);
const cores = availableParallelism();
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

function startServer(processes: number) {
  const main = new URL("src/cli/main.ts", root).pathname;
  const args = [
    "--max-queue",
    "100000",
    "--processes",
    String(processes),
    "--balance",
    values.balance as string,
  ];
  return startRewardServer(main, args);
}

interface LoadResult {
  requestsPerS: number;
  p50: number;
  p99: number;
  failed: number;
}

async function load(
  url: string,
  path: string,
  bodies: string[],
  connections: number,
  duration: number,
): Promise<LoadResult> {
  const result = await postLoad(url, path, bodies, connections, duration);
  return {
    requestsPerS: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.errors + result.timeouts + result.non2xx,
  };
}

function codeBody(language: string, program: string): string {
  const rollout = {
    id: "c",
    domain: "code",
    response: `\`\`\`${language}\n${program}\n\`\`\``,
    reference: {
      language,
      tests: [
        { input: "1 2\n", output: "3\n" },
        { input: "5 7\n", output: "12\n" },
      ],
    },
  };
  return JSON.stringify({ rollouts: [rollout] });
}

interface ModeResult {
  processes: number;
  batch: LoadResult & { rewardsPerS: number };
  perSample: LoadResult;
  code: Record<string, LoadResult | { skipped: string }>;
}

async function runMode(
  processes: number,
  rollouts: Rollout[],
  sandboxOk: string | false,
): Promise<ModeResult> {
  const server = await startServer(processes);
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
    // Warm up: every process's verifier threads load their families lazily on first use.
    await load(server.url, "/v1/rewards", batchBodies, 8, 1);
    const b = await load(server.url, "/v1/rewards", batchBodies, 8, seconds);
    const batch = { ...b, rewardsPerS: b.requestsPerS * B };
    const sampleBodies = rollouts.map((r) => openrlhfBody(r.prompt ?? "", r.response, r.reference));
    const perSample = await load(server.url, "/openrlhf", sampleBodies, 64, seconds);
    const code: ModeResult["code"] = {};
    for (const runner of RUNNERS) {
      const program = SUM_PROGRAMS[runner.language];
      if (values["no-code"]) code[runner.language] = { skipped: "--no-code" };
      else if (sandboxOk) code[runner.language] = { skipped: sandboxOk };
      else if (program === undefined)
        code[runner.language] = { skipped: "no bench program for this language" };
      else {
        const body = codeBody(runner.language, program);
        await load(server.url, "/v1/rewards", [body], 2, 1); // compile cache and warm sandboxes
        code[runner.language] = await load(server.url, "/v1/rewards", [body], 16, codeSeconds);
      }
    }
    return { processes, batch, perSample, code };
  } finally {
    await server.stop();
  }
}

function report(m: ModeResult, baseline: number): void {
  const w = (s: string) => process.stderr.write(`${s}\n`);
  w(`-- ${m.processes} process${m.processes > 1 ? "es" : ""} --`);
  w(
    `batch (64/request, 8 conn):      ${m.batch.rewardsPerS.toFixed(0)} math rewards/s  p50 ${m.batch.p50} ms  p99 ${m.batch.p99} ms  failed ${m.batch.failed}  (${(m.batch.rewardsPerS / baseline).toFixed(2)}× in-process)`,
  );
  w(
    `OpenRLHF per-sample (64 conn):   ${m.perSample.requestsPerS.toFixed(0)} rewards/s  p50 ${m.perSample.p50} ms  p99 ${m.perSample.p99} ms  failed ${m.perSample.failed}`,
  );
  for (const [lang, r] of Object.entries(m.code)) {
    if ("skipped" in r) w(`code ${lang.padEnd(11)} skipped: ${r.skipped}`);
    else
      w(
        `code ${lang.padEnd(11)} ${r.requestsPerS.toFixed(1)} rewards/s  p99 ${r.p99} ms  failed ${r.failed}`,
      );
  }
}

/** ns per call of the float-writing serializer and of JSON.stringify (the baseline) on the same value. */
function serializerCost(
  schema: Parameters<typeof compileSerializer>[0],
  value: unknown,
  n: number,
): { ours: number; stringify: number } {
  const ser = compileSerializer(schema);
  const time = (f: () => string) => {
    for (let i = 0; i < Math.min(n, 1000); i++) f();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    return Number(process.hrtime.bigint() - t0) / n;
  };
  return { ours: time(() => ser(value)), stringify: time(() => JSON.stringify(value)) };
}

const rollouts = mathRollouts();
const reward = (i: number) => ({
  id: i,
  score: i % 2,
  verdict: i % 2 ? "correct" : "incorrect",
  source: "rtv:math",
  details: { extracted: "4", gold: "4", reason: "equivalent (string)" },
});
const serial = {
  openrlhf_one: serializerCost(
    OpenRlhfResponse,
    { rewards: [1], scores: [1], extra_logs: { correct: [1], invalid: [0] } },
    200_000,
  ),
  native_64: serializerCost(
    NativeResponse,
    { rewards: Array.from({ length: 64 }, (_, i) => reward(i)) },
    5_000,
  ),
  native_65536: serializerCost(
    NativeResponse,
    { rewards: Array.from({ length: 65_536 }, (_, i) => reward(i)) },
    5,
  ),
};
for (const [k, v] of Object.entries(serial))
  process.stderr.write(
    `serialize ${k.padEnd(13)} floats ${(v.ours / 1000).toFixed(2)} µs, JSON.stringify ${(v.stringify / 1000).toFixed(2)} µs (×${(v.ours / v.stringify).toFixed(2)})\n`,
  );
const load0 = loadavg()[0] as number;
process.stderr.write(
  `bench:serve — ${rollouts.length} distinct math rollouts, ${seconds}s per run (code ${codeSeconds}s), ${cpus()[0]?.model ?? "?"} × ${cores}, load ${load0.toFixed(2)}\n`,
);
const isolation = probeIsolation();
const sandboxOk = isolation.bwrap.works ? false : `sandbox unusable: ${isolation.bwrap.error}`;
const baseline = await inProcess(rollouts);
process.stderr.write(`in-process RewardFn (baseline):  ${baseline.toFixed(0)} math rewards/s\n`);
const all = Number(values.processes ?? cores);
const modes: ModeResult[] = [];
for (const p of all > 1 ? [1, all] : [1]) {
  const m = await runMode(p, rollouts, sandboxOk);
  report(m, baseline);
  modes.push(m);
}
const [one, many] = [modes[0] as ModeResult, modes.at(-1) as ModeResult];
process.stderr.write(
  `all cores ÷ one process: per-sample ×${(many.perSample.requestsPerS / one.perSample.requestsPerS).toFixed(2)}, batch ×${(many.batch.rewardsPerS / one.batch.rewardsPerS).toFixed(2)}\n`,
);
const codeJson = (m: ModeResult) =>
  Object.fromEntries(
    Object.entries(m.code).map(([l, r]) => [
      l,
      "skipped" in r ? null : { rewards_per_s: Number(r.requestsPerS.toFixed(1)), p99_ms: r.p99 },
    ]),
  );
process.stdout.write(
  `${JSON.stringify({
    bench: "serve",
    seconds,
    cores,
    balance: values.balance,
    load: [Number(load0.toFixed(2)), Number((loadavg()[0] as number).toFixed(2))],
    in_process_math_rewards_per_s: Math.round(baseline),
    serialize_us: Object.fromEntries(
      Object.entries(serial).map(([k, v]) => [
        k,
        { floats: Number((v.ours / 1000).toFixed(3)), stringify: Number((v.stringify / 1000).toFixed(3)) },
      ]),
    ),
    modes: modes.map((m) => ({
      processes: m.processes,
      per_sample_rewards_per_s: Math.round(m.perSample.requestsPerS),
      per_sample_p99_ms: m.perSample.p99,
      batch_rewards_per_s: Math.round(m.batch.rewardsPerS),
      batch_p99_ms: m.batch.p99,
      code: codeJson(m),
      failed_requests: m.batch.failed + m.perSample.failed,
    })),
    per_sample_ratio_all_vs_one: Number(
      (many.perSample.requestsPerS / one.perSample.requestsPerS).toFixed(3),
    ),
    batch_ratio_all_vs_one: Number((many.batch.rewardsPerS / one.batch.rewardsPerS).toFixed(3)),
  })}\n`,
);
