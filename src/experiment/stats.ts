// The statistics of the decision rule (docs/experiment.md): a pooled 95 % interval from
// per-seed values and their within-seed errors, the verdict against a smallest effect of
// interest, and Gao et al.'s over-optimisation fit.
import { fitGaoCurve } from "../metrics/hacking.ts";
import type { Estimate, Verdict } from "./results.ts";

/** Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
const Z975 = 1.959964;

export function tQuantile975(df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new RangeError(`degrees of freedom must be ≥ 1, got ${df}`);
  // Beyond 30, the Cornish–Fisher expansion's first term is within 0.001 of the table.
  return df <= T975.length ? (T975[df - 1] as number) : Z975 + (Z975 ** 3 + Z975) / (4 * df);
}

/** Verdicts need this many seeds; fewer cannot estimate seed-to-seed variation. */
export const MIN_SEEDS = 3;

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The sampling error of a proportion p over n draws (0 when n is 0: the figure is then absent). */
export function binomialSe(p: number, n: number): number {
  return n > 0 ? Math.sqrt(Math.max(0, p * (1 - p)) / n) : 0;
}

/** The error of a difference of two independently measured figures. */
export function differenceSe(a: number, b: number): number {
  return Math.sqrt(a * a + b * b);
}

/**
 * The pooled mean of per-seed values and its 95 % interval: half-width = the larger of the
 * across-seed t-interval (t_{S−1} · sd / √S, S ≥ 2) and the within-seed floor
 * (1.96 · √Σse² / S). With one seed only the floor exists.
 */
export function pooledEstimate(perSeed: readonly { seed: number; value: number; se: number }[]): Estimate {
  const S = perSeed.length;
  const values = perSeed.map((p) => p.value);
  const m = mean(values);
  const floor = (Z975 * Math.sqrt(perSeed.reduce((a, p) => a + p.se * p.se, 0))) / Math.max(1, S);
  let across = 0;
  if (S >= 2) {
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (S - 1));
    across = (tQuantile975(S - 1) * sd) / Math.sqrt(S);
  }
  const half = Math.max(across, floor);
  return {
    perSeed: perSeed.map((p) => ({ ...p })),
    mean: m,
    lo: m - half,
    hi: m + half,
    method: across >= floor && S >= 2 ? "t" : "floor",
  };
}

/** The decision rule: reproduced when lo > 0; not reproduced when hi < δ; else inconclusive (and with < 3 seeds). */
export function verdictOf(e: Estimate, delta: number): { verdict: Verdict; why: string } {
  if (e.perSeed.length < MIN_SEEDS)
    return { verdict: "inconclusive", why: `${e.perSeed.length} seed(s); a verdict needs ${MIN_SEEDS}` };
  if (e.lo > 0) return { verdict: "reproduced", why: "interval above 0" };
  if (e.hi < 0) return { verdict: "not reproduced", why: "interval below 0 (reversed)" };
  if (e.hi < delta)
    return { verdict: "not reproduced", why: `upper end below δ = ${delta} (smaller than δ)` };
  return { verdict: "inconclusive", why: "interval holds both 0 and δ" };
}

/** All comparisons reproduced → reproduced; any not reproduced → not reproduced; else inconclusive. */
export function combineVerdicts(vs: readonly Verdict[]): Verdict {
  if (vs.length === 0) return "inconclusive";
  if (vs.some((v) => v === "not reproduced")) return "not reproduced";
  return vs.every((v) => v === "reproduced") ? "reproduced" : "inconclusive";
}

export interface GaoFitResult {
  alpha: number;
  beta: number;
  r2: number | null;
  points: number;
  peak: number | null;
}

/** The fitted curve d(α − β log d) at d (0 at d = 0). */
export function gaoCurve(alpha: number, beta: number, d: number): number {
  return d > 0 ? d * (alpha - beta * Math.log(d)) : 0;
}

/**
 * Least squares of lift = α·d − β·d·log d (no intercept: at d = 0 the policy is the SFT
 * start). Points at d = 0 carry no information and are left out; fewer than two points, or
 * a singular system, give α = β = 0 and r2 = null.
 */
export function fitGao(points: readonly { d: number; lift: number }[]): GaoFitResult {
  const fit = fitGaoCurve(points.map((p) => ({ d: p.d, y: p.lift })));
  if (fit !== undefined) return fit;
  const used = points.filter((p) => p.d > 0 && Number.isFinite(p.d) && Number.isFinite(p.lift)).length;
  return { alpha: 0, beta: 0, r2: null, points: used, peak: null };
}
