// Vega-Lite specs for the report's plots: one function per plot, each taking the seeds'
// aggregated curves (aggregate.ts) or the pooled results and the colour table, returning a
// self-contained spec (data inlined as values). Curves are the mean over seeds with a band
// from the lowest to the highest seed. Data is flattened to plain keys because Vega-Lite
// reads dots and brackets in field names as nested access, and names come from data.
import type { TopLevelSpec } from "vega-lite";
import type { AggCurve, Band } from "./aggregate.ts";
import type { GaoFit, PooledResults, SeedResults } from "./results.ts";
import { gaoCurve } from "./stats.ts";

/** Fixed colours for the names the pipeline uses (Okabe–Ito based, distinguishable by most readers). */
const KNOWN_COLOURS: Readonly<Record<string, string>> = {
  rtv: "#009E73",
  "genrm-gt": "#56B4E9",
  "genrm-bon": "#E69F00",
  bt: "#D55E00",
  baseline: "#4D4D4D",
  datascale: "#0072B2",
  "selection-only": "#CC79A7",
  "curriculum-only": "#8C6D31",
};
const SPARE_COLOURS = [
  "#9467BD",
  "#17BECF",
  "#BCBD22",
  "#E377C2",
  "#7F7F7F",
  "#1F77B4",
  "#FF7F0E",
  "#2CA02C",
];

/** A ladder run and its reward source share a colour: `ladder-rtv` is drawn like `rtv`. */
export function colourKey(name: string): string {
  return name.startsWith("ladder-") ? name.slice("ladder-".length) : name;
}

/**
 * One colour per run or source name across every plot: the pipeline's names get fixed
 * colours, any other name the next spare colour in order of first appearance.
 */
export function colourTable(seeds: readonly SeedResults[]): Map<string, string> {
  const keys = seeds.flatMap((r) => [
    ...r.ladder.map((c) => colourKey(c.name)),
    ...r.sensitivity.map((s) => colourKey(s.source)),
    ...r.comparison.map((c) => colourKey(c.name)),
  ]);
  const table = new Map<string, string>();
  for (const k of keys) {
    const fixed = KNOWN_COLOURS[k];
    if (fixed !== undefined) table.set(k, fixed);
  }
  const used = new Set(table.values());
  const spare = SPARE_COLOURS.filter((c) => !used.has(c));
  let next = 0;
  for (const k of keys) {
    if (table.has(k)) continue;
    table.set(k, spare[next % spare.length] ?? "#000000");
    next++;
  }
  return table;
}

type Colours = ReadonlyMap<string, string>;

const WIDTH = 330;
const HEIGHT = 210;
const FONT = "Helvetica, Arial, sans-serif";

/** Shared look: a sober white background, small type, no chart border. */
const CONFIG = {
  background: "white",
  font: FONT,
  view: { stroke: "#dddddd" },
  axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: "#eeeeee" },
  legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 260 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  title: { fontSize: 12, anchor: "start" as const, fontWeight: "bold" as const },
  concat: { spacing: 30 },
};

function runColour(names: readonly string[], colours: Colours, title: string) {
  return {
    field: "run",
    type: "nominal" as const,
    title,
    scale: { domain: [...names], range: names.map((n) => colours.get(colourKey(n)) ?? "#000000") },
    sort: [...names],
  };
}

/** A band row: the mean and the range over seeds (NaN figures are dropped by the caller). */
function bandRow(b: Band): { mean: number; lo: number; hi: number } {
  return { mean: b.mean, lo: b.lo, hi: b.hi };
}

/** Mean line with points over a band from the lowest to the highest seed, one per run. */
function bandLayers(
  x: { field: string; title: string },
  y: { title: string; domain?: [number, number] },
  colour: ReturnType<typeof runColour>,
) {
  const xe = { field: x.field, type: "quantitative" as const, title: x.title };
  const scale = y.domain ? { domain: y.domain } : { zero: false };
  return [
    {
      mark: { type: "area" as const, opacity: 0.15 },
      encoding: {
        x: xe,
        y: { field: "lo", type: "quantitative" as const, title: y.title, scale },
        y2: { field: "hi" },
        color: colour,
      },
    },
    {
      mark: { type: "line" as const, point: { size: 24 }, strokeWidth: 1.8 },
      encoding: {
        x: xe,
        y: { field: "mean", type: "quantitative" as const, title: y.title, scale },
        color: colour,
      },
    },
  ];
}

const finite = (r: { mean: number }) => Number.isFinite(r.mean);

