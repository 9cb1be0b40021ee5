// `datascale select`: Pre-PPO prompt selection over a pool JSONL.
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { backendSpec, openBackend } from "../backend/open.ts";
import { type TaskSampling, taskSampler } from "../backend/task-sampler.ts";
import { DataScaleError, errorMessage } from "../core/errors.ts";
import { loadRewardFn } from "../select/rewards.ts";
import { DEFAULT_UNFILTERED, selectPrompts } from "../select/select.ts";
import { NORMALISATIONS, type Normalisation, type SampleFn } from "../select/types.ts";

const HELP = `usage: datascale select --pool FILE --out FILE [options]

Scores K responses per new prompt, normalises the per-prompt mean within each domain,
keeps the lowest --keep fraction of the filtered new pool, passes unfiltered domains
through, and writes the original set followed by the selection. Every output task holds
its evidence in meta.selection. Scores go to the run directory as they are made; after a
kill, rerun with --resume to continue without re-scoring.

options:
  --pool FILE            new prompts JSONL (Task + optional "responses": [K strings])
  --original FILE        original prompt set JSONL, merged in front of the selection
  --out FILE             selected tasks JSONL
  --run-dir DIR          run directory (default: OUT.run)
  --resume               continue the job in --run-dir
  --reward SPEC          exact-match | verifiers | CONFIG.json/.yaml (the hybrid router) |
                         MODULE exporting createRewardFn() (default: verifiers)
  --plugin MODULE        verifier plugin for --reward verifiers (repeatable)
  --policy SPEC          who answers records without K pre-generated responses: an
                         OpenAI-compatible server URL (with --policy-model), a model
                         directory (the embedded engine), or a module exporting createSampleFn()
  --policy-model NAME    the served model's name, for a URL policy
  --max-tokens N         response length limit for the policy (default: 512)
  --temperature T        policy sampling temperature (default: 1)
  --samples K            samples per prompt (default: 4)
  --keep F               fraction of the filtered new pool to keep (default: 0.10)
  --normalise M          zscore | rank | none (default: zscore)
  --unfiltered LIST      comma-separated domains passed through (default: math,code; '' for none)
  --min-variance V       drop prompts whose reward variance across samples is below V
  --batch N              prompts per reward call (default: 32)
  --concurrency N        reward calls in flight (default: 4)
  --seed N               tie-break seed at the cut (default: 0)
  --exact-capacity N     values held exactly per quantile structure before sketching (default: 100000)
  --progress             show progress on stderr even when it is not a terminal
  --json                 print the report as JSON instead of the table
`;

function num(flag: string, v: string | undefined, dflt: number, check: (x: number) => boolean): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isFinite(x) || !check(x)) throw new DataScaleError("bad_flag", `${flag}: invalid value '${v}'`);
  return x;
}

interface LoadedPolicy {
  sample: SampleFn;
  close(): Promise<void>;
}

async function loadPolicy(
  spec: string,
  model: string | undefined,
  sampling: TaskSampling,
): Promise<LoadedPolicy> {
  if (/^https?:\/\//.test(spec) || (existsSync(spec) && statSync(spec).isDirectory())) {
    const backend = await openBackend(backendSpec(spec, model));
    return { sample: taskSampler(backend, sampling), close: () => backend.close() };
  }
  return { sample: await loadSampleFn(spec), close: async () => undefined };
}

async function loadSampleFn(spec: string): Promise<SampleFn> {
  const url = spec.startsWith(".") || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec;
  const mod = (await import(url)) as { createSampleFn?: unknown };
  if (typeof mod.createSampleFn !== "function") {
    throw new DataScaleError("policy_load", `--policy ${spec}: module does not export createSampleFn()`);
  }
  return (await mod.createSampleFn()) as SampleFn;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      pool: { type: "string" },
      original: { type: "string" },
      out: { type: "string" },
      "run-dir": { type: "string" },
      resume: { type: "boolean" },
      reward: { type: "string" },
      plugin: { type: "string", multiple: true },
      policy: { type: "string" },
      "policy-model": { type: "string" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      samples: { type: "string" },
      keep: { type: "string" },
      normalise: { type: "string" },
      unfiltered: { type: "string" },
      "min-variance": { type: "string" },
      batch: { type: "string" },
      concurrency: { type: "string" },
      seed: { type: "string" },
      "exact-capacity": { type: "string" },
      progress: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.pool === undefined || values.out === undefined) {
    process.stderr.write(`datascale select: --pool and --out are required\n\n${HELP}`);
    return 2;
  }
  const normalisation = (values.normalise ?? "zscore") as Normalisation;
  if (!NORMALISATIONS.includes(normalisation)) {
    process.stderr.write(`datascale select: --normalise must be one of ${NORMALISATIONS.join(", ")}\n`);
    return 2;
  }
  const reward = await loadRewardFn(values.reward ?? "verifiers", values.plugin ?? []);
  const policy =
    values.policy === undefined
      ? undefined
      : await loadPolicy(values.policy, values["policy-model"], {
          maxTokens: Number(values["max-tokens"] ?? 512),
          temperature: Number(values.temperature ?? 1),
          seed: Number(values.seed ?? 0),
        });
  try {
    const pos = (x: number) => Number.isInteger(x) && x > 0;
    const result = await selectPrompts({
      pool: values.pool,
      ...(values.original === undefined ? {} : { original: values.original }),
      out: values.out,
      runDir: values["run-dir"] ?? `${values.out}.run`,
      resume: values.resume ?? false,
      reward: reward.rewardFn,
      ...(policy === undefined ? {} : { sample: policy.sample }),
      samples: num("--samples", values.samples, 4, pos),
      keep: num("--keep", values.keep, 0.1, (x) => x >= 0 && x <= 1),
      normalisation,
      unfiltered:
        values.unfiltered === undefined
          ? DEFAULT_UNFILTERED
          : values.unfiltered.split(",").filter((d) => d.trim() !== ""),
      ...(values["min-variance"] === undefined
        ? {}
        : { minVariance: num("--min-variance", values["min-variance"], 0, (x) => x >= 0) }),
      batchPrompts: num("--batch", values.batch, 32, pos),
      concurrency: num("--concurrency", values.concurrency, 4, pos),
      seed: num("--seed", values.seed, 0, Number.isInteger),
      ...(values["exact-capacity"] === undefined
        ? {}
        : { exactCapacity: num("--exact-capacity", values["exact-capacity"], 0, pos) }),
      ...(values.progress ? { progress: true } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (!result.complete) {
      process.stderr.write(`datascale select: stopped after scoring; rerun with --resume\n`);
      return 0;
    }
    const { formatReport } = await import("../select/report.ts");
    process.stdout.write(values.json ? `${JSON.stringify(result.report)}\n` : formatReport(result.report));
    return 0;
  } catch (e) {
    process.stderr.write(`datascale select: ${errorMessage(e)}\n`);
    return 1;
  } finally {
    await Promise.all([reward.close(), policy?.close()]);
  }
}
