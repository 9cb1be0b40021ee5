// From per-prompt scores to a selection rule: per-domain statistics, normalisation within
// each domain, and one cut over the normalised scores that keeps the lowest `keep` fraction
// of the candidates. Works in passes over the scores log, holding only per-domain summaries.

import { readJsonl } from "../io/jsonl.ts";
import { QuantileSummary } from "./quantiles.ts";
import { type Normalisation, ScoreRecord } from "./types.ts";

export const HISTOGRAM_BINS = 20;

export interface DomainStats {
  domain: string;
  scored: number;
  candidates: number;
  lowVariance: number;
  errors: number;
  passthrough: number;
  /** Mean and standard deviation of per-prompt mean scores over the candidates. */
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Counts of per-prompt mean scores in HISTOGRAM_BINS equal bins over [0, 1] (clamped). */
  histogram: number[];
  /** Exact or sketched distribution of candidate scores, for rank normalisation. */
  quantiles: QuantileSummary;
  /** Running sums (Welford) behind mean/std. */
  m2: number;
}

export interface CutRule {
  normalisation: Normalisation;
  keep: number;
  candidates: number;
  target: number;
  /** Normalised score at the cut: below is kept; at it, ids whose tie hash is <= `tieHashCut`. */
  cut: number;
  tieHashCut: number;
  below: number;
  atCut: number;
  exact: boolean;
  seed: number;
}

function newStats(domain: string, exactCapacity: number | undefined): DomainStats {
  return {
    domain,
    scored: 0,
    candidates: 0,
    lowVariance: 0,
    errors: 0,
    passthrough: 0,
    mean: 0,
    std: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    histogram: new Array<number>(HISTOGRAM_BINS).fill(0),
    quantiles: new QuantileSummary(exactCapacity === undefined ? {} : { exactCapacity }),
    m2: 0,
  };
}

export function isCandidate(r: ScoreRecord, minVariance: number | undefined): boolean {
  return r.status === "scored" && (minVariance === undefined || (r.var ?? 0) >= minVariance);
}

/**
 * Streams the scores log. The first pass validates it against the schema; later passes
 * over the same file in the same job skip the (costly) validation.
 */
export async function* scoreRecords(path: string, validate = false): AsyncGenerator<ScoreRecord> {
  const options = validate ? { schema: ScoreRecord } : {};
  for await (const item of readJsonl<ScoreRecord>(path, options)) {
    if (!item.ok) throw new Error(`scores log is damaged: ${item.error}`);
    yield item.value;
  }
}

export async function domainStats(
  scoresPath: string,
  minVariance: number | undefined,
  exactCapacity?: number,
): Promise<Map<string, DomainStats>> {
  const stats = new Map<string, DomainStats>();
  const of = (d: string): DomainStats => {
    let s = stats.get(d);
    if (s === undefined) {
      s = newStats(d, exactCapacity);
      stats.set(d, s);
    }
    return s;
  };
  for await (const r of scoreRecords(scoresPath, true)) {
    if (r.domain === undefined) continue;
    const s = of(r.domain);
    if (r.status === "passthrough") s.passthrough++;
    else if (r.status === "error") s.errors++;
    if (r.status !== "scored" || r.mean === undefined) continue;
    s.scored++;
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(r.mean * HISTOGRAM_BINS)));
    s.histogram[bin]!++;
    if (!isCandidate(r, minVariance)) {
      s.lowVariance++;
      continue;
    }
    s.candidates++;
    s.min = Math.min(s.min, r.mean);
    s.max = Math.max(s.max, r.mean);
    const delta = r.mean - s.mean;
    s.mean += delta / s.candidates;
    s.m2 += delta * (r.mean - s.mean);
    s.quantiles.add(r.mean);
  }
  for (const s of stats.values()) s.std = s.candidates > 0 ? Math.sqrt(s.m2 / s.candidates) : 0;
  return stats;
}

/** A prompt's score made comparable across domains. */
export function normalise(method: Normalisation, s: DomainStats, mean: number): number {
  if (method === "none") return mean;
  if (method === "rank") return s.quantiles.rank(mean);
  return s.std > 0 ? (mean - s.mean) / s.std : 0;
}

/** 32-bit FNV-1a of the seed and id, in [0, 1): the deterministic tie-break at the cut. */
export function tieHash(seed: number, id: string | number): number {
  const text = `${seed}:${typeof id}:${id}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}

export function keeps(rule: CutRule, normalised: number, id: string | number): boolean {
  if (rule.target === 0) return false;
  if (normalised < rule.cut) return true;
  return normalised === rule.cut && tieHash(rule.seed, id) <= rule.tieHashCut;
}

export async function computeCut(
  scoresPath: string,
  stats: Map<string, DomainStats>,
  o: {
    normalisation: Normalisation;
    keep: number;
    minVariance?: number;
    exactCapacity?: number;
    seed: number;
  },
): Promise<CutRule> {
  const all = new QuantileSummary(o.exactCapacity === undefined ? {} : { exactCapacity: o.exactCapacity });
  for await (const r of scoreRecords(scoresPath)) {
    if (!isCandidate(r, o.minVariance) || r.domain === undefined) continue;
    all.add(normalise(o.normalisation, stats.get(r.domain)!, r.mean!));
  }
  const candidates = all.count;
  const target = Math.round(o.keep * candidates);
  const rule: CutRule = {
    normalisation: o.normalisation,
    keep: o.keep,
    candidates,
    target,
    cut: Number.NaN,
    tieHashCut: -1,
    below: 0,
    atCut: 0,
    exact: all.exact,
    seed: o.seed,
  };
  if (target === 0) return rule;
  rule.cut = all.quantile(target / candidates);
  // Count exactly around the cut (the quantile may be sketched) so that ties at the cut are
  // shared out to hit the target: discrete rewards (e.g. 0/1 over K samples) tie a lot.
  // The ties kept are those with the smallest hashes, so the count is exact when they fit.
  const ties = new QuantileSummary(o.exactCapacity === undefined ? {} : { exactCapacity: o.exactCapacity });
  for await (const r of scoreRecords(scoresPath)) {
    if (!isCandidate(r, o.minVariance) || r.domain === undefined) continue;
    const v = normalise(o.normalisation, stats.get(r.domain)!, r.mean!);
    if (v < rule.cut) rule.below++;
    else if (v === rule.cut) {
      rule.atCut++;
      ties.add(tieHash(o.seed, r.id!));
    }
  }
  const need = target - rule.below;
  rule.tieHashCut = need <= 0 ? -1 : ties.orderStatistic(need);
  return rule;
}

/** The raw (unnormalised) score at the cut for one domain, for the report. */
export function rawCut(rule: CutRule, s: DomainStats): number {
  if (Number.isNaN(rule.cut)) return Number.NaN;
  if (rule.normalisation === "none") return rule.cut;
  if (rule.normalisation === "zscore") return s.mean + rule.cut * s.std;
  return s.quantiles.quantile(rule.cut);
}
