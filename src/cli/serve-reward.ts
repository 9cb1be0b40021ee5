// `datascale serve-reward [--config FILE] [--port N]`: the reward server.
import { parseArgs } from "node:util";
import { batchingRewardFn } from "../reward/batching.ts";
import { loadRewardConfig, parseRewardConfig } from "../reward/config.ts";
import { createRewardSystem } from "../reward/system.ts";
import { Sandbox } from "../sandbox/sandbox.ts";
import { createRewardServer } from "../serve/reward-server.ts";
import { DEFAULT_MEMORY_CAP_MB, registerSandboxFusion } from "../serve/sandbox-fusion.ts";

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
  --workers N       verifier worker threads (default: all cores)
  --max-queue N     rollouts admitted at once before 429 (default 65536); a request of more is a 413
  --max-queue-bytes B  bytes of request bodies read or held at once (default 1073741824)
  --body-limit B    largest request body in bytes (default 67108864); larger is a 413
  --log             log requests (pino JSON)
  --no-run-code     do not serve the SandboxFusion-compatible /run_code
  --sandbox-slots N programs /run_code and /submit run at once; more → 504 at once
                    (default 64, verl's reward.sandbox_fusion.max_concurrent)
  --sandbox-memory-cap-mb N  memory of a run sent memory_limit_MB ≤ 0, and the most
                    any run gets (default ${DEFAULT_MEMORY_CAP_MB}, SandboxFusion's per-run cgroup)
`;

function positive(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8000" },
      workers: { type: "string" },
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
  const config = values.config === undefined ? parseRewardConfig({}) : await loadRewardConfig(values.config);
  const system = await createRewardSystem(config, {
    workers: values.workers === undefined ? undefined : Number(values.workers),
  });
  const slots = positive("--sandbox-slots", values["sandbox-slots"]);
  const cap = positive("--sandbox-memory-cap-mb", values["sandbox-memory-cap-mb"]);
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
  const app = await createRewardServer({
    rewardFn: batchingRewardFn(system.rewardFn),
    defaultDomain: config.defaultDomain,
    domains: system.domains,
    maxQueue: values["max-queue"] === undefined ? undefined : Number(values["max-queue"]),
    maxQueueBytes: values["max-queue-bytes"] === undefined ? undefined : Number(values["max-queue-bytes"]),
    bodyLimit: values["body-limit"] === undefined ? undefined : Number(values["body-limit"]),
    logger: values.log ?? false,
    extraRoutes: (server) => {
      if (sandbox === undefined) return;
      registerSandboxFusion(server, sandbox, cap === undefined ? {} : { memoryCapMb: cap });
    },
  });
  const address = await app.listen({ host: values.host, port: Number(values.port) });
  process.stderr.write(
    `datascale reward server on ${address} (verifiers: ${system.domains.join(", ") || "none"}; ${sandboxNote})\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await app.close();
  await Promise.all([system.close(), sandbox?.close()]);
  return 0;
}