/** A band plot of one figure of the evaluation points against step. */
function stepBands(
  curves: readonly AggCurve[],
  colours: Colours,
  figure: (p: AggCurve["points"][number]) => Band,
  o: { title: string; yTitle: string; width?: number; domain?: [number, number] },
) {
  const names = curves.map((c) => c.name);
  const rows = curves.flatMap((c) =>
    c.points.map((p) => ({ run: c.name, step: p.step, ...bandRow(figure(p)) })),
  );
  return {
    title: o.title,
    width: o.width ?? WIDTH,
    height: HEIGHT,
    data: { values: rows.filter(finite) },
    layer: bandLayers(
      { field: "step", title: "PPO step" },
      { title: o.yTitle, ...(o.domain ? { domain: o.domain } : {}) },
      runColour(names, colours, "run"),
    ),
  };
}

/** (1) Ladder: held-out gold against step. */
export function ladderGoldSpec(ladder: readonly AggCurve[], colours: Colours): TopLevelSpec {
  return {
    config: CONFIG,
    ...stepBands(ladder, colours, (p) => p.heldout, {
      title: "Held-out gold of the policy's samples (band: lowest to highest seed)",
      yTitle: "held-out gold",
      width: WIDTH * 1.4,
    }),
  } as TopLevelSpec;
}

/** (2) Ladder: the proxy (training reward) each run optimises, against step. */
export function ladderProxySpec(ladder: readonly AggCurve[], colours: Colours): TopLevelSpec {
  const names = ladder.map((c) => c.name);
  const rows = ladder.flatMap((c) =>
    c.trainReward.map((t) => ({ run: c.name, step: t.step, ...bandRow(t.reward) })),
  );
  return {
    config: CONFIG,
    title: "Training reward (proxy), moving average",
    width: WIDTH * 1.4,
    height: HEIGHT,
    data: { values: rows.filter(finite) },
    layer: bandLayers(
      { field: "step", title: "PPO step" },
      { title: "mean training reward" },
      runColour(names, colours, "run"),
    ).map((l) => (l.mark.type === "line" ? { ...l, mark: { type: "line" as const, strokeWidth: 1.8 } } : l)),
  } as TopLevelSpec;
}

/**
 * (3) Gao et al.'s view: every seed's evaluations as points (held-out gold lift over the
 * start, and proxy lift) against √KL, with the fitted d(α − β log d) per source.
 */
export function gaoSpec(
  seeds: readonly SeedResults[],
  fits: readonly GaoFit[],
  colours: Colours,
): TopLevelSpec {
  const names = [...new Set(seeds.flatMap((r) => r.ladder.map((c) => c.name)))];
  const points = seeds.flatMap((r) =>
    r.ladder.flatMap((c) => {
      const g0 = c.points[0]?.heldout.overall ?? 0;
      const p0 = c.points[0]?.proxy ?? 0;
      return c.points.map((p) => ({
        run: c.name,
        d: Math.sqrt(Math.max(0, p.kl)),
        gold: p.heldout.overall - g0,
        proxy: p.proxy - p0,
      }));
    }),
  );
  const dMax = Math.max(1e-3, ...points.map((p) => p.d));
  const fitted = fits.flatMap((f) =>
    Array.from({ length: 41 }, (_, i) => {
      const d = (dMax * i) / 40;
      return { run: `ladder-${f.source}`, d, fit: gaoCurve(f.alpha, f.beta, d) };
    }),
  );
  const colour = runColour(names, colours, "run");
  const x = { field: "d", type: "quantitative" as const, title: "√KL(π‖π_ref) per sequence" };
  return {
    config: CONFIG,
    hconcat: [
      {
        title: "Held-out gold lift: every seed's evaluations and the fit d(α − β log d)",
        width: WIDTH,
        height: HEIGHT,
        layer: [
          {
            data: { values: points },
            mark: { type: "point", filled: true, size: 28, opacity: 0.7 },
            encoding: {
              x,
              y: { field: "gold", type: "quantitative", title: "gold − gold at start" },
              color: colour,
            },
          },
          {
            data: { values: fitted },
            mark: { type: "line", strokeWidth: 1.8 },
            encoding: { x, y: { field: "fit", type: "quantitative" }, color: colour },
          },
        ],
      },
      {
        title: "Proxy lift (the run's own reward) at the same evaluations",
        width: WIDTH,
        height: HEIGHT,
        data: { values: points },
        mark: { type: "point", filled: true, size: 28, opacity: 0.7 },
        encoding: {
          x,
          y: { field: "proxy", type: "quantitative", title: "proxy − proxy at start" },
          color: colour,
        },
      },
    ],
  } as TopLevelSpec;
}

