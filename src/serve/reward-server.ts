// The reward server: the hybrid reward system over HTTP for the engines people run.
//   POST /v1/rewards            native batch: {rollouts} → {rewards}, same order
//   POST /openrlhf, /get_reward OpenRLHF's remote reward protocol
//   GET  /health, /metrics      liveness and Prometheus metrics
// Extra routes (the SandboxFusion-compatible code API) plug in through `extraRoutes`.
// Backpressure: at most `maxQueue` rollouts in flight; beyond that 429 with Retry-After.
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { z } from "zod";
import { formatZodError } from "../core/errors.ts";
import { type Reward, type RewardFn, Rollout } from "../core/schemas.ts";
import { registerEngineRoutes } from "./engine-routes.ts";
import { OpenRlhfRequest, toOpenRlhfResponse, toRollouts } from "./openrlhf.ts";

export interface RewardServerOptions {
  rewardFn: RewardFn;
  /** Domain for OpenRLHF labels given as plain strings. */
  defaultDomain?: string;
  /** Most rollouts admitted at once (queued or being scored). */
  maxQueue?: number;
  /** Largest request body in bytes. */
  bodyLimit?: number;
  /** Shown by /health. */
  domains?: string[];
  /** Registers further routes (e.g. /run_code) on the same server and metrics. */
  extraRoutes?: (app: FastifyInstance, metrics: ServerMetrics) => void | Promise<void>;
  logger?: boolean;
}

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<"route" | "status">;
  latency: Histogram<"route">;
  verdicts: Counter<"source" | "verdict">;
  queue: Gauge;
}

const NativeRequest = z.object({ rollouts: z.array(z.unknown()) });

function createMetrics(): ServerMetrics {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: "datascale_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "datascale_request_seconds",
      help: "Request latency by route",
      labelNames: ["route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    verdicts: new Counter({
      name: "datascale_rewards_total",
      help: "Rewards by source and verdict",
      labelNames: ["source", "verdict"],
      registers: [registry],
    }),
    queue: new Gauge({
      name: "datascale_queue_rollouts",
      help: "Rollouts admitted and not yet scored",
      registers: [registry],
    }),
  };
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: { code: "bad_request", message } });
}

export async function createRewardServer(options: RewardServerOptions): Promise<FastifyInstance> {
  const maxQueue = options.maxQueue ?? 65_536;
  const defaultDomain = options.defaultDomain ?? "math";
  const metrics = createMetrics();
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 64 * 1024 * 1024, logger: options.logger ?? false });
  let inflight = 0;
  let nextId = 0;

  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unknown";
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((error: { statusCode?: number; message: string; code?: string }, _req, reply) => {
    const status = error.statusCode ?? 500;
    reply.code(status).send({
      error: { code: error.code ?? (status < 500 ? "bad_request" : "internal"), message: error.message },
    });
  });

  /** Scores rollouts under the admission limit; undefined when the server is full. */
  const admit = async (rollouts: Rollout[], reply: FastifyReply): Promise<Reward[] | undefined> => {
    if (inflight + rollouts.length > maxQueue && inflight > 0) {
      reply.header("retry-after", "1");
      reply.code(429).send({
        error: {
          code: "overloaded",
          message: `queue full (${inflight} rollouts in flight, limit ${maxQueue})`,
        },
      });
      return undefined;
    }
    inflight += rollouts.length;
    metrics.queue.set(inflight);
    try {
      const rewards = await options.rewardFn(rollouts);
      for (const r of rewards) metrics.verdicts.inc({ source: r.source, verdict: r.verdict });
      return rewards;
    } finally {
      inflight -= rollouts.length;
      metrics.queue.set(inflight);
    }
  };

  app.post("/v1/rewards", async (req, reply) => {
    const body = NativeRequest.safeParse(req.body);
    if (!body.success) return badRequest(reply, formatZodError(body.error));
    const rollouts: Rollout[] = [];
    for (const [i, raw] of body.data.rollouts.entries()) {
      const r = Rollout.safeParse(raw);
      if (!r.success) return badRequest(reply, `rollouts.${i}: ${formatZodError(r.error)}`);
      rollouts.push(r.data);
    }
    const rewards = await admit(rollouts, reply);
    if (rewards === undefined) return reply;
    return { rewards };
  });

  const openrlhf = async (req: { body: unknown }, reply: FastifyReply) => {
    const body = OpenRlhfRequest.safeParse(req.body);
    if (!body.success) return badRequest(reply, formatZodError(body.error));
    const built = toRollouts(body.data, defaultDomain, () => `openrlhf-${nextId++}`);
    if ("error" in built) return badRequest(reply, built.error);
    const rewards = await admit(built.rollouts, reply);
    if (rewards === undefined) return reply;
    // OpenRLHF takes numbers only: an infrastructure failure must not become a reward of 0,
    // so the request fails (OpenRLHF retries it) with the cause.
    const failed = rewards.find((r) => r.verdict === "error");
    if (failed?.error !== undefined) {
      reply.header("retry-after", "1");
      return reply
        .code(503)
        .send({ error: { code: failed.error.code, message: `${failed.source}: ${failed.error.message}` } });
    }
    return toOpenRlhfResponse(rewards);
  };
  app.post("/openrlhf", openrlhf);
  app.post("/get_reward", openrlhf);
  registerEngineRoutes(app, {
    score: admit,
    defaultDomain,
    domains: options.domains ?? [],
    nextId: (prefix) => `${prefix}-${nextId++}`,
  });

  app.get("/health", async () => ({ status: "ok", inflight, maxQueue, domains: options.domains ?? [] }));
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  await options.extraRoutes?.(app, metrics);
  return app;
}
