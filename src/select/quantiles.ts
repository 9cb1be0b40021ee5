// Quantiles in bounded memory: exact while the values fit in a fixed buffer, then a
// DDSketch (relative-accuracy quantile sketch, Masson et al. 2019) holding at most a few
// thousand bins however many values arrive.

import { DDSketch } from "@datadog/sketches-js";

export interface QuantileOptions {
  /** Values kept exactly before switching to the sketch. */
  exactCapacity?: number;
  /** The sketch's relative accuracy on values (DDSketch's guarantee). */
  relativeAccuracy?: number;
}

/** Points of the CDF table used to answer rank queries once in sketch mode. */
const RANK_TABLE_POINTS = 2001;

export class QuantileSummary {
  readonly #capacity: number;
  readonly #accuracy: number;
  #exact: Float64Array | undefined;
  #sorted = false;
  #n = 0;
  #sketch: DDSketch | undefined;
  #rankTable: Float64Array | undefined;

  constructor(options: QuantileOptions = {}) {
    this.#capacity = options.exactCapacity ?? 100_000;
    this.#accuracy = options.relativeAccuracy ?? 0.001;
    this.#exact = new Float64Array(Math.min(1024, this.#capacity));
  }

  get count(): number {
    return this.#n;
  }

  /** True while every value is held, so answers are exact. */
  get exact(): boolean {
    return this.#sketch === undefined;
  }

  add(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`QuantileSummary.add: not a finite number: ${x}`);
    this.#sorted = false;
    this.#rankTable = undefined;
    if (this.#sketch !== undefined) {
      this.#sketch.accept(x);
      this.#n++;
      return;
    }
    let buf = this.#exact!;
    if (this.#n === buf.length) {
      if (this.#n >= this.#capacity) {
        const sketch = new DDSketch({ relativeAccuracy: this.#accuracy });
        for (let i = 0; i < this.#n; i++) sketch.accept(buf[i]!);
        sketch.accept(x);
        this.#sketch = sketch;
        this.#exact = undefined;
        this.#n++;
        return;
      }
      const grown = new Float64Array(Math.min(this.#capacity, buf.length * 2));
      grown.set(buf);
      this.#exact = buf = grown;
    }
    buf[this.#n++] = x;
  }

  #sortedValues(): Float64Array {
    const buf = this.#exact!.subarray(0, this.#n);
    if (!this.#sorted) {
      buf.sort();
      this.#sorted = true;
    }
    return buf;
  }

  /**
   * The value at quantile q in [0, 1]: in exact mode the order statistic of rank
   * ceil(q·n) (so q = keep fraction gives the largest value among the lowest keep·n).
   */
  quantile(q: number): number {
    if (this.#n === 0) return Number.NaN;
    const qq = Math.min(1, Math.max(0, q));
    if (this.#sketch !== undefined) return this.#sketch.getValueAtQuantile(qq);
    const v = this.#sortedValues();
    const k = Math.max(1, Math.ceil(qq * this.#n));
    return v[k - 1]!;
  }

  /** The k-th smallest value (1-based); sketched values once past capacity. */
  orderStatistic(k: number): number {
    if (this.#n === 0) return Number.NaN;
    const kk = Math.min(this.#n, Math.max(1, Math.round(k)));
    if (this.#sketch !== undefined) return this.#sketch.getValueAtQuantile((kk - 0.5) / this.#n);
    return this.#sortedValues()[kk - 1]!;
  }

  /** Counts of values strictly below and equal to x (exact mode only; sketch mode estimates). */
  countBelow(x: number): { below: number; equal: number } {
    if (this.#sketch !== undefined) {
      const r = this.rank(x);
      return { below: Math.round(r * this.#n), equal: 0 };
    }
    const v = this.#sortedValues();
    const lo = lowerBound(v, x);
    const hi = upperBound(v, x);
    return { below: lo, equal: hi - lo };
  }

  /**
   * Rank of x in [0, 1): the fraction of values strictly below it. Tied values share the
   * rank of the lowest of them, so every domain's lowest score has rank 0 (mid-ranks would
   * push a domain whose lowest score is shared by many prompts above the cut entirely).
   */
  rank(x: number): number {
    if (this.#n === 0) return Number.NaN;
    if (this.#sketch === undefined) return this.countBelow(x).below / this.#n;
    if (this.#rankTable === undefined) {
      const t = new Float64Array(RANK_TABLE_POINTS);
      for (let i = 0; i < RANK_TABLE_POINTS; i++) {
        t[i] = this.#sketch.getValueAtQuantile(i / (RANK_TABLE_POINTS - 1));
      }
      this.#rankTable = t;
    }
    return lowerBound(this.#rankTable, x) / (RANK_TABLE_POINTS - 1);
  }
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
