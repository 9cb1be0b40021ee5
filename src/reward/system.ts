// Assembles a reward system from a config: the verifier pool, the judges, the router.
import type { RewardFn } from "../core/schemas.ts";
import { makeJudge as defaultMakeJudge } from "../judge/factory.ts";
import type { Judge } from "../judge/types.ts";
import { VerifyPool } from "../verify/pool.ts";
import type { JudgeConfig, RewardConfig } from "./config.ts";
import { createRouter } from "./router.ts";

export type JudgeFactory = (name: string, config: JudgeConfig) => Judge | Promise<Judge>;

export interface RewardSystem {
  rewardFn: RewardFn;
  config: RewardConfig;
  pool: VerifyPool;
  judges: ReadonlyMap<string, Judge>;
  /** Domains the verifiers serve. */
  domains: string[];
  close(): Promise<void>;
}

export async function createRewardSystem(
  config: RewardConfig,
  options: { makeJudge?: JudgeFactory; workers?: number } = {},
): Promise<RewardSystem> {
  const pool = new VerifyPool({
    workers: options.workers ?? config.verify.workers,
    timeBudgetMs: config.verify.timeBudgetMs,
    domainBudgetsMs: config.verify.budgetsMs,
    plugins: config.verify.plugins,
  });
  const judges = new Map<string, Judge>();
  try {
    const domains = await pool.ready();
    const make = options.makeJudge ?? defaultMakeJudge;
    for (const [name, jc] of Object.entries(config.judges)) judges.set(name, await make(name, jc));
    const rewardFn = createRouter(config, { rtv: pool.rewardFn, judges });
    return {
      rewardFn,
      config,
      pool,
      judges,
      domains,
      async close() {
        await Promise.all([pool.close(), ...[...judges.values()].map((j) => j.close?.())]);
      },
    };
  } catch (e) {
    await Promise.all([pool.close(), ...[...judges.values()].map((j) => j.close?.())]);
    throw e;
  }
}
