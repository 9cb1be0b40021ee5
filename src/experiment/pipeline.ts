// The main job: the paper's system end to end on the procedural world, at a laptop's scale,
// for several seeds. Each seed is an independent unit (seed-run.ts: its own world, models,
// PPO runs and state under <run>/seed-<k>/), run one after another in this process or as
// parallel child processes; the pooled stage waits for all of them, then decides the
// findings by the rule in docs/experiment.md and writes <run>/results.json.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DataScaleError, formatZodError } from "../core/errors.ts";
import { readJsonFile } from "../io/json-file.ts";
import { writeJsonAtomic } from "../io/rundir.ts";
import { threadsFromEnv } from "../model/kernels/threads.ts";
import { ExperimentConfig, type SeedConfig, seedConfig, seedList } from "./config.ts";
import { poolSeeds } from "./findings.ts";
import { type PooledResults, SeedResults } from "./results.ts";
import { runSeed } from "./seed-run.ts";

export interface PipelineOptions {
  runDir: string;
  config: ExperimentConfig;
  /** Seeds run at once, each in its own process (1: one after another in this process). */
  parallel?: number;
  /** Progress lines (stage starts and figures); the trainers draw their own bars on a TTY. */
  log: (line: string) => void;
}

export function seedDir(runDir: string, seed: number): string {
  return join(runDir, `seed-${seed}`);
}

/** What every seed of a run shares (a rerun with other settings is refused; more seeds are welcome). */
function shared(config: ExperimentConfig): unknown {
  const { seed: _s, seeds: _n, ...rest } = config;
  return rest;
}

function checkRunDir(runDir: string, config: ExperimentConfig): void {
  const path = join(runDir, "experiment.json");
  if (!existsSync(path)) return;
  if (JSON.stringify(JSON.parse(readFileSync(path, "utf8"))) !== JSON.stringify(shared(config)))
    throw new DataScaleError(
      "bad_config",
      `${path}: this run directory was started with a different configuration; use a new --run-dir`,
    );
}

export async function runExperiment(
  o: PipelineOptions,
): Promise<{ pooled: PooledResults; seeds: SeedResults[] }> {
  const t0 = performance.now();
  mkdirSync(o.runDir, { recursive: true });
  checkRunDir(o.runDir, o.config);
  await writeJsonAtomic(join(o.runDir, "experiment.json"), shared(o.config));
  const seeds = seedList(o.config);
  const parallel = Math.max(1, Math.min(o.parallel ?? 1, seeds.length));
  let results: SeedResults[];
  if (parallel === 1) {
    results = [];
    for (const seed of seeds) {
      const log = seeds.length > 1 ? (line: string) => o.log(`[seed ${seed}] ${line}`) : o.log;
      results.push(await runSeed({ dir: seedDir(o.runDir, seed), config: seedConfig(o.config, seed), log }));
    }
  } else {
    results = await runSeedProcesses(o, seeds, parallel);
  }
  const pooled = poolSeeds(results, (performance.now() - t0) / 1000);
  await writeJsonAtomic(join(o.runDir, "results.json"), pooled);
  return { pooled, seeds: results };
}

const CLI = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

/** One seed in a child process (`datascale run --seed-dir DIR`); its progress lines are prefixed. */
function runSeedProcess(
  dir: string,
  config: SeedConfig,
  log: (line: string) => void,
  threads: number,
): Promise<SeedResults> {
  return new Promise((resolve, reject) => {
    mkdirSync(dir, { recursive: true });
    void writeJsonAtomic(join(dir, "seed.json"), config).then(() => {
      const child = spawn(process.execPath, [CLI, "run", "--seed-dir", dir], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, DATASCALE_THREADS: String(threads) },
      });
      let tail = "";
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (s: string) => {
        const lines = (tail + s).split("\n");
        tail = lines.pop() ?? "";
        for (const line of lines) log(`[seed ${config.seed}] ${line}`);
      });
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0)
          reject(new DataScaleError("seed_failed", `seed ${config.seed} (${dir}) exited with ${code}`));
        else loadSeedResults(join(dir, "results.json")).then(resolve, reject);
      });
    }, reject);
  });
}

async function runSeedProcesses(
  o: PipelineOptions,
  seeds: readonly number[],
  parallel: number,
): Promise<SeedResults[]> {
  const out = new Array<SeedResults>(seeds.length);
  // Each seed process gets its share of the cores for its kernel's threads (or what the
  // caller's DATASCALE_THREADS says).
  const threads = threadsFromEnv() ?? Math.max(1, Math.floor(availableParallelism() / parallel));
  let next = 0;
  const worker = async () => {
    while (next < seeds.length) {
      const k = next++;
      const seed = seeds[k]!;
      out[k] = await runSeedProcess(seedDir(o.runDir, seed), seedConfig(o.config, seed), o.log, threads);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/**
 * A seed process ends when its parent does: a parent killed with SIGKILL cannot stop its
 * children, and an orphan would go on writing the run directory the rerun resumes from.
 */
function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 250).unref();
}

/** The child's side: runs the seed whose settings the parent wrote to <dir>/seed.json. */
export async function runSeedDir(dir: string, log: (line: string) => void): Promise<void> {
  exitWithParent();
  const path = join(dir, "seed.json");
  const parsed = ExperimentConfig.omit({ seeds: true }).safeParse(await readJsonFile(path, "bad_config"));
  if (!parsed.success) throw new DataScaleError("bad_config", `${path}: ${formatZodError(parsed.error)}`);
  await runSeed({ dir, config: parsed.data, log });
}

export async function loadSeedResults(path: string): Promise<SeedResults> {
  const parsed = SeedResults.safeParse(await readJsonFile(path, "bad_results"));
  if (!parsed.success) throw new DataScaleError("bad_results", `${path}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/** The seeds' results of a finished run, for `--report-only` (the pooled figures are derived again). */
export async function loadRun(runDir: string, config: ExperimentConfig): Promise<SeedResults[]> {
  return Promise.all(seedList(config).map((s) => loadSeedResults(join(seedDir(runDir, s), "results.json"))));
}
