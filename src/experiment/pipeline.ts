// The main job: the paper's system end to end on the procedural world, at a laptop's scale.
//   1. SFT a small policy on demonstrations (imperfect on purpose: RL needs room).
//   2. Reward models from SFT samples: a Bradley–Terry RM and a generative judge (GenRM).
//   3. Best-of-N references: the BT RM's pick among N SFT samples, for every prompt.
//   4. Judge sensitivity: score gaps against edit distance (RTV, GenRM-GT, GenRM-BoN, BT).
//   5. Pre-PPO selection on the new prompt pool with the hybrid reward system.
//   6. The reward "ladder": PPO on the same prompts with one reward source at a time,
//      gold (verifier) accuracy on held-out prompts against the proxy the run optimises.
//   7. Baseline (original + whole pool, uniform) vs DataScale (original + selected, math and
//      code first), with the two ablations.
// Each stage records its result in <run>/state.json when it finishes; a rerun with the same
// run directory skips finished stages, and the trainers resume from their checkpoints.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { availableParallelism, platform } from "node:os";
import { join } from "node:path";
import { DataScaleError } from "../core/errors.ts";
import type { Task } from "../core/schemas.ts";
import { JsonlWriter, readJsonl } from "../io/jsonl.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/rundir.ts";
import { SensitivityBins } from "../metrics/sensitivity.ts";
import { createKernel, selectKernel } from "../model/kernels/index.ts";
import type { Kernel } from "../model/kernels/types.ts";
import { paramLayout } from "../model/params.ts";
import { Rng } from "../model/rng.ts";
import type { Tokenizer } from "../model/types.ts";
import { selectPrompts } from "../select/select.ts";
import { ScoreRecord } from "../select/types.ts";
import type { PreferenceRecord, PromptResponse } from "../train/data.ts";
import { byteTokenizer, loadDecoder, newDecoder } from "../train/models.ts";
import { genrmScores, judgePrompt, pairwiseAccuracy, rewardScores, trainRewardModel } from "../train/rm.ts";
import { RunDir, saveModel } from "../train/rundir.ts";
import { trainSft } from "../train/sft.ts";
import type { ExperimentConfig } from "./config.ts";
import { deriveFindings } from "./findings.ts";
import { goldByDomain, greedy, sampleK, scoreResponses } from "./policy.ts";
import { type PpoContext, type PpoRunSpec, runPpo } from "./ppo-run.ts";
import { ExperimentResults, type RunCurve } from "./results.ts";
import { goldRewardFn, hybridRewardFn, type Judges, rewardFns } from "./rewards.ts";
import {
  buildWorld,
  DOMAINS,
  goldAnswer,
  REWARD_SOURCES,
  type RewardSource,
  type SetName,
  WORLD,
} from "./world.ts";

export interface PipelineOptions {
  runDir: string;
  config: ExperimentConfig;
  /** Progress lines (stage starts and figures); the trainers draw their own bars on a TTY. */
  log: (line: string) => void;
}

interface State {
  config: ExperimentConfig;
  startedAt: string;
  done: Record<string, unknown>;
}

/** Stage bookkeeping: a stage's result is stored when it finishes and reused on a rerun. */
class Stages {
  readonly #path: string;
  readonly state: State;
  readonly #log: (line: string) => void;
  #index = 0;
  readonly #total: number;

