// What the engine protocol routes (verl, slime, NeMo-Gym) share: how they reach the reward
// system under the server's admission limit, and how a per-sample failure is answered.
import type { FastifyReply } from "fastify";
import type { Reward, Rollout } from "../core/schemas.ts";
import { stringifyWithFloats } from "./json-float.ts";

export interface EngineRouteDeps {
  /** Scores under the server's admission limit; undefined when the server already answered (429). */
  score(rollouts: Rollout[], reply: FastifyReply): Promise<Reward[] | undefined>;
  /** Domain for labels given as a plain answer. */
  defaultDomain: string;
  /** Domains the server's verifiers serve. */
  domains: readonly string[];
  /** A fresh rollout id with this prefix. */
  nextId(prefix: string): string;
}

/**
 * Error codes of verdicts that come out the same on every retry: the request's data or the
 * server's configuration is wrong. They answer 400, so no client retries them; any other
 * `error` verdict is an infrastructure failure and answers 503 with Retry-After.
 */
export const PERMANENT_ERROR_CODES: ReadonlySet<string> = new Set([
  "no_reference",
  "gold_unparseable",
  "no_route",
  "no_judge",
]);

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  if (status === 503 || status === 429) reply.header("retry-after", "1");
  return reply.code(status).send({ error: { code, message } });
}

/** Answers a failed verdict: 400 when permanent, else 503 with Retry-After. */
export function sendVerdictError(reply: FastifyReply, reward: Reward): FastifyReply {
  const code = reward.error?.code ?? "error";
  const message = `${reward.source}: ${reward.error?.message ?? "verification failed"}`;
  return sendError(reply, PERMANENT_ERROR_CODES.has(code) ? 400 : 503, code, message);
}

/** Sends a body whose JsonFloat values are written as float literals. */
export function sendFloats(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type("application/json; charset=utf-8").send(stringifyWithFloats(body));
}

/** Scores one rollout; undefined when the reply has been sent (overload or a failed verdict). */
export async function scoreOne(deps: EngineRouteDeps, rollout: Rollout, reply: FastifyReply) {
  const rewards = await deps.score([rollout], reply);
  const reward = rewards?.[0];
  if (reward === undefined) return undefined;
  if (reward.verdict === "error") {
    sendVerdictError(reply, reward);
    return undefined;
  }
  return reward;
}
