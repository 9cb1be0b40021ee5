// Synthetic but schema-valid results for the report and findings tests.
import { ExperimentResults, type Finding, type RunCurve } from "../../src/experiment/results.ts";

export const DOMAINS = ["math", "code", "logic", "general"];
export const EVIL = "<img onerror=x>";

/** A run whose gold rises to `peak` at `peakStep` and then drifts, while the proxy keeps rising. */
export function curve(name: string, seed: number, peakStep: number, steps = 200, every = 50): RunCurve {
  const points = [];
  for (let step = 0; step <= steps; step += every) {
    const gold =
      0.3 + (0.2 * Math.min(step, peakStep)) / steps - (0.1 * Math.max(0, step - peakStep)) / steps;
    points.push({
      step,
      gold: {
        overall: gold,
        byDomain: Object.fromEntries(DOMAINS.map((d, i) => [d, gold + 0.02 * i + 0.001 * seed])),
      },
      heldout: { overall: gold / 2, byDomain: Object.fromEntries(DOMAINS.map((d) => [d, gold / 2])) },
      proxy: 0.4 + (0.5 * step) / steps,
      kl: step === 0 ? 0 : (step / steps) * (1 + seed / 10),
      entropy: 0.6 - (0.25 * step) / steps,
      maxEditDistance: 0.5 - (0.2 * step) / steps,
    });
  }
  const trainReward = Array.from({ length: steps }, (_, i) => ({
    step: i + 1,
    reward: 0.4 + (0.5 * i) / steps + 0.05 * Math.sin(i + seed),
    entropy: 0.6 - (0.25 * i) / steps,
    kl: i / steps,
  }));
  const best = points.reduce((a, b) => (b.gold.overall > a.gold.overall ? b : a));
  const last = points.at(-1)!;
  return {
    name,
    description: `run ${name}`,
    points,
    trainReward,
    best: { step: best.step, gold: best.gold.overall },
    final: { step: last.step, gold: last.gold.overall },
  };
}

export const finding = (id: string, title: string, reproduced: boolean | null): Finding => ({
  id,
  title,
  paper: `the paper says ${title}`,
  measured: `we measured ${id}: 12.5% vs 10.0%`,
  reproduced,
});

export function synthetic(
  comparisonNames = ["baseline", "datascale", "selection-only", "curriculum-only"],
): ExperimentResults {
  const sources = ["rtv", "genrm-gt", "genrm-bon", "bt"];
  return ExperimentResults.parse({
    version: 1,
    scale: "tiny",
    seed: 7,
    startedAt: "2026-11-23T10:00:00.000Z",
    finishedAt: "2026-11-23T10:42:13.000Z",
    wallSeconds: 2533.4,
    kernel: "js-f32",
    machine: { cpus: 2, node: "v24.21.0", platform: "linux-x64" },
    world: {
      families: [
        { family: "arithmetic", domain: "math", reward: "rtv" },
        { family: "code_output", domain: "code", reward: "rtv" },
        { family: "sorting", domain: "logic", reward: "genrm-gt" },
        { family: "string_transform", domain: "general", reward: "genrm-bon" },
      ],
      sizes: { demo: 400, original: 200, pool: 800, eval: 160, selected: 60 },
      model: { dim: 64, nLayers: 2, nHeads: 4, params: 123456 },
      steps: { sft: 300, rm: 200, genrm: 200, ppo: 200, evalEvery: 50 },
    },
    models: {
      sft: { overall: 0.31, byDomain: { math: 0.4, code: 0.3, logic: 0.25, general: 0.29 } },
      btAccuracy: 0.71,
      genrmGtAccuracy: 0.88,
      genrmBonAccuracy: 0.63,
      bonGold: 0.45,
      sampleGold: 0.31,
    },
    sensitivity: sources.map((source, k) => ({
      source,
      bins: [0, 0.1, 0.2, 0.4].map((lo, i, a) => ({
        lo,
        hi: a[i + 1] ?? 1,
        pairs: i === 3 && source === "bt" ? 0 : 10 + i,
        meanGap: i === 3 && source === "bt" ? null : (k < 2 ? 0.5 : 0.05) + 0.1 * i,
        separated: i === 3 && source === "bt" ? null : Math.min(1, 0.2 * (i + 1)),
      })),
    })),
    ladder: sources.map((s, i) => curve(`ladder-${s}`, i, [200, 150, 100, 100][i]!)),
    selection: {
      keep: 0.1,
      samples: 4,
      normalisation: "zscore",
      domains: [
        {
          domain: "math",
          pool: 200,
          kept: 200,
          filtered: false,
          meanScore: 0.4,
          aboveHalf: 0.35,
          goldKept: 0.4,
          goldPool: 0.4,
        },
        {
          domain: "code",
          pool: 200,
          kept: 200,
          filtered: false,
          meanScore: 0.3,
          aboveHalf: 0.25,
          goldKept: 0.3,
          goldPool: 0.3,
        },
        {
          domain: "logic",
          pool: 200,
          kept: 20,
          filtered: true,
          meanScore: 0.7,
          aboveHalf: 0.85,
          goldKept: 0.1,
          goldPool: 0.25,
        },
        {
          domain: "general",
          pool: 200,
          kept: 20,
          filtered: true,
          meanScore: 0.8,
          aboveHalf: 0.92,
          goldKept: null,
          goldPool: 0.3,
        },
      ],
    },
    comparison: comparisonNames.map((n, i) => curve(n, i + 5, 100 + 25 * i)),
    findings: [
      finding("reward-ladder", "Reward sources differ in resistance to hacking", true),
      finding("fine-grained", "Verifiers see small differences", true),
      finding("selection", "Pre-PPO selection keeps hard prompts", false),
      finding("datascale", "DataScale beats the all-prompts baseline", null),
      finding("math-code-first", "Math and code first", false),
      finding("entropy", "Entropy falls during PPO", true),
    ],
  });
}
