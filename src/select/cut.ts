// From per-prompt scores to a selection rule: per-domain statistics, normalisation within
// each domain, and one cut over the normalised scores that keeps the lowest `keep` fraction
// of the candidates. Works in passes over the scores log, holding only per-domain summaries.

import { parseJsonlLine } from "../io/jsonl.ts";
import { lineBatches } from "./lines.ts";
import { QuantileSummary } from "./quantiles.ts";
import {
  F_DOMAIN,
  F_HASH,
  F_MEAN,
  F_STATUS,
  F_VAR,
  FIELDS,
  SCORED,
  ScoreCacheWriter,
  scoreCacheBlocks,
} from "./scorecache.ts";
import { type Normalisation, ScoreRecord } from "./types.ts";

export const HISTOGRAM_BINS = 20;
/** Relative accuracy of the quantile sketches used once values exceed the exact capacity. */
export const SKETCH_ACCURACY = 0.001;

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

function summary(exactCapacity: number | undefined): QuantileSummary {
  return new QuantileSummary({
    relativeAccuracy: SKETCH_ACCURACY,
    ...(exactCapacity === undefined ? {} : { exactCapacity }),
  });
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
    quantiles: summary(exactCapacity),
    m2: 0,
  };
}

export function isCandidate(r: ScoreRecord, minVariance: number | undefined): boolean {
  return r.status === "scored" && (minVariance === undefined || (r.var ?? 0) >= minVariance);
}

/**
 * The scores log in batches. A log that an earlier process wrote (a resumed run) is
 * validated against the schema on its first pass; lines this process wrote are trusted.
 */
export async function* scoreBatches(path: string, validate = false): AsyncGenerator<ScoreRecord[]> {
  for await (const chunk of lineBatches(path)) {
    const out: ScoreRecord[] = [];
    for (let i = 0; i < chunk.texts.length; i++) {
      const text = chunk.texts[i];
      if (text === "") continue;
      if (text === null || text === undefined)
        throw new Error(`${path}:${chunk.first + i}: scores log is damaged`);
      if (!validate) {
        out.push(JSON.parse(text) as ScoreRecord);
        continue;
      }
      const item = parseJsonlLine(text, chunk.first + i, path, ScoreRecord);
      if (item === undefined) continue;
      if (!item.ok) throw new Error(`scores log is damaged: ${item.error}`);
      out.push(item.value);
    }
    yield out;
  }
}

/**
 * Per-domain statistics built record by record in log order, writing the log's binary copy
 * (`cachePath`, see scorecache.ts) for the later passes as it goes; domain indices in the
 * copy follow the stats map's insertion order. `seed` is the tie-break's, so the copy holds
 * each id's tie hash rather than the id. Fed either by pass 1 as it appends to the log (a
 * fresh run: the log is not parsed again) or by a pass over the log (a resumed run).
 */
export class DomainStatsBuilder {
  readonly stats = new Map<string, DomainStats>();
  readonly #index = new Map<string, number>();
  readonly #writer: ScoreCacheWriter;
  readonly #minVariance: number | undefined;
  readonly #exactCapacity: number | undefined;
  readonly #seed: number;

  private constructor(
    writer: ScoreCacheWriter,
    minVariance: number | undefined,
    exactCapacity: number | undefined,
    seed: number,
  ) {
    this.#writer = writer;
    this.#minVariance = minVariance;
    this.#exactCapacity = exactCapacity;
    this.#seed = seed;
  }

  static async create(
    cache: { path: string; seed: number },
    minVariance: number | undefined,
    exactCapacity: number | undefined,
  ): Promise<DomainStatsBuilder> {
    const writer = await ScoreCacheWriter.create(cache.path);
    return new DomainStatsBuilder(writer, minVariance, exactCapacity, cache.seed);
  }

  /** Takes the next record of the log; the promise, when there is one, must be awaited. */
  add(r: ScoreRecord): Promise<void> | undefined {
    let d = -1;
    if (r.domain !== undefined) {
      d = this.#index.get(r.domain) ?? -1;
      if (d === -1) {
        d = this.#index.size;
        this.#index.set(r.domain, d);
        this.stats.set(r.domain, newStats(r.domain, this.#exactCapacity));
      }
      this.#count(this.stats.get(r.domain)!, r);
    }
    return this.#writer.add(r, d, r.id === undefined ? -1 : tieHash(this.#seed, r.id));
  }

  #count(s: DomainStats, r: ScoreRecord): void {
    if (r.status === "passthrough") s.passthrough++;
    else if (r.status === "error") s.errors++;
    if (r.status !== "scored" || r.mean === undefined) return;
    s.scored++;
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(r.mean * HISTOGRAM_BINS)));
    s.histogram[bin]!++;
    if (!isCandidate(r, this.#minVariance)) {
      s.lowVariance++;
      return;
    }
    s.candidates++;
    s.min = Math.min(s.min, r.mean);
    s.max = Math.max(s.max, r.mean);
    const delta = r.mean - s.mean;
    s.mean += delta / s.candidates;
    s.m2 += delta * (r.mean - s.mean);
    s.quantiles.add(r.mean);
  }

