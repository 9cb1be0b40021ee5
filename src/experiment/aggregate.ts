// Curves across seeds for the report: every run's evaluations grouped by step, each figure as
// the mean over seeds with the lowest and highest seed (the band the plots draw).
import type { EvalPoint, RunCurve, SeedResults } from "./results.ts";

export interface Band {
  mean: number;
  lo: number;
  hi: number;
  /** Seeds behind the figure. */
  n: number;
}

export interface AggPoint {
  step: number;
  heldout: Band;
  gold: Band;
  proxy: Band;
  kl: Band;
  entropy: Band;
  edit: Band;
  /** Held-out gold per domain. */
  domains: Record<string, Band>;
}

export interface AggCurve {
  name: string;
  description: string;
  points: AggPoint[];
  /** Training reward per step (each seed's moving average first), mean and range over seeds. */
  trainReward: { step: number; reward: Band }[];
  /** Per seed: start, best and final held-out gold, for the tables. */
  perSeed: { seed: number; start: number; best: number; bestStep: number; final: number }[];
}

export function band(xs: readonly number[]): Band {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n: 0 };
  return {
    mean: v.reduce((a, b) => a + b, 0) / v.length,
    lo: Math.min(...v),
    hi: Math.max(...v),
    n: v.length,
  };
}

/** Moving average over the previous `w` values: per-step training reward is too noisy to read raw. */
export function movingAverage(xs: readonly number[], w: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    sum += xs[i]!;
    if (i >= w) sum -= xs[i - w]!;
    out.push(sum / Math.min(i + 1, w));
  }
  return out;
}

/** The smoothing window the proxy plot uses for a run with `n` training steps. */
export function smoothingWindow(n: number): number {
  return Math.max(1, Math.round(n / 25));
}

function byStep<T extends { step: number }>(rows: readonly T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) m.set(r.step, [...(m.get(r.step) ?? []), r]);
  return new Map([...m].sort(([a], [b]) => a - b));
}

function aggPoint(step: number, ps: readonly EvalPoint[]): AggPoint {
  const domains = [...new Set(ps.flatMap((p) => Object.keys(p.heldout.byDomain)))];
  return {
    step,
    heldout: band(ps.map((p) => p.heldout.overall)),
    gold: band(ps.map((p) => p.gold.overall)),
    proxy: band(ps.map((p) => p.proxy)),
    kl: band(ps.map((p) => Math.sqrt(Math.max(0, p.kl)))),
    entropy: band(ps.map((p) => p.entropy)),
    edit: band(ps.map((p) => p.maxEditDistance)),
    domains: Object.fromEntries(
      domains.map((d) => [d, band(ps.map((p) => p.heldout.byDomain[d] ?? Number.NaN))]),
    ),
  };
}

/** One curve per run name (in first-seen order) over the seeds that have it. */
export function aggregate(
  seeds: readonly SeedResults[],
  pick: (r: SeedResults) => readonly RunCurve[],
): AggCurve[] {
  const names = [...new Set(seeds.flatMap((r) => pick(r).map((c) => c.name)))];
  return names.map((name) => {
    const runs = seeds.flatMap((r) =>
      pick(r)
        .filter((c) => c.name === name)
        .map((c) => ({ seed: r.seed, c })),
    );
    const points = [...byStep(runs.flatMap(({ c }) => c.points))].map(([step, ps]) => aggPoint(step, ps));
    const smoothed = runs.flatMap(({ c }) => {
      const tr = [...c.trainReward].sort((a, b) => a.step - b.step);
      const s = movingAverage(
        tr.map((t) => t.reward),
        smoothingWindow(tr.length),
      );
      return tr.map((t, i) => ({ step: t.step, reward: s[i]! }));
    });
    return {
      name,
      description: runs[0]?.c.description ?? "",
      points,
      trainReward: [...byStep(smoothed)].map(([step, rs]) => ({
        step,
        reward: band(rs.map((r) => r.reward)),
      })),
      perSeed: runs.map(({ seed, c }) => ({
        seed,
        start: c.points[0]?.heldout.overall ?? Number.NaN,
        best: c.best.gold,
        bestStep: c.best.step,
        final: c.final.gold,
      })),
    };
  });
}
