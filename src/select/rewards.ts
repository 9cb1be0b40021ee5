// Reward functions that selection can use on its own, and the loader that lets a user
// (or the integrator, once the hybrid router lands) plug in any other RewardFn.

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DataScaleError, errorMessage } from "../core/errors.ts";
import { errorReward, invalidReward } from "../core/rewards.ts";
import type { Reward, RewardFn, Rollout } from "../core/schemas.ts";
import { loadRewardConfig } from "../reward/config.ts";
import { createRewardSystem } from "../reward/system.ts";
import { VerifierRegistry, verifierDomain } from "../verify/registry.ts";

/**
 * 1 when the response, trimmed, equals `reference.answer` as a string, else 0. A fast
 * verifier-only stand-in used by the benchmark until the math verifier lands.
 */
export const exactMatchReward: RewardFn = async (rollouts) =>
  rollouts.map((r): Reward => {
    const answer = r.reference?.answer;
    if (answer === undefined) return invalidReward(r.id, "exact-match", "no reference.answer");
    const correct = r.response.trim() === String(answer).trim();
    return {
      id: r.id,
      score: correct ? 1 : 0,
      verdict: correct ? "correct" : "incorrect",
      source: "exact-match",
    };
  });

/** Scores each rollout with the verifier registered for its domain. */
export function registryReward(registry: VerifierRegistry): RewardFn {
  return async (rollouts: readonly Rollout[]) =>
    Promise.all(
      rollouts.map(async (r): Promise<Reward> => {
        const domain = verifierDomain(r);
        const v = await registry.get(domain);
        if (v === undefined) return invalidReward(r.id, "registry", `no verifier for domain '${domain}'`);
        try {
          return await v.verify(r);
        } catch (e) {
          return errorReward(r.id, v.source, "verifier_threw", errorMessage(e));
        }
      }),
    );
}

export interface LoadedReward {
  rewardFn: RewardFn;
  /** Releases worker threads, sandboxes and judge connections. */
  close(): Promise<void>;
}

const noClose = async (): Promise<void> => undefined;

/**
 * `exact-match`; `verifiers` (the verifier registry in-process, with optional plugins); a
 * reward config file (`.json`, `.yaml`, `.yml`: the hybrid router with its verifier pool
 * and judges); or a module path exporting `createRewardFn(): RewardFn | Promise<RewardFn>`.
 */
export async function loadRewardFn(spec: string, plugins: readonly string[] = []): Promise<LoadedReward> {
  if (spec === "exact-match") return { rewardFn: exactMatchReward, close: noClose };
  if (spec === "verifiers")
    return { rewardFn: registryReward(new VerifierRegistry(plugins)), close: noClose };
  if (/\.(json|ya?ml)$/i.test(spec)) {
    const config = await loadRewardConfig(spec);
    if (plugins.length > 0) config.verify.plugins.push(...plugins);
    const system = await createRewardSystem(config);
    return { rewardFn: system.rewardFn, close: () => system.close() };
  }
  const url = spec.startsWith(".") || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec;
  let mod: { createRewardFn?: unknown };
  try {
    mod = (await import(url)) as { createRewardFn?: unknown };
  } catch (e) {
    throw new DataScaleError("reward_load", `--reward ${spec}: ${errorMessage(e)}`);
  }
  if (typeof mod.createRewardFn !== "function") {
    throw new DataScaleError("reward_load", `--reward ${spec}: module does not export createRewardFn()`);
  }
  const fn = (await mod.createRewardFn()) as unknown;
  if (typeof fn !== "function")
    throw new DataScaleError("reward_load", `--reward ${spec}: createRewardFn() did not return a function`);
  return { rewardFn: fn as RewardFn, close: noClose };
}