/** (4) Judge sensitivity: mean score gap and share of pairs separated per edit-distance bin, over seeds. */
export function sensitivitySpec(seeds: readonly SeedResults[], colours: Colours): TopLevelSpec {
  const names = [...new Set(seeds.flatMap((r) => r.sensitivity.map((s) => s.source)))];
  const cells = new Map<string, { run: string; mid: number; gap: number[]; sep: number[] }>();
  for (const r of seeds)
    for (const s of r.sensitivity)
      for (const b of s.bins) {
        if (b.pairs === 0) continue;
        const key = `${s.source}|${b.lo}`;
        const c = cells.get(key) ?? { run: s.source, mid: (b.lo + b.hi) / 2, gap: [], sep: [] };
        if (b.meanGap !== null) c.gap.push(b.meanGap);
        if (b.separated !== null) c.sep.push(b.separated);
        cells.set(key, c);
      }
  const rows = (f: "gap" | "sep") =>
    [...cells.values()].flatMap((c) =>
      c[f].length === 0 ? [] : [{ run: c.run, mid: c.mid, ...bandRow(bandOf(c[f])) }],
    );
  const colour = runColour(names, colours, "reward source");
  const x = { field: "mid", title: "normalised edit distance (bin centre)" };
  return {
    config: CONFIG,
    hconcat: [
      {
        title: "Mean score gap between two responses",
        width: WIDTH,
        height: HEIGHT,
        data: { values: rows("gap") },
        layer: bandLayers(x, { title: "mean |score(a) − score(b)|" }, colour),
      },
      {
        title: "Share of pairs the source separates",
        width: WIDTH,
        height: HEIGHT,
        data: { values: rows("sep") },
        layer: bandLayers(x, { title: "share separated", domain: [0, 1] }, colour),
      },
    ],
  } as TopLevelSpec;
}

function bandOf(xs: readonly number[]): Band {
  return {
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    lo: Math.min(...xs),
    hi: Math.max(...xs),
    n: xs.length,
  };
}

function domainLabel(d: { domain: string; filtered: boolean }): string {
  return d.filtered ? d.domain : `${d.domain} (kept whole)`;
}

