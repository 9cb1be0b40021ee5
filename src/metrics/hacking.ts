// Reward-hacking monitors over a training run: proxy reward against a gold (verifier)
// reward per domain, "rose then fell" detection on held-out scores, and the gold-vs-√KL
// curve of Gao et al. (2023), gold(d) = d(α − β log d) with d = √KL.

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = Math.min(x.length, y.length);
  if (n < 2) return Number.NaN;
  const mx = mean(x.slice(0, n));
  const my = mean(y.slice(0, n));
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/** Average ranks (ties share the mean rank), 1-based. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(ranks(x), ranks(y));
}

export interface PeakResult {
  peakStep: number;
  peak: number;
  first: number;
  last: number;
  /** peak − last. */
  drop: number;
  /** The score rose by more than `minRise` to a peak before the end, then fell by more than `minDrop`. */
  roseThenFell: boolean;
}

/**
 * Held-out score peak detection. A moving average over `window` points smooths evaluation
 * noise before the peak is located; the raw values are reported.
 */
export function detectPeak(
  series: readonly { step: number; score: number }[],
  options: { minRise?: number; minDrop?: number; window?: number } = {},
): PeakResult | undefined {
  if (series.length === 0) return undefined;
  const s = [...series].sort((a, b) => a.step - b.step);
  const w = Math.max(1, options.window ?? 1);
  const smooth = s.map((_, i) => mean(s.slice(Math.max(0, i - w + 1), i + 1).map((p) => p.score)));
  let at = 0;
  for (let i = 1; i < smooth.length; i++) if (smooth[i]! > smooth[at]!) at = i;
  const peak = smooth[at]!;
  const first = smooth[0]!;
  const last = smooth[smooth.length - 1]!;
  const minRise = options.minRise ?? 0;
  const minDrop = options.minDrop ?? 0;
  return {
    peakStep: s[at]!.step,
    peak,
    first,
    last,
    drop: peak - last,
    roseThenFell: at < s.length - 1 && peak - first > minRise && peak - last > minDrop,
  };
}

export interface GaoFit {
  alpha: number;
  beta: number;
  /** Coefficient of determination of the fit on the points given. */
  r2: number;
  /** √KL at which the fitted gold score peaks: exp(α/β − 1) when β > 0. */
  peakD: number | null;
  points: number;
}

/**
 * Least squares of y = α·d − β·d·log d (linear in α, β; no intercept: at d = 0 the policy is
 * its start) over points with d > 0. Undefined with fewer than two such points or a singular
 * system. R² is null when every y is equal. The one fit behind both Gao readers.
 */
export function fitGaoCurve(
  points: readonly { d: number; y: number }[],
): { alpha: number; beta: number; r2: number | null; peak: number | null; points: number } | undefined {
  const use = points.filter((p) => p.d > 0 && Number.isFinite(p.d) && Number.isFinite(p.y));
  if (use.length < 2) return undefined;
  let a11 = 0;
  let a12 = 0;
  let a22 = 0;
  let b1 = 0;
  let b2 = 0;
  for (const { d, y } of use) {
    const f2 = -d * Math.log(d);
    a11 += d * d;
    a12 += d * f2;
    a22 += f2 * f2;
    b1 += d * y;
    b2 += f2 * y;
  }
  const det = a11 * a22 - a12 * a12;
  if (Math.abs(det) < 1e-12 * Math.max(1, a11 * a22)) return undefined;
  const alpha = (b1 * a22 - b2 * a12) / det;
  const beta = (a11 * b2 - a12 * b1) / det;
  const my = mean(use.map((p) => p.y));
  let ssRes = 0;
  let ssTot = 0;
  for (const { d, y } of use) {
    ssRes += (y - d * (alpha - beta * Math.log(d))) ** 2;
    ssTot += (y - my) ** 2;
  }
  return {
    alpha,
    beta,
    r2: ssTot > 0 ? 1 - ssRes / ssTot : null,
    peak: beta > 0 ? Math.exp(alpha / beta - 1) : null,
    points: use.length,
  };
}

/**
 * Least squares for gold = α·d − β·d·log d over points with d = √KL > 0 (fitGaoCurve).
 * Undefined with fewer than 3 usable points or a singular system.
 */
export function fitGao(points: readonly { kl: number; gold: number }[]): GaoFit | undefined {
  const use = points.filter((p) => p.kl > 0 && Number.isFinite(p.gold));
  if (use.length < 3) return undefined;
  const fit = fitGaoCurve(use.map((p) => ({ d: Math.sqrt(p.kl), y: p.gold })));
  if (fit === undefined) return undefined;
  return { alpha: fit.alpha, beta: fit.beta, r2: fit.r2 ?? Number.NaN, peakD: fit.peak, points: fit.points };
}

/** One point of a training log: a domain's mean proxy reward at a step, and what else is known. */
export interface RunPoint {
  step: number;
  domain: string;
  proxy: number;
  gold?: number;
  heldout?: number;
  kl?: number;
}

export interface DomainHacking {
  domain: string;
  points: number;
  /** Mean of proxy − gold over points with a gold score, first and last quarter of steps. */
  divergenceEarly: number | null;
  divergenceLate: number | null;
  pearson: number | null;
  spearman: number | null;
  proxyTrend: number | null;
  heldout: PeakResult | null;
  gao: GaoFit | null;
}

const nn = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function hackingReport(
  points: readonly RunPoint[],
  options: { minRise?: number; minDrop?: number; window?: number } = {},
): DomainHacking[] {
  const byDomain = new Map<string, RunPoint[]>();
  for (const p of points) {
    const list = byDomain.get(p.domain) ?? [];
    list.push(p);
    byDomain.set(p.domain, list);
  }
  return [...byDomain.keys()].sort().map((domain) => {
    const ps = byDomain.get(domain)!.sort((a, b) => a.step - b.step);
    const withGold = ps.filter((p) => p.gold !== undefined);
    const q = Math.max(1, Math.floor(withGold.length / 4));
    const div = (xs: RunPoint[]) => mean(xs.map((p) => p.proxy - p.gold!));
    const heldSeries = ps
      .filter((p) => p.heldout !== undefined)
      .map((p) => ({ step: p.step, score: p.heldout! }));
    const gao = fitGao(
      ps.filter((p) => p.kl !== undefined && p.gold !== undefined).map((p) => ({ kl: p.kl!, gold: p.gold! })),
    );
    return {
      domain,
      points: ps.length,
      divergenceEarly: withGold.length === 0 ? null : nn(div(withGold.slice(0, q))),
      divergenceLate: withGold.length === 0 ? null : nn(div(withGold.slice(-q))),
      pearson: nn(
        pearson(
          withGold.map((p) => p.proxy),
          withGold.map((p) => p.gold!),
        ),
      ),
      spearman: nn(
        spearman(
          withGold.map((p) => p.proxy),
          withGold.map((p) => p.gold!),
        ),
      ),
      proxyTrend: nn(
        pearson(
          ps.map((p) => p.step),
          ps.map((p) => p.proxy),
        ),
      ),
      heldout: detectPeak(heldSeries, options) ?? null,
      gao: gao ?? null,
    };
  });
}
