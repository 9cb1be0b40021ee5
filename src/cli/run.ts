// `datascale run`: the main job. Reproduces the paper's findings at small scale on the
// embedded engine (src/experiment/pipeline.ts) and writes results.json plus an HTML and a
// markdown report with plots into the run directory. Rerunning the same command resumes.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { experimentConfig, readConfigFile, SCALES } from "../experiment/config.ts";
import { deriveFindings } from "../experiment/findings.ts";
import { runPipeline } from "../experiment/pipeline.ts";
import { loadResults, writeReport } from "../experiment/report.ts";
import type { ExperimentResults } from "../experiment/results.ts";
import { writeJsonAtomic } from "../io/rundir.ts";

const HELP = `usage: datascale run [--scale small|tiny] [--config FILE] [--run-dir DIR]
                     [--kernel wasm|blas|ts|auto] [--seed N] [--report-only]

Reproduces "Exploring Data Scaling Trends and Effects in RLHF" at small scale on the
embedded engine: SFT, a Bradley–Terry RM and a GenRM, Best-of-N references, judge
sensitivity, Pre-PPO selection, PPO with each reward source (the hacking ladder), and
baseline vs DataScale (selection + math and code first) with ablations.

  --scale        small (default; ≈20–30 min on 2 cores) or tiny (a smoke run, seconds)
  --config FILE  JSON/YAML overrides of the scale's settings (see docs/experiment.md)
  --run-dir DIR  where everything goes (default runs/<scale>-seed<seed>); rerunning
                 with the same directory resumes after a kill and skips finished stages
  --kernel K     compute kernel (default auto: blas when the native addon loads, else wasm)
  --seed N       seed of the world, the models and the runs (default 1)
  --report-only  re-render the report from <run-dir>/results.json (findings re-derived)

Writes <run-dir>/results.json, report.html, report.md and plots/*.svg.
`;

function summary(r: ExperimentResults, runDir: string): string {
  const badge = (x: boolean | null) => (x === true ? "✓" : x === false ? "✗" : "?");
  const lines = r.findings.map((f) => `  ${badge(f.reproduced)} ${f.title}\n      ${f.measured}`);
  const n = r.findings.filter((f) => f.reproduced === true).length;
  return [
    `findings (${n} of ${r.findings.length} reproduced):`,
    ...lines,
    `report: ${join(runDir, "report.html")}`,
    "",
  ].join("\n");
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: "string", default: "small" },
      config: { type: "string" },
      "run-dir": { type: "string" },
      kernel: { type: "string" },
      seed: { type: "string" },
      "report-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!(values.scale in SCALES)) {
    process.stderr.write(
      `datascale run: unknown --scale '${values.scale}' (known: ${Object.keys(SCALES).join(", ")})\n`,
    );
    return 2;
  }
  const overrides: Record<string, unknown> = {
    ...((values.config === undefined ? {} : readConfigFile(values.config)) as Record<string, unknown>),
  };
  if (values.kernel !== undefined) overrides.kernel = values.kernel;
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) {
      process.stderr.write(`datascale run: --seed must be a non-negative integer, got '${values.seed}'\n`);
      return 2;
    }
    overrides.seed = seed;
  }
  const config = experimentConfig(values.scale, overrides, values.config ?? "flags");
  const runDir = values["run-dir"] ?? join("runs", `${config.scale}-seed${config.seed}`);
  const resultsPath = join(runDir, "results.json");
  let results: ExperimentResults;
  if (values["report-only"]) {
    // Findings are derived from the measurements: re-derive them, so a report re-rendered
    // by a newer DataScale judges old measurements by its current rules.
    results = await loadResults(resultsPath);
    results = { ...results, findings: deriveFindings(results) };
  } else {
    process.stderr.write(
      `datascale run: scale ${config.scale}, seed ${config.seed}, run directory ${runDir}\n`,
    );
    results = await runPipeline({ runDir, config, log: (line) => process.stderr.write(`${line}\n`) });
    await writeJsonAtomic(resultsPath, results);
  }
  await writeReport(runDir, results);
  process.stdout.write(summary(results, runDir));
  return 0;
}