  constructor(runDir: string, config: ExperimentConfig, log: (line: string) => void, total: number) {
    this.#path = join(runDir, "state.json");
    this.#log = log;
    this.#total = total;
    if (existsSync(this.#path)) {
      const state = JSON.parse(readFileSync(this.#path, "utf8")) as State;
      if (JSON.stringify(state.config) !== JSON.stringify(config))
        throw new DataScaleError(
          "bad_config",
          `${this.#path}: this run directory was started with a different configuration; use a new --run-dir`,
        );
      this.state = state;
    } else {
      this.state = { config, startedAt: new Date().toISOString(), done: {} };
    }
  }

  async stage<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
    this.#index++;
    const tag = `[${this.#index}/${this.#total}] ${name}`;
    if (name in this.state.done) {
      this.#log(`${tag}: done earlier (resumed)`);
      return this.state.done[name] as T;
    }
    this.#log(`${tag}: ${what}`);
    const t0 = performance.now();
    const result = await fn();
    this.state.done[name] = result;
    await writeJsonAtomic(this.#path, this.state);
    this.#log(`${tag}: finished in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  }
}

/** Mean of a list; 0 for an empty one (a domain with nothing to average reports 0, not NaN). */
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * Two near misses of the truth: wrong answers one edit away (or the other option of a yes/no
 * or multiple-choice answer). Reward-model data needs them — SFT samples alone rarely hold a
 * wrong answer that close to the right one — and the sensitivity test scores them.
 */
function nearMisses(truth: string, id: string): string[] {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return [nearMiss(truth, h), nearMiss(truth, h + 3)].filter((x) => x !== truth);
}

/** A one-edit wrong variant of an answer (yes↔no, A→B for choices, one character changed otherwise). */
function nearMiss(s: string, salt: number): string {
  if (s === "yes") return "no";
  if (s === "no") return "yes";
  if (/^[A-E]$/.test(s)) return String.fromCharCode(65 + ((s.charCodeAt(0) - 65 + 1 + (salt % 2)) % 5));
  if (s.length === 0) return "0";
  const i = salt % s.length;
  const ch = s[i]!;
  const c = s.charCodeAt(i);
  const swap = /[0-9]/.test(ch)
    ? String.fromCharCode(48 + ((c - 48 + 1 + (salt % 8)) % 10))
    : /[a-z]/.test(ch)
      ? String.fromCharCode(97 + ((c - 97 + 1 + (salt % 24)) % 26))
      : /[A-Z]/.test(ch)
        ? String.fromCharCode(65 + ((c - 65 + 1 + (salt % 24)) % 26))
        : ch === "-"
          ? ""
          : "1";
  return s.slice(0, i) + swap + s.slice(i + 1);
}

export async function runPipeline(o: PipelineOptions): Promise<ExperimentResults> {
  const { config, log } = o;
  mkdirSync(o.runDir, { recursive: true });
  const stages = new Stages(o.runDir, config, log, 10 + REWARD_SOURCES.length + 4);
  await writeJsonAtomic(join(o.runDir, "config.json"), config);
  const t0 = performance.now();
  const kernel: Kernel = config.kernel === "auto" ? selectKernel() : createKernel(config.kernel);
  try {
    return await pipeline(o, stages, kernel, t0);
  } finally {
    kernel.close();
  }
}

async function pipeline(
  o: PipelineOptions,
  stages: Stages,
  kernel: Kernel,
  t0: number,
): Promise<ExperimentResults> {
  const { config, log } = o;
  const tokenizer: Tokenizer = byteTokenizer();
  const world = buildWorld(config);
  const data = join(o.runDir, "data");
  const models = join(o.runDir, "models");
  const gold = goldRewardFn();

  await stages.stage("world", "writing the task sets", async () => {
    mkdirSync(data, { recursive: true });
    for (const [set, tasks] of Object.entries(world))
      await writeFileAtomic(join(data, `${set}.jsonl`), tasks.map((t) => `${JSON.stringify(t)}\n`).join(""));
    return Object.fromEntries(Object.entries(world).map(([k, v]) => [k, v.length]));
  });

  // ---- 1. SFT ----
  const sftDir = join(models, "sft", "model");
  const sftEval = await stages.stage("sft", "supervised fine-tuning on demonstrations", async () => {
    const model = newDecoder({ vocabSize: tokenizer.vocabSize, ...config.model }, config.seed, kernel);
    await trainSft({
      model,
      tokenizer,
      train: world.demo.map((t) => ({ prompt: t.prompt ?? "", response: goldAnswer(t) })),
      options: { ...config.sft, warmup: 20, seed: config.seed, evalEvery: 0, checkpointEvery: 100 },
      runDir: new RunDir(join(models, "sft")),
    });
    saveModel(sftDir, model);
    const answers = await greedy(model, tokenizer, world.eval);
    const score = goldByDomain(world.eval, await scoreResponses(gold, world.eval, answers));
    log(`  SFT held-out gold accuracy ${pct(score.overall)} ${JSON.stringify(score.byDomain)}`);
    return score;
  });
  const sft = loadDecoder(sftDir, {}, config.seed, kernel);

  // ---- 2. SFT samples for reward-model data, Best-of-N and selection ----
  const samplesPath = (set: SetName) => join(data, `samples-${set}.jsonl`);
  await stages.stage("samples", `${config.samples} SFT samples per prompt`, async () => {
    for (const set of ["preference", "original", "pool", "eval"] as const) {
      const samples = await sampleK(sft, tokenizer, world[set], config.samples, config.seed + 101);
      await writeFileAtomic(
        samplesPath(set),
        world[set].map((t, i) => `${JSON.stringify({ id: t.id, samples: samples[i] })}\n`).join(""),
      );
    }
    return {};
  });
  // Each set's samples are read once: several stages (reward-model data, Best-of-N, the judge,
  // sensitivity, selection) use the same ones.
  const samplesRead = new Map<SetName, Promise<Map<string, string[]>>>();
  const readSamples = async (set: SetName): Promise<Map<string, string[]>> => {
    const m = new Map<string, string[]>();
    for await (const line of readJsonl(samplesPath(set))) {
      if (!line.ok) throw new DataScaleError("bad_record", `${samplesPath(set)}:${line.line}: ${line.error}`);
      const v = line.value as { id: string; samples: string[] };
      m.set(v.id, v.samples);
    }
    return m;
  };
  const samplesOf = (set: SetName): Promise<Map<string, string[]>> => {
    let read = samplesRead.get(set);
    if (read === undefined) {
      read = readSamples(set);
      samplesRead.set(set, read);
    }
    return read;
  };
  const goldOf = async (task: Task, responses: readonly string[]) =>
    scoreResponses(
      gold,
      responses.map(() => task),
      responses,
    );

  // Preference pairs: for each prompt, every (better, worse) pair by gold among the samples
  // and the ground truth — what a human-labelled comparison set would say.
  const pairsFor = async (set: SetName): Promise<PreferenceRecord[]> => {
    const samples = await samplesOf(set);
    const out: PreferenceRecord[] = [];
    for (const t of world[set]) {
      const truth = goldAnswer(t);
      const cands = [
        ...new Set([...(samples.get(String(t.id)) ?? []), truth, ...nearMisses(truth, String(t.id))]),
      ];
      const g = await goldOf(t, cands);
      for (let i = 0; i < cands.length; i++)
        for (let j = 0; j < cands.length; j++)
          if (g[i]! > g[j]!) out.push({ prompt: t.prompt ?? "", chosen: cands[i]!, rejected: cands[j]! });
    }
    return out;
  };

  // ---- 3. Bradley–Terry reward model ----
  const btDir = join(models, "bt", "model");
  const btAccuracy = await stages.stage("bt", "Bradley–Terry reward model on preference pairs", async () => {
    const train = await pairsFor("preference");
    const held = await pairsFor("eval");
    const model = loadDecoder(sftDir, { rewardHead: true }, config.seed, kernel);
    await trainRewardModel({
      model,
      tokenizer,
      train,
      options: { ...config.rm, warmup: 10, seed: config.seed, evalEvery: 0, checkpointEvery: 100 },
      runDir: new RunDir(join(models, "bt")),
    });
    saveModel(btDir, model);
    const acc = pairwiseAccuracy(model, tokenizer, held);
    log(
      `  BT: ${train.length} training pairs; held-out pairwise accuracy ${pct(acc)} on ${held.length} pairs`,
    );
    return acc;
  });
  const bt = loadDecoder(btDir, { rewardHead: true }, config.seed, kernel);

  // ---- 4. Best-of-N references (the BT RM's pick among the SFT samples) ----
  const withBon = new Map<SetName, Task[]>();
  const bonStats = await stages.stage("bon", "Best-of-N references picked by the BT model", async () => {
    const bonGold: number[] = [];
    const firstGold: number[] = [];
    for (const set of ["original", "pool", "eval"] as const) {
      const samples = await samplesOf(set);
      const lines: string[] = [];
      for (const t of world[set]) {
        const cands = samples.get(String(t.id)) ?? [""];
        const s = rewardScores(
          bt,
          tokenizer,
          cands.map((c) => ({ prompt: t.prompt ?? "", response: c })),
        );
        let best = 0;
        for (let i = 1; i < cands.length; i++) if (s[i]! > s[best]!) best = i;
        const g = await goldOf(t, cands);
        bonGold.push(g[best]!);
        firstGold.push(g[0]!);
        lines.push(`${JSON.stringify({ ...t, meta: { ...t.meta, bon: cands[best] } })}\n`);
      }
      await writeFileAtomic(join(data, `${set}-bon.jsonl`), lines.join(""));
    }
    log(`  Best-of-${config.samples} gold ${pct(mean(bonGold))} vs one sample ${pct(mean(firstGold))}`);
    return { bonGold: mean(bonGold), sampleGold: mean(firstGold) };
  });
  for (const set of ["original", "pool", "eval"] as const) {
    const tasks: Task[] = [];
    for await (const line of readJsonl(join(data, `${set}-bon.jsonl`)))
      if (line.ok) tasks.push(line.value as Task);
    withBon.set(set, tasks);
  }
  const original = withBon.get("original")!;
  const pool = withBon.get("pool")!;
  const evalTasks = withBon.get("eval")!;

  // ---- 5. GenRM: "is A at least as good as B?" on (sample, sample) and (sample, truth) pairs ----
  const genrmDir = join(models, "genrm", "model");
  // Judgements "is A at least as good as B?" by gold: A against the ground truth (what the
  // GT judge sees) and A against another sample (what the BoN judge sees). YES would dominate
  // (two wrong answers tie), so the classes are balanced by dropping YES examples
  // deterministically; otherwise answering YES always is a cheap optimum for a small judge.
  const judgeExamples = async (
    set: SetName,
    balance: boolean,
  ): Promise<{ ex: PromptResponse[]; items: JudgeItem[] }> => {
    const samples = await samplesOf(set);
    const items: JudgeItem[] = [];
    for (const t of world[set]) {
      const truth = goldAnswer(t);
      const cands = [...new Set([...(samples.get(String(t.id)) ?? []), ...nearMisses(truth, String(t.id))])];
      const g = await goldOf(t, cands);
      for (let i = 0; i < cands.length; i++) {
        items.push({ task: t, a: cands[i]!, b: truth, yes: g[i]! >= 1, bIsTruth: true });
        for (let j = 0; j < cands.length; j++)
          if (i !== j)
            items.push({ task: t, a: cands[i]!, b: cands[j]!, yes: g[i]! >= g[j]!, bIsTruth: false });
      }
      items.push({ task: t, a: truth, b: truth, yes: true, bIsTruth: true });
    }
    let kept = items;
    if (balance) {
      const no = items.filter((x) => !x.yes).length;
      const yes = items.length - no;
      const rng = new Rng(config.seed + 17);
      kept = items.filter((x) => !x.yes || yes <= no || rng.next() < no / yes);
    }
    return {
      ex: kept.map((x) => ({
        prompt: judgePrompt(x.task.prompt ?? "", x.a, x.b),
        response: x.yes ? "YES" : "NO",
      })),
      items: kept,
    };
  };
  const genrmStats = await stages.stage("genrm", "generative judge (GenRM) on judgements", async () => {
    const { ex: judged } = await judgeExamples("preference", true);
    // Comparison drills from the demonstrations: the truth against itself (YES) and against a
    // near miss (NO). Plentiful and balanced, they teach the judge to compare a response with
    // a reference, which a small judge otherwise does not pick up from the judgements alone.
    const drills = world.demo.flatMap((t) => {
      const truth = goldAnswer(t);
      const prompt = t.prompt ?? "";
      return [
        { prompt: judgePrompt(prompt, truth, truth), response: "YES" },
        ...nearMisses(truth, String(t.id))
          .slice(0, 1)
          .map((miss) => ({ prompt: judgePrompt(prompt, miss, truth), response: "NO" })),
      ];
    });
    const ex = [...judged, ...drills];
    const { items } = await judgeExamples("eval", false);
    const model = loadDecoder(sftDir, {}, config.seed, kernel);
    await trainSft({
      model,
      tokenizer,
      train: ex,
      options: { ...config.genrm, warmup: 20, seed: config.seed, evalEvery: 0, checkpointEvery: 100 },
      runDir: new RunDir(join(models, "genrm")),
    });
    saveModel(genrmDir, model);
    const p = await genrmScores(
      model,
      tokenizer,
      items.map((x) => ({ prompt: x.task.prompt ?? "", response: x.a, reference: x.b })),
    );
    const agree = (want: (x: JudgeItem) => boolean) => {
      const idx = items.flatMap((x, i) => (want(x) ? [i] : []));
      return mean(idx.map((i) => (p[i]! >= 0.5 === items[i]!.yes ? 1 : 0)));
    };
    const gtAcc = agree((x) => x.bIsTruth);
    const bonAcc = agree((x) => !x.bIsTruth);
    log(
      `  GenRM: ${judged.length} judgements + ${drills.length} comparison drills; held-out balanced accuracy against gold: vs ground truth ${pct(gtAcc)}, vs a sample ${pct(bonAcc)}`,
    );
    return { gtAccuracy: gtAcc, bonAccuracy: bonAcc };
  });
  const genrm = loadDecoder(genrmDir, {}, config.seed, kernel);
  const judges: Judges = { tokenizer, bt, genrm };
  const fns = rewardFns(judges);
  const hybrid = hybridRewardFn(fns);

  // ---- 6. Judge sensitivity: score gaps vs edit distance ----
  const sensitivity = await stages.stage(
    "sensitivity",
    "score gap against edit distance, per reward source",
    async () => {
      const samples = await samplesOf("eval");
      const groups = evalTasks.map((t) => {
        const truth = goldAnswer(t);
        return {
          task: t,
          responses: [
            ...new Set([...(samples.get(String(t.id)) ?? []), truth, ...nearMisses(truth, String(t.id))]),
          ],
        };
      });
      const out = [];
      for (const source of REWARD_SOURCES) {
        const bins = new SensitivityBins();
        for (const g of groups) {
          const scores = await scoreResponses(
            fns[source],
            g.responses.map(() => g.task),
            g.responses,
          );
          bins.addGroup(g.responses.map((response, i) => ({ response, score: scores[i] ?? 0 })));
        }
        out.push({ source, bins: bins.result() });
      }
      return out;
    },
  );

  // ---- 7. Pre-PPO selection over the new pool ----
  const selection = await stages.stage(
    "select",
    `Pre-PPO selection: keep the hardest ${pct(config.keep)} of the filtered domains`,
    async () => {
      const samples = await samplesOf("pool");
      const poolPath = join(data, "pool-with-samples.jsonl");
      const w = new JsonlWriter(poolPath);
      for (const t of pool) await w.write({ ...t, responses: samples.get(String(t.id)) ?? [] });
      await w.close();
      const result = await selectPrompts({
        pool: poolPath,
        out: join(data, "selected.jsonl"),
        runDir: join(o.runDir, "select"),
        resume: true,
        reward: hybrid,
        samples: config.samples,
        keep: config.keep,
        normalisation: "zscore",
        unfiltered: ["math", "code"],
        seed: config.seed,
      });
      // Per-domain figures from pass 1's scores and the selected file.
      const scores = new Map<string, number>();
      for await (const line of readJsonl(join(o.runDir, "select", "scores.jsonl"))) {
        if (!line.ok) continue;
        const r = ScoreRecord.safeParse(line.value);
        if (r.success && r.data.id !== undefined && r.data.mean !== undefined)
          scores.set(String(r.data.id), r.data.mean);
      }
      const kept = new Set<string>();
      for await (const line of readJsonl(join(data, "selected.jsonl")))
        if (line.ok) kept.add(String((line.value as Task).id));
      const goldMean = new Map<string, number>();
      for (const t of pool)
        goldMean.set(String(t.id), mean(await goldOf(t, samples.get(String(t.id)) ?? [""])));
      const domains = DOMAINS.map((domain) => {
        const ts = pool.filter((t) => t.domain === domain);
        const keptTs = ts.filter((t) => kept.has(String(t.id)));
        const sc = ts.flatMap((t) => (scores.has(String(t.id)) ? [scores.get(String(t.id))!] : []));
        const filtered = domain !== "math" && domain !== "code";
        return {
          domain,
          pool: ts.length,
          kept: keptTs.length,
          filtered,
          meanScore: mean(sc),
          aboveHalf: mean(sc.map((s) => (s > 0.5 ? 1 : 0))),
          goldKept: keptTs.length === 0 ? null : mean(keptTs.map((t) => goldMean.get(String(t.id))!)),
          goldPool: ts.length === 0 ? null : mean(ts.map((t) => goldMean.get(String(t.id))!)),
        };
      });
      log(
        `  selected ${result.report.kept} prompts; ${domains.map((d) => `${d.domain} ${d.kept}/${d.pool}`).join(", ")}`,
      );
      return { keep: config.keep, samples: config.samples, normalisation: "zscore", domains };
    },
  );
  const selected: Task[] = [];
  for await (const line of readJsonl(join(data, "selected.jsonl")))
    if (line.ok) {
      const t = line.value as Task;
      if (!String(t.id).startsWith("original-")) selected.push(t);
    }

  // ---- 8 and 9. PPO runs ----
  const perFamily = Math.max(1, Math.ceil(config.sizes.diversityPrompts / WORLD.length));
  const ctx: PpoContext = {
    config,
    dir: join(o.runDir, "ppo"),
    sftDir,
    kernel,
    tokenizer,
    trainEvalTasks: original,
    evalTasks,
    diversityTasks: WORLD.flatMap((f) => evalTasks.filter((t) => t.source === f.family).slice(0, perFamily)),
    gold,
  };
  const runLine = (c: RunCurve) =>
    `  ${c.name}: gold ${pct(c.points[0]!.gold.overall)} → best ${pct(c.best.gold)} (step ${c.best.step}) → final ${pct(c.final.gold)}`;
  const ladder: RunCurve[] = [];
  const LADDER: Record<RewardSource, string> = {
    rtv: "every prompt rewarded by its verifier (RTV)",
    "genrm-gt": "every prompt rewarded by the GenRM against the ground truth",
    "genrm-bon": "every prompt rewarded by the GenRM against the SFT Best-of-N reference",
    bt: "every prompt rewarded by the Bradley–Terry reward model",
  };
  for (const source of REWARD_SOURCES) {
    const curve = await stages.stage(
      `ppo-${source}`,
      `PPO on the original prompts, reward = ${source}`,
      async () => {
        const c = await runPpo(
          {
            name: `ladder-${source}`,
            description: LADDER[source],
            tasks: original,
            reward: fns[source],
            curriculum: false,
          },
          ctx,
        );
        log(runLine(c));
        return c;
      },
    );
    ladder.push(curve);
  }
  const specs: PpoRunSpec[] = [
    {
      name: "baseline",
      description: "original + the whole new pool, uniform sampling, hybrid reward",
      tasks: [...original, ...pool],
      reward: hybrid,
      curriculum: false,
    },
    {
      name: "datascale",
      description: "original + Pre-PPO selected prompts, math and code first, hybrid reward",
      tasks: [...original, ...selected],
      reward: hybrid,
      curriculum: true,
    },
    {
      name: "selection-only",
      description: "original + Pre-PPO selected prompts, uniform sampling",
      tasks: [...original, ...selected],
      reward: hybrid,
      curriculum: false,
    },
    {
      name: "curriculum-only",
      description: "original + the whole new pool, math and code first",
      tasks: [...original, ...pool],
      reward: hybrid,
      curriculum: true,
    },
  ];
  const comparison: RunCurve[] = [];
  for (const spec of specs) {
    const curve = await stages.stage(`ppo-${spec.name}`, spec.description, async () => {
      const c = await runPpo(spec, ctx);
      log(runLine(c));
      return c;
    });
    comparison.push(curve);
  }

  const sftModel = sft;
  const results: ExperimentResults = {
    version: 1,
    scale: config.scale,
    seed: config.seed,
    startedAt: stages.state.startedAt,
    finishedAt: new Date().toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
    kernel: kernel.name,
    machine: {
      cpus: availableParallelism(),
      node: process.version,
      platform: `${platform()}-${process.arch}`,
    },
    world: {
      families: WORLD.map((f) => ({ family: f.family, domain: f.domain, reward: f.reward })),
      sizes: {
        ...Object.fromEntries(Object.entries(world).map(([k, v]) => [k, v.length])),
        selected: selected.length,
      },
      model: {
        dim: config.model.dim,
        nLayers: config.model.nLayers,
        nHeads: config.model.nHeads,
        params: paramLayout(sftModel.config).size,
      },
      steps: {
        sft: config.sft.steps,
        rm: config.rm.steps,
        genrm: config.genrm.steps,
        ppo: config.ppo.steps,
        evalEvery: config.ppo.evalEvery,
        stage1: Math.max(1, Math.round(config.ppo.steps * config.stage1Fraction)),
      },
    },
    models: {
      sft: sftEval,
      btAccuracy,
      genrmGtAccuracy: genrmStats.gtAccuracy,
      genrmBonAccuracy: genrmStats.bonAccuracy,
      bonGold: bonStats.bonGold,
      sampleGold: bonStats.sampleGold,
    },
    sensitivity,
    ladder,
    selection,
    comparison,
    findings: [],
  };
  results.findings = deriveFindings(results);
  return ExperimentResults.parse(results);
}

interface JudgeItem {
  task: Task;
  a: string;
  b: string;
  yes: boolean;
  bIsTruth: boolean;
}
