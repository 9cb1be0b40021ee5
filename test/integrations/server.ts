// A real reward server for the integration tests: the paper's default routes (verl's data
// sources included) plus the `echo` test verifier (exact match of response and answer;
// "slow…" responses take 20 ms).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { batchingRewardFn } from "../../src/reward/batching.ts";
import { paperRoutes, parseRewardConfig } from "../../src/reward/config.ts";
import { createRewardSystem, type RewardSystem } from "../../src/reward/system.ts";
import { createRewardServer } from "../../src/serve/reward-server.ts";

export { PYTHON } from "../fixtures/python.ts";

const plugin = fileURLToPath(new URL("../verify/fixtures/echo-verifier.ts", import.meta.url));

export interface TestServer {
  app: FastifyInstance;
  system: RewardSystem;
  base: string;
  close(): Promise<void>;
}

export async function startServer(options: { maxQueue?: number } = {}): Promise<TestServer> {
  const paper = paperRoutes();
  const config = parseRewardConfig({
    routes: [{ match: { domain: "echo" }, reward: { type: "rtv" } }, ...paper.routes],
    fallback: paper.fallback,
    // Named by the paper's routes; no test here reaches a judge.
    judges: {
      genrm: { kind: "genrm", backend: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", model: "judge" } },
    },
    verify: { plugins: [plugin], workers: 1 },
  });
  const system = await createRewardSystem(config, {
    makeJudge: () => ({ source: "genrm", judge: async () => [] }),
  });
  const app = await createRewardServer({
    rewardFn: batchingRewardFn(system.rewardFn),
    domains: system.domains,
    ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
  });
  const base = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    app,
    system,
    base,
    async close() {
      await app.close();
      await system.close();
    },
  };
}

/** Runs a program without blocking the event loop that serves its requests. */
export async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

/** POSTs raw bytes as a client library would send them; returns status, headers and body text. */
export async function postRaw(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
