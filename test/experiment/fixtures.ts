// Synthetic but schema-valid seed results for the report and findings tests.
import { poolSeeds } from "../../src/experiment/findings.ts";
import { bestAndFinal } from "../../src/experiment/ppo-run.ts";
import { type PooledResults, type RunCurve, SeedResults } from "../../src/experiment/results.ts";

export const DOMAINS = ["math", "code", "logic", "general"];
export const EVIL = "<img onerror=x>";

/** A run whose held-out gold rises to `peak` at `peakStep` and then drifts, while the proxy keeps rising. */
export function curve(
  name: string,
  seed: number,
  peakStep: number,
  steps = 200,
  every = 50,
  lift = 0.2,
): RunCurve {
  const points = [];
  for (let step = 0; step <= steps; step += every) {
    const gold =
      0.3 +
      (lift * Math.min(step, peakStep)) / steps -
      (0.1 * Math.max(0, step - peakStep)) / steps +
      0.003 * seed;
    const score = (x: number) => ({
      overall: x,
      byDomain: Object.fromEntries(DOMAINS.map((d, i) => [d, x + 0.02 * i])),
      n: 400,
      nByDomain: Object.fromEntries(DOMAINS.map((d) => [d, 100])),
    });
    points.push({
      step,
      gold: score(gold + 0.1),
      heldout: score(gold),
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
  return { name, description: `run ${name}`, points, trainReward, ...bestAndFinal(points) };
}

const SOURCES = ["rtv", "genrm-gt", "genrm-bon", "bt"];

/** One seed's results; `lifts` sets each ladder source's gold lift (RTV strongest by default). */
export function seedResults(
  seed: number,
  o: { lifts?: number[]; comparisonNames?: string[] } = {},
): SeedResults {
  const lifts = o.lifts ?? [0.4, 0.25, 0.05, 0.04];
  const names = o.comparisonNames ?? ["baseline", "datascale", "selection-only", "curriculum-only"];
  const domain = (d: string, filtered: boolean, goldKept: number | null, goldPool: number) => ({
    domain: d,
    pool: 200,
    kept: filtered ? 20 : 200,
    filtered,
    meanScore: 0.5 + 0.05 * DOMAINS.indexOf(d),
    aboveHalf: 0.85,
    goldKept,
    goldPool,
  });
  return SeedResults.parse({
    version: 2,
    scale: "tiny",
    seed,
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
      sizes: { demo: 400, original: 200, pool: 800, eval: 160, selected: 440 },
      model: { dim: 64, nLayers: 2, nHeads: 4, params: 123456 },
      steps: { sft: 300, rm: 200, genrm: 200, ppo: 200, evalEvery: 50, stage1: 57 },
    },
    models: {
      sft: { overall: 0.31, byDomain: { math: 0.4, code: 0.3, logic: 0.25, general: 0.29 }, n: 160 },
      bt: { accuracy: 0.78 + 0.01 * seed, pairs: 1000 },
      genrm: { gtAccuracy: 0.92, gtItems: 2000, bonAccuracy: 0.63, bonItems: 4000 },
      bon: { bonGold: 0.45, sampleGold: 0.31, prompts: 500 },
    },
    sensitivity: SOURCES.map((source, k) => {
      const gap = (k < 2 ? 0.5 : 0.05) + 0.01 * seed;
      return {
        source,
        bins: [0, 0.1, 0.2, 0.4].map((lo, i, a) => ({
          lo,
          hi: a[i + 1] ?? 1,
          pairs: i === 3 && source === "bt" ? 0 : 10 + i,
          meanGap: i === 3 && source === "bt" ? null : gap + 0.1 * i,
          separated: i === 3 && source === "bt" ? null : Math.min(1, 0.2 * (i + 1)),
        })),
        near: { pairs: 400, meanGap: gap, sdGap: 0.2 },
      };
    }),
    ladder: SOURCES.map((s, i) => curve(`ladder-${s}`, seed, [200, 150, 100, 100][i]!, 200, 50, lifts[i])),
    selection: {
      keep: 0.1,
      samples: 4,
      normalisation: "zscore",
      domains: [
        domain("math", false, 0.4, 0.4),
        domain("code", false, 0.3, 0.3),
        domain("logic", true, 0.1, 0.25),
        domain("general", true, null, 0.3),
      ],
    },
    comparison: names.map((n, i) => curve(n, seed + i, 100 + 25 * i)),
  });
}

/** A run of `n` seeds, pooled. */
export function syntheticRun(
  n = 3,
  o: Parameters<typeof seedResults>[1] = {},
): { pooled: PooledResults; seeds: SeedResults[] } {
  const seeds = Array.from({ length: n }, (_, k) => seedResults(k + 1, o));
  return { pooled: { ...poolSeeds(seeds, 2533.4), finishedAt: "2026-11-23T10:42:13.000Z" }, seeds };
}
