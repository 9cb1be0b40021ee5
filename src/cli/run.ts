// `datascale run`: the main job. Reproduces the paper's findings at small scale on the
// embedded engine for several seeds (src/experiment/pipeline.ts) and writes each seed's
// results, the pooled results with the findings' verdicts, and an HTML and a markdown report
// with plots into the run directory. Rerunning the same command resumes.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { experimentConfig, readConfigFile, SCALES } from "../experiment/config.ts";
import { poolSeeds } from "../experiment/findings.ts";
import { loadRun, runExperiment, runSeedDir } from "../experiment/pipeline.ts";
import { writeReport } from "../experiment/report.ts";
import { PooledResults } from "../experiment/results.ts";
import { writeJsonAtomic } from "../io/rundir.ts";

const HELP = `usage: datascale run [--scale small|tiny] [--config FILE] [--run-dir DIR] [--seeds N]
                     [--seed N] [--parallel N] [--kernel wasm|blas|ts|auto] [--report-only]

Reproduces "Exploring Data Scaling Trends and Effects in RLHF" at small scale on the
embedded engine: SFT, a Bradley–Terry RM and a GenRM, Best-of-N references, judge
sensitivity, Pre-PPO selection, PPO with each reward source (the hacking ladder), and
baseline vs DataScale (selection + math and code first) with ablations — once per seed,
then each finding decided from the paired per-seed differences (docs/experiment.md).

  --scale        small (default) or tiny (a smoke run, seconds)
  --config FILE  JSON/YAML overrides of the scale's settings (see docs/experiment.md)
  --run-dir DIR  where everything goes (default runs/<scale>); rerunning with the same
                 directory resumes after a kill and skips finished stages
  --seeds N      seeds (default: the scale's, 3); seed k's world, models and runs go to
                 <run-dir>/seed-<k>/
  --seed N       the first seed (default 1)
  --parallel N   seeds run at once, each in its own process (default: the seeds, at most
                 the cores + 1 — three seeds on two cores finish in 1.5 seed-times, not 2)
  --kernel K     compute kernel (default auto: blas when the native addon loads, else wasm)
  --report-only  re-render the report from the seeds' results.json (findings re-derived)

Writes <run-dir>/results.json (pooled), <run-dir>/seed-<k>/results.json, report.html,
report.md and plots/*.svg; <run-dir>/seed-<k>/reward.yaml serves the seed's rewards with
'datascale serve-reward --config'.
`;

function summary(r: PooledResults, runDir: string): string {
  const badge = (x: boolean | null) => (x === true ? "✓" : x === false ? "✗" : "?");
  const lines = r.findings.map((f) => `  ${badge(f.reproduced)} ${f.title}\n      ${f.measured}`);
  const n = r.findings.filter((f) => f.reproduced === true).length;
  return [
    `findings over ${r.seeds.length} seed(s) (${n} of ${r.findings.length} reproduced):`,
    ...lines,
    `report: ${join(runDir, "report.html")}`,
    "",
  ].join("\n");
}

const OPTIONS = {
  scale: { type: "string", default: "small" },
  config: { type: "string" },
  "run-dir": { type: "string" },
  kernel: { type: "string" },
  seed: { type: "string" },
  seeds: { type: "string" },
  parallel: { type: "string" },
  "seed-dir": { type: "string" },
  "report-only": { type: "boolean", default: false },
  help: { type: "boolean", short: "h" },
} as const;

/** A flag's non-negative (or positive) integer value, or a usage error. */
function intFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isInteger(x) || x < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${value}'`);
  return x;
}

class UsageError extends Error {}

/** The wall time an earlier pooling recorded (a re-render keeps it), else 0. */
async function previousWall(path: string): Promise<number> {
  try {
    return PooledResults.parse(JSON.parse(await readFile(path, "utf8"))).wallSeconds;
  } catch {
    return 0;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // A seed of a parallel run, started by the parent (pipeline.ts) with its settings on disk.
  if (values["seed-dir"] !== undefined) {
    await runSeedDir(values["seed-dir"], log);
    return 0;
  }
  if (!(values.scale in SCALES)) {
    log(`datascale run: unknown --scale '${values.scale}' (known: ${Object.keys(SCALES).join(", ")})`);
    return 2;
  }
  let parallel: number | undefined;
  const overrides: Record<string, unknown> = {
    ...((values.config === undefined ? {} : readConfigFile(values.config)) as Record<string, unknown>),
  };
  try {
    if (values.kernel !== undefined) overrides.kernel = values.kernel;
    const seed = intFlag("seed", values.seed, 0);
    if (seed !== undefined) overrides.seed = seed;
    const seeds = intFlag("seeds", values.seeds, 1);
    if (seeds !== undefined) overrides.seeds = seeds;
    parallel = intFlag("parallel", values.parallel, 1);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    log(`datascale run: ${e.message}`);
    return 2;
  }
  const config = experimentConfig(values.scale, overrides, values.config ?? "flags");
  parallel ??= Math.min(config.seeds, availableParallelism() + 1);
  const runDir = values["run-dir"] ?? join("runs", config.scale);
  let pooled: PooledResults;
  let seeds: Awaited<ReturnType<typeof loadRun>>;
  if (values["report-only"]) {
    // Findings are derived from the measurements: re-derive them, so a report re-rendered
    // by a newer DataScale judges old measurements by its current rules.
    seeds = await loadRun(runDir, config);
    pooled = poolSeeds(seeds, await previousWall(join(runDir, "results.json")));
    await writeJsonAtomic(join(runDir, "results.json"), pooled);
  } else {
    log(
      `datascale run: scale ${config.scale}, seeds ${config.seed}..${config.seed + config.seeds - 1}, run directory ${runDir}`,
    );
    ({ pooled, seeds } = await runExperiment({ runDir, config, parallel, log }));
  }
  await writeReport(runDir, pooled, seeds);
  process.stdout.write(summary(pooled, runDir));
  return 0;
}