  /** Closes the cache; the stats are complete once the whole log has been added. */
  async finish(): Promise<Map<string, DomainStats>> {
    await this.#writer.close();
    for (const s of this.stats.values()) s.std = s.candidates > 0 ? Math.sqrt(s.m2 / s.candidates) : 0;
    return this.stats;
  }
}

/** Per-domain statistics (and the binary cache) in one pass over the scores log. */
export async function domainStats(
  scoresPath: string,
  minVariance: number | undefined,
  exactCapacity: number | undefined,
  validate: boolean,
  cache: { path: string; seed: number },
): Promise<Map<string, DomainStats>> {
  const builder = await DomainStatsBuilder.create(cache, minVariance, exactCapacity);
  try {
    for await (const rs of scoreBatches(scoresPath, validate))
      for (const r of rs) {
        const pending = builder.add(r);
        if (pending !== undefined) await pending;
      }
  } finally {
    await builder.finish();
  }
  return builder.stats;
}

/**
 * The normalised score of every candidate in the score cache, with its tie hash, in log
 * order (the same candidates, in the same order, as `isCandidate` over the log).
 */
async function forEachCandidate(
  cachePath: string,
  stats: Map<string, DomainStats>,
  o: { normalisation: Normalisation; minVariance?: number },
  visit: (normalised: number, hash: number) => boolean | undefined,
): Promise<void> {
  const byIndex = [...stats.values()];
  const minVariance = o.minVariance;
  for await (const b of scoreCacheBlocks(cachePath))
    for (let at = 0; at < b.length; at += FIELDS) {
      if (b[at + F_STATUS] !== SCORED) continue;
      const d = b[at + F_DOMAIN]!;
      const mean = b[at + F_MEAN]!;
      if (d < 0 || Number.isNaN(mean)) continue;
      // isCandidate: a missing variance counts as 0.
      if (minVariance !== undefined) {
        const v = b[at + F_VAR]!;
        if ((Number.isNaN(v) ? 0 : v) < minVariance) continue;
      }
      if (visit(normalise(o.normalisation, byIndex[d]!, mean), b[at + F_HASH]!) === false) return;
    }
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
  cachePath: string,
  stats: Map<string, DomainStats>,
  o: {
    normalisation: Normalisation;
    keep: number;
    minVariance?: number;
    exactCapacity?: number;
    seed: number;
  },
): Promise<CutRule> {
  const all = summary(o.exactCapacity);
  await forEachCandidate(cachePath, stats, o, (v) => {
    all.add(v);
    return undefined;
  });
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
  rule.cut = all.orderStatistic(target);
  if (!all.exact) rule.cut = await snapCut(cachePath, stats, o, rule.cut, target);
  // Count exactly around the cut (the quantile may be sketched) so that ties at the cut are
  // shared out to hit the target: discrete rewards (e.g. 0/1 over K samples) tie a lot.
  // The ties kept are those with the smallest hashes, so the count is exact when they fit.
  const ties = summary(o.exactCapacity);
  await forEachCandidate(cachePath, stats, o, (v, hash) => {
    if (v < rule.cut) rule.below++;
    else if (v === rule.cut) {
      rule.atCut++;
      ties.add(hash);
    }
    return undefined;
  });
  const need = target - rule.below;
  rule.tieHashCut = need <= 0 ? -1 : ties.orderStatistic(need);
  return rule;
}

/** Distinct values kept while locating the exact cut near a sketched one. */
const SNAP_CAPACITY = 1_000_000;

/**
 * A sketched quantile is only near a data value; with discrete rewards the exact cut is a
 * value many prompts share. One pass counts the values below a window around the sketched
 * cut (wide enough for the sketch's accuracy guarantee) and tallies the distinct values
 * inside it, from which the value of rank `target` is read off exactly. Falls back to the
 * sketched value if the window misses it or holds too many distinct values.
 */
async function snapCut(
  cachePath: string,
  stats: Map<string, DomainStats>,
  o: { normalisation: Normalisation; minVariance?: number },
  approx: number,
  target: number,
): Promise<number> {
  const half = 4 * SKETCH_ACCURACY * Math.abs(approx) + 1e-9;
  const lo = approx - half;
  const hi = approx + half;
  let below = 0;
  const inside = new Map<number, number>();
  let overflow = false;
  await forEachCandidate(cachePath, stats, o, (v) => {
    if (v < lo) below++;
    else if (v <= hi) {
      inside.set(v, (inside.get(v) ?? 0) + 1);
      if (inside.size > SNAP_CAPACITY) {
        overflow = true;
        return false;
      }
    }
    return undefined;
  });
  if (overflow) return approx;
  if (below >= target) return approx;
  let seen = below;
  for (const v of [...inside.keys()].sort((a, b) => a - b)) {
    seen += inside.get(v)!;
    if (seen >= target) return v;
  }
  return approx;
}

/** The raw (unnormalised) score at the cut for one domain, for the report. */
export function rawCut(rule: CutRule, s: DomainStats): number {
  if (Number.isNaN(rule.cut) || s.candidates === 0) return Number.NaN;
  if (rule.normalisation === "none") return rule.cut;
  if (rule.normalisation === "zscore") return s.mean + rule.cut * s.std;
  return s.quantiles.quantile(rule.cut);
}
