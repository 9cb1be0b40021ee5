// `datascale serve-reward [--config FILE] [--port N]`: the reward server, one stateless
// process per core on one port by default (serve/scale-out.ts).
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { batchingRewardFn } from "../reward/batching.ts";
import { loadRewardConfig, parseRewardConfig } from "../reward/config.ts";
import { createRewardSystem } from "../reward/system.ts";
import { Sandbox } from "../sandbox/sandbox.ts";
import { createRewardServer } from "../serve/reward-server.ts";
import { DEFAULT_MEMORY_CAP_MB, registerSandboxFusion } from "../serve/sandbox-fusion.ts";
import { type Balance, joinCluster, runPrimary, workerListen } from "../serve/scale-out.ts";

const HELP = `usage: datascale serve-reward [--config FILE] [--host H] [--port N] [options]

Serves the hybrid reward system. Without --config, the paper's routing: verifiers for
math/code/instruction/logic; GenRM routes answer 'error' until a judge is configured.

  POST /v1/rewards              {rollouts: Rollout[]} → {rewards: Reward[]}
  POST /openrlhf, /get_reward   OpenRLHF remote reward protocol
  POST /run_code, /submit       SandboxFusion-compatible code execution and judging (when the sandbox works)
  GET  /health, /metrics

options:
  --config FILE     reward config (JSON or YAML)
  --host H          bind address (default 127.0.0.1)
  --port N          port (default 8000; 0 picks a free one)
  --processes N     server processes on the one port (default: all cores); each is stateless
  --balance B       how connections reach them: reuseport (kernel, default) or rr (the primary)
  --workers N       verifier threads per process (default: cores / processes, at least 1)
  --max-queue N     rollouts admitted at once before 429 (default 65536); a request of more is a 413
  --max-queue-bytes B  bytes of request bodies read or held at once (default 1073741824)
  --body-limit B    largest request body in bytes (default 67108864); larger is a 413
  --log             log requests (pino JSON)
  --no-run-code     do not serve the SandboxFusion-compatible /run_code
  --sandbox-slots N programs /run_code and /submit run at once per process; more → 504 at
                    once (default 64, verl's reward.sandbox_fusion.max_concurrent)
  --sandbox-memory-cap-mb N  memory of a run sent memory_limit_MB ≤ 0, and the most
                    any run gets (default ${DEFAULT_MEMORY_CAP_MB}, SandboxFusion's per-run cgroup)
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8000" },
      workers: { type: "string" },
      processes: { type: "string" },
      balance: { type: "string", default: "reuseport" },
      "max-queue": { type: "string" },
      "max-queue-bytes": { type: "string" },
      "body-limit": { type: "string" },
      log: { type: "boolean" },
      "no-run-code": { type: "boolean" },
      "sandbox-slots": { type: "string" },
      "sandbox-memory-cap-mb": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const cores = availableParallelism();
  const processes = cluster.isWorker
    ? Number(process.env["DATASCALE_SERVE_PROCESSES"] ?? 1)
    : (positive(values.processes, "--processes") ?? cores);
  const balance = values.balance as Balance;
  if (balance !== "reuseport" && balance !== "rr") throw new Error("--balance: reuseport or rr");
  if (cluster.isPrimary && processes > 1) {
    process.env["DATASCALE_SERVE_PROCESSES"] = String(processes);
    return runPrimary({
      processes,
      host: values.host,
      port: Number(values.port),
      balance,
      onListening: (address) =>
        process.stderr.write(`datascale reward server on ${address} (${processes} processes, ${balance})\n`),
    });
  }
  // Verifier threads: the cores divided among the processes, so P processes never run more
  // than `cores` verifier threads between them.
  const workers = positive(values.workers, "--workers") ?? Math.max(1, Math.floor(cores / processes));
  return serveOne(values, workers);
}

function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got '${v}'`);
  return n;
}

type Values = {
  config?: string;
  host: string;
  port: string;
  "max-queue"?: string;
  "max-queue-bytes"?: string;
  "body-limit"?: string;
  log?: boolean;
  "no-run-code"?: boolean;
  "sandbox-slots"?: string;
  "sandbox-memory-cap-mb"?: string;
};

/** One server process (the only one, or one of a cluster). */
async function serveOne(values: Values, workers: number): Promise<number> {
  const config = values.config === undefined ? parseRewardConfig({}) : await loadRewardConfig(values.config);
  const slots = positive(values["sandbox-slots"], "--sandbox-slots");
  const cap = positive(values["sandbox-memory-cap-mb"], "--sandbox-memory-cap-mb");
  const system = await createRewardSystem(config, { workers });
  let sandbox: Sandbox | undefined;
  let sandboxNote = "off";
  if (!values["no-run-code"]) {
    try {
      // Timeouts are wall-clock here (SandboxFusion's semantics), so slots beyond the cores
      // only share the CPU; verl sends up to max_concurrent (64) requests at once.
      sandbox = new Sandbox({
        concurrency: slots ?? 64,
        warm: 2,
      });
      sandboxNote = `/run_code on (${sandbox.isolation})`;
    } catch (e) {
      sandboxNote = `/run_code off: ${e instanceof Error ? e.message : e}`;
    }
  }
  let clusterMetrics: (() => Promise<string>) | undefined;
  const app = await createRewardServer({
    rewardFn: batchingRewardFn(system.rewardFn),
    defaultDomain: config.defaultDomain,
    domains: system.domains,
    maxQueue: positive(values["max-queue"], "--max-queue"),
    maxQueueBytes: positive(values["max-queue-bytes"], "--max-queue-bytes"),
    bodyLimit: positive(values["body-limit"], "--body-limit"),
    logger: values.log ?? false,
    metricsText: () => (clusterMetrics ?? (() => app.metrics.registry.metrics()))(),
    extraRoutes: (server) => {
      if (sandbox === undefined) return;
      registerSandboxFusion(server, sandbox, cap === undefined ? {} : { memoryCapMb: cap });
    },
  });
  const forked = workerListen(values.host);
  const address = await app.listen(forked ?? { host: values.host, port: Number(values.port) });
  if (forked !== undefined) clusterMetrics = joinCluster(app.metrics.registry, address);
  else
    process.stderr.write(
      `datascale reward server on ${address} (verifiers: ${system.domains.join(", ") || "none"}; ${workers} verifier threads; ${sandboxNote})\n`,
    );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await app.close();
  await Promise.all([system.close(), sandbox?.close()]);
  if (forked !== undefined) process.disconnect?.(); // the IPC channel would keep us alive
  return 0;
}
