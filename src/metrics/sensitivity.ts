// Judge sensitivity (the paper's Fig. 10 view): for pairs of responses to the same prompt,
// how far apart their scores are as a function of how far apart the texts are. A reward
// that separates near-identical responses (RTV, GenRM with ground truth) has large gaps in
// the low-distance bins; one that does not only separates responses that differ a lot.
import { normalisedEditDistance } from "./diversity.ts";

export interface ScoredResponse {
  response: string;
  score: number;
}

export interface SensitivityBin {
  /** Normalised edit distance range [lo, hi). The last bin includes 1. */
  lo: number;
  hi: number;
  pairs: number;
  meanGap: number | null;
  /** Share of pairs whose scores differ by more than `eps`. */
  separated: number | null;
}

export const DEFAULT_EDGES = [0, 0.05, 0.1, 0.2, 0.4, 0.7, 1] as const;

export class SensitivityBins {
  readonly edges: readonly number[];
  readonly #pairs: number[];
  readonly #gapSum: number[];
  readonly #separated: number[];
  readonly #eps: number;

  constructor(edges: readonly number[] = DEFAULT_EDGES, eps = 1e-9) {
    if (edges.length < 2 || edges.some((e, i) => i > 0 && e <= edges[i - 1]!)) {
      throw new RangeError("bin edges must be at least two increasing numbers");
    }
    this.edges = edges;
    const k = edges.length - 1;
    this.#pairs = new Array<number>(k).fill(0);
    this.#gapSum = new Array<number>(k).fill(0);
    this.#separated = new Array<number>(k).fill(0);
    this.#eps = eps;
  }

  #bin(d: number): number {
    const k = this.edges.length - 1;
    for (let i = 0; i < k; i++) if (d < this.edges[i + 1]!) return i;
    return k - 1;
  }

  /** Adds every pair among one prompt's responses. */
  addGroup(group: readonly ScoredResponse[]): void {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i]!;
        const b = group[j]!;
        const bin = this.#bin(normalisedEditDistance(a.response, b.response));
        const gap = Math.abs(a.score - b.score);
        this.#pairs[bin]!++;
        this.#gapSum[bin]! += gap;
        if (gap > this.#eps) this.#separated[bin]!++;
      }
    }
  }

  result(): SensitivityBin[] {
    return this.#pairs.map((pairs, i) => ({
      lo: this.edges[i]!,
      hi: this.edges[i + 1]!,
      pairs,
      meanGap: pairs === 0 ? null : this.#gapSum[i]! / pairs,
      separated: pairs === 0 ? null : this.#separated[i]! / pairs,
    }));
  }
}