/** (5) Pre-PPO selection per domain: scores of the new pool and how hard the kept prompts are (mean over seeds, range as a rule). */
export function selectionSpec(seeds: readonly SeedResults[]): TopLevelSpec {
  const domains = seeds[0]?.selection.domains ?? [];
  const labels = domains.map(domainLabel);
  const rows = domains.flatMap((d) => {
    const per = seeds.map((r) => r.selection.domains.find((x) => x.domain === d.domain));
    const b = (f: (x: NonNullable<(typeof per)[number]>) => number | null) =>
      bandOf(per.flatMap((x) => (x === undefined || f(x) === null ? [] : [f(x)!])));
    const domain = domainLabel(d);
    const row = (which: string, gold: Band, count: Band) => ({
      domain,
      which,
      ...bandRow(gold),
      count: count.mean,
    });
    return [
      {
        ...row(
          "pool",
          b((x) => x.goldPool),
          b((x) => x.pool),
        ),
        score: b((x) => x.meanScore).mean,
        above: b((x) => x.aboveHalf).mean,
      },
      {
        ...row(
          "kept",
          b((x) => x.goldKept),
          b((x) => x.kept),
        ),
        score: null,
        above: null,
      },
    ];
  });
  const x = {
    field: "domain",
    type: "nominal" as const,
    title: null,
    sort: labels,
    axis: { labelAngle: -30 },
  };
  const which = {
    field: "which",
    type: "nominal" as const,
    title: "prompts",
    scale: { domain: ["pool", "kept"], range: ["#B0B0B0", "#0072B2"] },
    sort: ["pool", "kept"],
  };
  const w = 150;
  const poolBar = (title: string, field: string, yTitle: string) => ({
    title,
    width: w,
    height: HEIGHT,
    transform: [{ filter: "datum.which === 'pool'" }],
    mark: { type: "bar" as const, color: "#7A7A7A" },
    encoding: { x, y: { field, type: "quantitative" as const, title: yTitle, scale: { domain: [0, 1] } } },
  });
  return {
    config: CONFIG,
    data: { values: rows },
    hconcat: [
      poolBar("Mean score of the new pool", "score", "mean reward"),
      poolBar("Share of the pool above 0.5", "above", "share > 0.5"),
      {
        title: "Prompts kept vs pool",
        width: w,
        height: HEIGHT,
        mark: "bar",
        encoding: {
          x,
          xOffset: { field: "which", sort: ["pool", "kept"] },
          y: { field: "count", type: "quantitative", title: "prompts (mean over seeds)" },
          color: which,
        },
      },
      {
        title: "SFT gold, kept vs pool (rule: seed range)",
        width: w,
        height: HEIGHT,
        transform: [{ filter: "isValid(datum.mean)" }],
        layer: [
          {
            mark: "bar",
            encoding: {
              x,
              xOffset: { field: "which", sort: ["pool", "kept"] },
              y: { field: "mean", type: "quantitative", title: "gold", scale: { domain: [0, 1] } },
              color: which,
            },
          },
          {
            mark: { type: "rule", color: "#222222" },
            encoding: {
              x,
              xOffset: { field: "which", sort: ["pool", "kept"] },
              y: { field: "lo", type: "quantitative" },
              y2: { field: "hi" },
            },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** (6) Comparison: held-out gold against step. */
export function comparisonGoldSpec(comparison: readonly AggCurve[], colours: Colours): TopLevelSpec {
  return {
    config: CONFIG,
    ...stepBands(comparison, colours, (p) => p.heldout, {
      title: "Held-out gold of the policy's samples (band: lowest to highest seed)",
      yTitle: "held-out gold",
      width: WIDTH * 1.4,
    }),
  } as TopLevelSpec;
}

/** The domains a set of curves was evaluated on, in order of first appearance. */
export function evalDomains(curves: readonly AggCurve[]): string[] {
  return [...new Set(curves.flatMap((c) => c.points.flatMap((p) => Object.keys(p.domains))))];
}

/** (7) Comparison per domain: held-out gold against step, one panel per domain. */
export function comparisonDomainsSpec(comparison: readonly AggCurve[], colours: Colours): TopLevelSpec {
  const domains = evalDomains(comparison);
  return {
    config: CONFIG,
    hconcat: domains.map((d) => ({
      ...stepBands(comparison, colours, (p) => p.domains[d] ?? bandOf([Number.NaN]), {
        title: `${d}`,
        yTitle: "held-out gold",
        width: 190,
      }),
      height: 150,
    })),
  } as TopLevelSpec;
}

/** (8) Diversity: mean token entropy and max pairwise edit distance against step. */
export function diversitySpec(curves: readonly AggCurve[], colours: Colours): TopLevelSpec {
  return {
    config: CONFIG,
    hconcat: [
      stepBands(curves, colours, (p) => p.entropy, {
        title: "Mean token entropy of samples",
        yTitle: "entropy (nats)",
      }),
      stepBands(curves, colours, (p) => p.edit, {
        title: "Max pairwise edit distance among samples",
        yTitle: "normalised edit distance",
      }),
    ],
  } as TopLevelSpec;
}

/**
 * (9) Every comparison of every finding: the pooled effect (dot), its 95 % interval (bar)
 * and each seed (small circles), against 0 and δ (dashed).
 */
export function effectsSpec(pooled: PooledResults): TopLevelSpec {
  const comparisons = pooled.findings.flatMap((f) => f.comparisons);
  const labels = comparisons.map((c) => c.label);
  const rows = comparisons.map((c) => ({
    label: c.label,
    mean: c.effect.mean,
    lo: c.effect.lo,
    hi: c.effect.hi,
    verdict: c.verdict,
    delta: c.delta,
  }));
  const seeds = comparisons.flatMap((c) => c.effect.perSeed.map((s) => ({ label: c.label, value: s.value })));
  const y = {
    field: "label",
    type: "nominal" as const,
    title: null,
    sort: labels,
    axis: { labelLimit: 420 },
  };
  const colour = {
    field: "verdict",
    type: "nominal" as const,
    title: "verdict",
    scale: {
      domain: ["reproduced", "not reproduced", "inconclusive"],
      range: ["#14632b", "#8a1c1c", "#777777"],
    },
  };
  const delta = comparisons[0]?.delta ?? 0.05;
  return {
    config: CONFIG,
    title: "Effects in the paper's direction: pooled mean, 95 % interval, each seed (gold as a fraction)",
    width: 360,
    height: Math.max(60, 22 * comparisons.length),
    layer: [
      {
        data: { values: [{ x: 0 }] },
        mark: { type: "rule", color: "#444444" },
        encoding: { x: { field: "x", type: "quantitative" } },
      },
      {
        data: { values: [{ x: delta }] },
        mark: { type: "rule", color: "#999999", strokeDash: [4, 3] },
        encoding: { x: { field: "x", type: "quantitative" } },
      },
      {
        data: { values: rows },
        mark: { type: "rule", strokeWidth: 2 },
        encoding: {
          y,
          x: { field: "lo", type: "quantitative", title: "effect" },
          x2: { field: "hi" },
          color: colour,
        },
      },
      {
        data: { values: seeds },
        mark: { type: "point", size: 20, color: "#555555" },
        encoding: { y, x: { field: "value", type: "quantitative" } },
      },
      {
        data: { values: rows },
        mark: { type: "point", filled: true, size: 60 },
        encoding: { y, x: { field: "mean", type: "quantitative" }, color: colour },
      },
    ],
  } as TopLevelSpec;
}
