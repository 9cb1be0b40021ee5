// One seed of the main job: an independent unit with its own world, models, PPO runs and
// state (<run>/seed-<k>/state.json), so seeds can run one after another or in parallel
// processes. Each stage's result is recorded when it finishes and parsed by the stage's
// schema when a rerun skips it; the trainers resume from their newest checkpoints.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, platform } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { writeJsonAtomic } from "../io/rundir.ts";
import type { DecoderConfig } from "../model/config.ts";
import { createKernel, selectKernel } from "../model/kernels/index.ts";
import { paramLayout } from "../model/params.ts";
import { loadDecoder } from "../train/models.ts";
import { judgeSftSteps, type SeedConfig } from "./config.ts";
import { SeedResults } from "./results.ts";
import { SeedContext, type Stage } from "./stages/context.ts";
import {
  btStage,
  comparisonStages,
  genrmStage,
  ladderStages,
  referencesStage,
  STAGES,
  selectStage,
  sensitivityStage,
  sftStage,
  worldStage,
} from "./stages/index.ts";

export interface SeedRunOptions {
  dir: string;
  config: SeedConfig;
  /** Progress lines (stage starts and figures); the trainers draw their own bars on a TTY. */
  log: (line: string) => void;
}

const State = z.object({
  config: z.unknown(),
  startedAt: z.string(),
  done: z.record(z.string(), z.unknown()),
});
type State = z.infer<typeof State>;

function loadState(path: string, config: SeedConfig): State {
  if (!existsSync(path)) return { config, startedAt: new Date().toISOString(), done: {} };
  const parsed = State.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new DataScaleError("bad_state", `${path}: ${formatZodError(parsed.error)}`);
  if (JSON.stringify(parsed.data.config) !== JSON.stringify(config))
    throw new DataScaleError(
      "bad_config",
      `${path}: this run directory was started with a different configuration; use a new --run-dir`,
    );
  return parsed.data;
}

/** Runs (or resumes) every stage of one seed; returns the results by stage name, each parsed. */
async function runStages(ctx: SeedContext, state: State, statePath: string): Promise<Map<string, unknown>> {
  const results = new Map<string, unknown>();
  for (const [i, stage] of STAGES.entries()) {
    const tag = `[${i + 1}/${STAGES.length}] ${stage.name}`;
    if (stage.name in state.done) {
      const parsed = stage.result.safeParse(state.done[stage.name]);
      if (!parsed.success)
        throw new DataScaleError(
          "bad_state",
          `${statePath}: done.${stage.name}: ${formatZodError(parsed.error)} (remove the entry to redo the stage)`,
        );
      ctx.log(`${tag}: done earlier (resumed)`);
      results.set(stage.name, parsed.data);
      continue;
    }
    ctx.log(`${tag}: ${stage.what(ctx.config)}`);
    const t0 = performance.now();
    const result = stage.result.parse(await stage.run(ctx));
    state.done[stage.name] = result;
    await writeJsonAtomic(statePath, state);
    results.set(stage.name, result);
    ctx.log(`${tag}: finished in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return results;
}

/**
 * One process per seed directory: a rerun must not race a process still running the seed.
 * The lock names its pid; a dead owner's lock is taken over. It is also released when the
 * process exits without unwinding (a seed process whose parent died calls process.exit):
 * an exited process can linger as a zombie its new parent has not reaped, and a zombie's pid
 * still answers kill(pid, 0), so its lock would look held.
 */
function lockSeedDir(dir: string): () => void {
  const path = join(dir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      const release = () => rmSync(path, { force: true });
      process.once("exit", release);
      return () => {
        process.off("exit", release);
        release();
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
        throw new DataScaleError(
          "busy",
          `${dir}: seed is being run by process ${pid} (remove ${path} if it is gone)`,
        );
      rmSync(path, { force: true });
    }
  }
  throw new DataScaleError("busy", `${path}: cannot take the lock`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A model's shape and size as results.json records it. */
function modelSummary(c: DecoderConfig): { dim: number; nLayers: number; nHeads: number; params: number } {
  return { dim: c.dim, nLayers: c.nLayers, nHeads: c.nHeads, params: paramLayout(c).size };
}

export async function runSeed(o: SeedRunOptions): Promise<SeedResults> {
  mkdirSync(o.dir, { recursive: true });
  const unlock = lockSeedDir(o.dir);
  try {
    return await runSeedLocked(o);
  } finally {
    unlock();
  }
}

async function runSeedLocked(o: SeedRunOptions): Promise<SeedResults> {
  const statePath = join(o.dir, "state.json");
  const state = loadState(statePath, o.config);
  await writeJsonAtomic(join(o.dir, "config.json"), o.config);
  const t0 = performance.now();
  const kernel = o.config.kernel === "auto" ? selectKernel() : createKernel(o.config.kernel);
  const ctx = new SeedContext({ config: o.config, dir: o.dir, kernel, log: o.log });
  try {
    const results = await runStages(ctx, state, statePath);
    const get = <T>(s: Stage<T>): T => results.get(s.name) as T;
    const seed = seedResults(ctx, state, get, kernel.name, (performance.now() - t0) / 1000);
    await writeJsonAtomic(join(o.dir, "results.json"), seed);
    return seed;
  } finally {
    await ctx.close();
    kernel.close();
  }
}

function seedResults(
  ctx: SeedContext,
  state: State,
  get: <T>(s: Stage<T>) => T,
  kernel: string,
  wallSeconds: number,
): SeedResults {
  const { config } = ctx;
  const bt = get(btStage);
  const genrm = get(genrmStage);
  const selection = get(selectStage);
  return SeedResults.parse({
    version: 2,
    scale: config.scale,
    seed: config.seed,
    startedAt: state.startedAt,
    finishedAt: new Date().toISOString(),
    wallSeconds,
    kernel,
    machine: {
      cpus: availableParallelism(),
      node: process.version,
      platform: `${platform()}-${process.arch}`,
    },
    world: {
      families: config.world.map((f) => ({ family: f.family, domain: f.domain, reward: f.reward })),
      sizes: {
        ...get(worldStage),
        selected: selection.domains.reduce((a, d) => a + d.kept, 0),
      },
      model: modelSummary(ctx.sft().config),
      judgeModel: modelSummary(loadDecoder(ctx.judgeBase(), {}, config.seed, ctx.kernel).config),
      steps: {
        sft: config.sft.steps,
        judgeSft: judgeSftSteps(config),
        rm: config.rm.steps,
        genrm: config.genrm.steps,
        ppo: config.ppo.steps,
        evalEvery: config.ppo.evalEvery,
        stage1: Math.max(1, Math.round(config.ppo.steps * config.stage1Fraction)),
      },
    },
    models: {
      sft: get(sftStage),
      bt: { accuracy: bt.accuracy, pairs: bt.pairs },
      genrm: {
        gtAccuracy: genrm.gtAccuracy,
        gtItems: genrm.gtItems,
        bonAccuracy: genrm.bonAccuracy,
        bonItems: genrm.bonItems,
      },
      bon: get(referencesStage),
    },
    sensitivity: get(sensitivityStage),
    ladder: ladderStages.map(get),
    selection,
    comparison: comparisonStages.map(get),
  });
}
