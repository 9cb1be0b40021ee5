// The reward server: the hybrid reward system over HTTP for the engines people run.
//   POST /v1/rewards            native batch: {rollouts} → {rewards}, same order
//   POST /openrlhf, /get_reward OpenRLHF's remote reward protocol
//   GET  /health, /metrics      liveness and Prometheus metrics
// Routes are schema-first on the shared app (serve/app.ts); extra routes (SandboxFusion, the
// other engines' protocols) plug in through `extraRoutes` the same way.
//
// Failure semantics (docs/integrations.md, "Server semantics"): a request the data makes
// unanswerable is a 4xx naming the field; a verdict on one response (including a verifier
// killed or out of budget on it) is that sample's reward; an infrastructure failure is an
// `error` verdict natively and a 503 with Retry-After where the protocol carries only numbers.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { classifyError, HttpError, settleFinal } from "../core/errors.ts";
import { Id, type Reward, RewardError, type RewardFn, Rollout, Verdict } from "../core/schemas.ts";
import { type AppOptions, createApp, type ServerMetrics } from "./app.ts";
import type { EngineRouteDeps } from "./engines.ts";
import { rewardFailure } from "./http-errors.ts";
import { registerNemoGym } from "./nemo-gym.ts";
import { OpenRlhfRequest, OpenRlhfResponse, toOpenRlhfResponse, toRollouts } from "./openrlhf.ts";
import { RetryCache } from "./retry-cache.ts";
import { Float, type ZodTypeProvider } from "./schema.ts";
import { registerSlime } from "./slime.ts";
import { registerVerl } from "./verl.ts";

export type { ServerMetrics };

export interface RewardServerOptions extends AppOptions {
  rewardFn: RewardFn;
  /** Domain for OpenRLHF labels given as plain strings. */
  defaultDomain?: string;
  /** Most rollouts admitted at once (queued or being scored). */
  maxQueue?: number;
  /** Shown by /health. */
  domains?: string[];
  /** The /metrics text; default this process's registry (a multi-process server aggregates). */
  metricsText?: () => Promise<string>;
  /** Registers further routes (e.g. /run_code) on the same server, admission and metrics. */
  extraRoutes?: (app: FastifyInstance, metrics: ServerMetrics) => void | Promise<void>;
}

export const NativeRequest = z.object({ rollouts: z.array(Rollout) });
/** A Reward as the wire carries it: `score` always a JSON float. */
export const RewardOut = z.object({
  id: Id,
  score: Float,
  verdict: Verdict,
  source: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
  error: RewardError.optional(),
});
export const NativeResponse = z.object({ rewards: z.array(RewardOut) });

/**
 * Throws the HttpError the worst failure among `rewards` calls for, if any must fail the
 * request: data errors always (422), and — when `numbersOnly` — bugs (500), limits of ours
 * (422: no number is right, and no retry changes it) and infrastructure failures (503).
 * `field(i)` names where sample i came from.
 */
export function failureOf(
  rewards: Reward[],
  field: (i: number) => string,
  numbersOnly: boolean,
): HttpError | undefined {
  let worst: { rank: number; i: number; r: Reward } | undefined;
  const rank = { data: 4, internal: 3, limit: 2, infrastructure: 1, final: 0 } as const;
  rewards.forEach((r, i) => {
    if (r.verdict !== "error" || r.error === undefined) return;
    const k = rank[classifyError(r.error.code, r.source)];
    if ((k === rank.data || numbersOnly) && k > (worst?.rank ?? 0)) worst = { rank: k, i, r };
  });
  if (worst === undefined) return undefined;
  const { r, i } = worst;
  const others = rewards.filter((x) => x.verdict === "error").length - 1;
  const more = others > 0 ? ` (and ${others} more failed samples)` : "";
  const e = r.error as RewardError;
  return rewardFailure(e.code, r.source, `${e.message}${more}`, field(i));
}

/**
 * Scores rollouts through `rewardFn`, taking rewards kept for a retry first; final failures
 * become verdicts (settleFinal) and every verdict is counted.
 */
export function scorer(
  rewardFn: RewardFn,
  cache: RetryCache,
  metrics: ServerMetrics,
): (rollouts: Rollout[]) => Promise<Reward[]> {
  return async (rollouts) => {
    const out: Reward[] = new Array(rollouts.length);
    const missing: number[] = [];
    for (const [i, r] of rollouts.entries()) {
      const hit = cache.take(r);
      if (hit === undefined) missing.push(i);
      else out[i] = hit;
    }
    const fresh = missing.length === 0 ? [] : await rewardFn(missing.map((i) => rollouts[i] as Rollout));
    if (fresh.length !== missing.length) {
      const why = `reward function returned ${fresh.length} rewards for ${missing.length} rollouts`;
      throw new HttpError(500, "internal", why);
    }
    for (const [k, i] of missing.entries()) out[i] = settleFinal(fresh[k] as Reward);
    for (const r of out) metrics.verdicts.inc({ source: r.source, verdict: r.verdict });
    return out;
  };
}

/** The OpenRLHF handler: numbers only, so a sample that has no number fails the request. */
function openrlhfHandler(
  score: (rollouts: Rollout[]) => Promise<Reward[]>,
  cache: RetryCache,
  defaultDomain: string,
): (req: { body: OpenRlhfRequest }) => Promise<OpenRlhfResponse> {
  let nextId = 0;
  return async (req) => {
    const built = toRollouts(req.body, defaultDomain, () => `openrlhf-${nextId++}`);
    if ("error" in built) throw new HttpError(400, "bad_request", built.error);
    // Queries whose response could not be recovered already hold their (invalid) reward.
    const rewards = built.rollouts.map((s) => s as Reward);
    const at = built.rollouts.flatMap((s, i) => ("verdict" in s ? [] : [i]));
    const todo = at.map((i) => built.rollouts[i] as Rollout);
    const scored = await score(todo);
    for (const [k, i] of at.entries()) rewards[i] = scored[k] as Reward;
    // An infrastructure failure must not become a reward of 0: the request fails (503), and
    // the good rewards are kept so the retry re-scores only what failed.
    const failed = failureOf(rewards, (i) => `labels.${i}`, true);
    if (failed !== undefined) {
      if (failed.status === 503) for (const [k, r] of todo.entries()) cache.put(r, scored[k] as Reward);
      throw failed;
    }
    return toOpenRlhfResponse(rewards);
  };
}

export async function createRewardServer(options: RewardServerOptions): Promise<FastifyInstance> {
  const maxQueue = options.maxQueue ?? 65_536;
  const app = createApp(options);
  const { metrics, admission } = app;
  admission.definePool("rollouts", maxQueue, "--max-queue");
  const cache = new RetryCache();
  const score = scorer(options.rewardFn, cache, metrics);
  const defaultDomain = options.defaultDomain ?? "math";
  let nextId = 0;

  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/v1/rewards",
    {
      schema: { body: NativeRequest, response: { 200: NativeResponse } },
      config: { admission: { pool: "rollouts", units: "rollouts", overloadStatus: 429 } },
    },
    async (req) => {
      const rewards = await score(req.body.rollouts as Rollout[]);
      const failed = failureOf(rewards, (i) => `rollouts.${i}`, false);
      if (failed !== undefined) throw failed;
      return { rewards };
    },
  );
  const openrlhf = openrlhfHandler(score, cache, defaultDomain);
  const openrlhfRoute = {
    schema: { body: OpenRlhfRequest, response: { 200: OpenRlhfResponse } },
    // OpenRLHF retries any failed request (5 tries, 1 s apart), whatever the status.
    config: { admission: { pool: "rollouts", units: "query", overloadStatus: 429 as const } },
  };
  routes.post("/openrlhf", openrlhfRoute, openrlhf);
  routes.post("/get_reward", openrlhfRoute, openrlhf);

  // The other engines' protocols (one sample per request), on the same pool and scoring.
  const engines: EngineRouteDeps = {
    score,
    defaultDomain,
    domains: options.domains ?? [],
    nextId: (p) => `${p}-${nextId++}`,
  };
  registerVerl(app, engines); // POST /v1/score (verl, TRL, AReaL via integrations/python)
  registerSlime(app, engines); // POST /slime, /slime/dict
  registerNemoGym(app, engines); // POST /verify, /seed_session, /aggregate_metrics; GET /reverify_mode

  app.get("/health", async () => ({
    status: "ok",
    pid: process.pid,
    queue: admission.pools(),
    maxQueue,
    domains: options.domains ?? [],
  }));
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return options.metricsText ? options.metricsText() : metrics.registry.metrics();
  });

  await options.extraRoutes?.(app, metrics);
  return app;
}
