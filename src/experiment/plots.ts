// Vega-Lite specs for the report's plots: one function per plot, each taking the results and
// the colour table and returning a self-contained spec (data inlined as values). Data is
// flattened to plain keys here because Vega-Lite reads dots and brackets in field names as
// nested access, and run or domain names come from data.
import type { TopLevelSpec } from "vega-lite";
import type { ExperimentResults, RunCurve } from "./results.ts";

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
export function colourTable(r: ExperimentResults): Map<string, string> {
  const keys = [
    ...r.ladder.map((c) => colourKey(c.name)),
    ...r.sensitivity.map((s) => colourKey(s.source)),
    ...r.comparison.map((c) => colourKey(c.name)),
  ];
  const table = new Map<string, string>();
  const used = new Set<string>();
  for (const k of keys) {
    const fixed = KNOWN_COLOURS[k];
    if (fixed !== undefined && !table.has(k)) {
      table.set(k, fixed);
      used.add(fixed);
    }
  }
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

function colourScale(names: readonly string[], colours: Colours) {
  return { domain: [...names], range: names.map((n) => colours.get(colourKey(n)) ?? "#000000") };
}

function runColour(names: readonly string[], colours: Colours, title: string) {
  return {
    field: "run",
    type: "nominal" as const,
    title,
    scale: colourScale(names, colours),
    sort: [...names],
  };
}

function byStep(c: RunCurve): RunCurve["points"] {
  return [...c.points].sort((a, b) => a.step - b.step);
}

/** Points-and-lines of `y` against `x`, one line per run. */
function lineLayer(
  y: { field: string; title: string; domain?: [number, number] },
  x: { field: string; title: string },
) {
  return {
    mark: { type: "line" as const, point: { size: 24 }, strokeWidth: 1.8 },
    encoding: {
      x: { field: x.field, type: "quantitative" as const, title: x.title },
      y: {
        field: y.field,
        type: "quantitative" as const,
        title: y.title,
        ...(y.domain ? { scale: { domain: y.domain } } : { scale: { zero: false } }),
      },
    },
  };
}

/** (1) Ladder: gold vs step, and the same curves as lift normalised to each curve's peak. */
export function ladderGoldSpec(r: ExperimentResults, colours: Colours): TopLevelSpec {
  const names = r.ladder.map((c) => c.name);
  const rows: { run: string; step: number; gold: number; lift: number | null }[] = [];
  for (const c of r.ladder) {
    const pts = byStep(c);
    const start = pts[0]?.gold.overall ?? 0;
    const peak = Math.max(...pts.map((p) => p.gold.overall));
    // A run that never rose above its start has no lift to normalise; it is left out of panel 2.
    for (const p of pts)
      rows.push({
        run: c.name,
        step: p.step,
        gold: p.gold.overall,
        lift: peak > start ? (p.gold.overall - start) / (peak - start) : null,
      });
  }
  const colour = runColour(names, colours, "run");
  return {
    config: CONFIG,
    data: { values: rows },
    hconcat: [
      {
        title: "Gold accuracy (policy samples)",
        width: WIDTH,
        height: HEIGHT,
        ...merge(lineLayer({ field: "gold", title: "gold accuracy" }, { field: "step", title: "PPO step" }), {
          color: colour,
        }),
      },
      {
        title: "Gold lift, normalised to each curve's peak",
        width: WIDTH,
        height: HEIGHT,
        transform: [{ filter: "isValid(datum.lift)" }],
        ...merge(
          lineLayer({ field: "lift", title: "lift / peak lift" }, { field: "step", title: "PPO step" }),
          { color: colour },
        ),
      },
    ],
  };
}

/** Adds encodings to a single-layer spec. */
function merge<T extends { mark: unknown; encoding: Record<string, unknown> }>(
  layer: T,
  extra: Record<string, unknown>,
): T {
  return { ...layer, encoding: { ...layer.encoding, ...extra } };
}

/** Moving average over the previous `w` values: per-step training reward is too noisy to read raw. */
function movingAverage(xs: readonly number[], w: number): number[] {
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

/** (2a) Ladder: the proxy (training reward) each run optimises, against step. */
export function ladderProxySpec(r: ExperimentResults, colours: Colours): TopLevelSpec {
  const names = r.ladder.map((c) => c.name);
  const rows: { run: string; step: number; reward: number }[] = [];
  for (const c of r.ladder) {
    const tr = [...c.trainReward].sort((a, b) => a.step - b.step);
    const smooth = movingAverage(
      tr.map((t) => t.reward),
      smoothingWindow(tr.length),
    );
    tr.forEach((t, i) => {
      rows.push({ run: c.name, step: t.step, reward: smooth[i]! });
    });
  }
  return {
    config: CONFIG,
    data: { values: rows },
    title: "Training reward (proxy), moving average",
    width: WIDTH * 1.4,
    height: HEIGHT,
    mark: { type: "line", strokeWidth: 1.8 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "PPO step" },
      y: { field: "reward", type: "quantitative", title: "mean training reward", scale: { zero: false } },
      color: runColour(names, colours, "run"),
    },
  };
}

/** (2b) Ladder, Gao et al.'s view: gold and proxy at each evaluation against sqrt(KL). */
export function ladderKlSpec(r: ExperimentResults, colours: Colours): TopLevelSpec {
  const names = r.ladder.map((c) => c.name);
  const rows: { run: string; d: number; value: number; measure: string }[] = [];
  for (const c of r.ladder)
    for (const p of byStep(c)) {
      // Sampled KL estimates can dip just below 0; the distance is clamped at 0.
      const d = Math.sqrt(Math.max(0, p.kl));
      rows.push({ run: c.name, d, value: p.gold.overall, measure: "gold" });
      rows.push({ run: c.name, d, value: p.proxy, measure: "proxy" });
    }
  return {
    config: CONFIG,
    data: { values: rows },
    title: "Gold (solid) and proxy (dashed) against distance from the SFT policy",
    width: WIDTH * 1.4,
    height: HEIGHT,
    // Points in a layer of their own: on a line mark with points, the dash legend would show dots.
    encoding: {
      x: { field: "d", type: "quantitative", title: "√KL(π‖π_ref) per sequence" },
      y: { field: "value", type: "quantitative", title: "score", scale: { zero: false } },
      color: runColour(names, colours, "run"),
      detail: { field: "measure", type: "nominal" },
    },
    layer: [
      {
        mark: { type: "line", strokeWidth: 1.8 },
        encoding: {
          strokeDash: {
            field: "measure",
            type: "nominal",
            title: "measure",
            scale: {
              domain: ["gold", "proxy"],
              range: [
                [1, 0],
                [5, 3],
              ],
            },
            legend: { symbolType: "stroke", symbolStrokeColor: "#444444", symbolStrokeWidth: 2 },
          },
        },
      },
      { mark: { type: "point", filled: true, size: 24 } },
    ],
  };
}

/** (3) Judge sensitivity: mean score gap and share of pairs separated, per edit-distance bin. */
export function sensitivitySpec(r: ExperimentResults, colours: Colours): TopLevelSpec {
  const names = r.sensitivity.map((s) => s.source);
  const rows: { run: string; mid: number; gap: number | null; separated: number | null; pairs: number }[] =
    [];
  for (const s of r.sensitivity)
    for (const b of s.bins)
      if (b.pairs > 0)
        rows.push({
          run: s.source,
          mid: (b.lo + b.hi) / 2,
          gap: b.meanGap,
          separated: b.separated,
          pairs: b.pairs,
        });
  const colour = runColour(names, colours, "reward source");
  const x = { field: "mid", title: "normalised edit distance (bin centre)" };
  return {
    config: CONFIG,
    data: { values: rows },
    hconcat: [
      {
        title: "Mean score gap between two responses",
        width: WIDTH,
        height: HEIGHT,
        transform: [{ filter: "isValid(datum.gap)" }],
        ...merge(lineLayer({ field: "gap", title: "mean |score(a) − score(b)|" }, x), { color: colour }),
      },
      {
        title: "Share of pairs the source separates",
        width: WIDTH,
        height: HEIGHT,
        transform: [{ filter: "isValid(datum.separated)" }],
        ...merge(lineLayer({ field: "separated", title: "share separated", domain: [0, 1] }, x), {
          color: colour,
        }),
      },
    ],
  };
}

function domainLabel(d: { domain: string; filtered: boolean }): string {
  return d.filtered ? d.domain : `${d.domain} (kept whole)`;
}

/** (4) Pre-PPO selection per domain: scores on the new pool, how much was kept, and how hard it is. */
export function selectionSpec(r: ExperimentResults): TopLevelSpec {
  const domains = r.selection.domains;
  const labels = domains.map(domainLabel);
  const rows = domains.flatMap((d) => {
    const domain = domainLabel(d);
    const base = { domain, meanScore: d.meanScore, aboveHalf: d.aboveHalf };
    return [
      { ...base, which: "pool", count: d.pool, gold: d.goldPool },
      { ...base, which: "kept", count: d.kept, gold: d.goldKept },
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
  // A grey bar per domain of one pool-wide figure in [0, 1].
  const poolPanel = (title: string, field: string, yTitle: string) => ({
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
      poolPanel("Mean score of the new pool", "meanScore", "mean reward"),
      poolPanel("Share of the pool above 0.5", "aboveHalf", "share > 0.5"),
      {
        title: "Prompts kept vs pool",
        width: w,
        height: HEIGHT,
        mark: "bar",
        encoding: {
          x,
          xOffset: { field: "which", sort: ["pool", "kept"] },
          y: { field: "count", type: "quantitative", title: "prompts" },
          color: which,
        },
      },
      {
        title: "SFT gold accuracy, kept vs pool",
        width: w,
        height: HEIGHT,
        transform: [{ filter: "isValid(datum.gold)" }],
        mark: "bar",
        encoding: {
          x,
          xOffset: { field: "which", sort: ["pool", "kept"] },
          y: { field: "gold", type: "quantitative", title: "gold accuracy", scale: { domain: [0, 1] } },
          color: which,
        },
      },
    ],
  };
}

/** (5a) Comparison: gold overall against step, one line per run. */
export function comparisonGoldSpec(r: ExperimentResults, colours: Colours): TopLevelSpec {
  const names = r.comparison.map((c) => c.name);
  const rows = r.comparison.flatMap((c) =>
    byStep(c).map((p) => ({ run: c.name, step: p.step, gold: p.gold.overall })),
  );
  return {
    config: CONFIG,
    data: { values: rows },
    title: "Gold accuracy (policy samples)",
    width: WIDTH * 1.4,
    height: HEIGHT * 1.2,
    ...merge(lineLayer({ field: "gold", title: "gold accuracy" }, { field: "step", title: "PPO step" }), {
      color: runColour(names, colours, "run"),
    }),
  };
}

/** The domains a set of runs was evaluated on, in order of first appearance. */
export function evalDomains(curves: readonly RunCurve[]): string[] {
  const seen = new Set<string>();
  for (const c of curves) for (const p of c.points) for (const d of Object.keys(p.gold.byDomain)) seen.add(d);
  return [...seen];
}

/** (5b) Comparison per domain: small multiples of gold against step. */
export function comparisonDomainsSpec(r: ExperimentResults, colours: Colours): TopLevelSpec {
  const names = r.comparison.map((c) => c.name);
  const domains = evalDomains(r.comparison);
  const rows = r.comparison.flatMap((c) =>
    byStep(c).flatMap((p) =>
      Object.entries(p.gold.byDomain).map(([domain, gold]) => ({ run: c.name, domain, step: p.step, gold })),
    ),
  );
  return {
    config: CONFIG,
    data: { values: rows },
    title: "Gold accuracy per domain (original prompts)",
    facet: { field: "domain", type: "nominal", title: null, sort: domains },
    columns: Math.min(4, Math.max(1, domains.length)),
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 200,
      height: 150,
      ...merge(lineLayer({ field: "gold", title: "gold accuracy" }, { field: "step", title: "PPO step" }), {
        color: runColour(names, colours, "run"),
      }),
    },
  };
}

/** (6) Diversity of sampled responses: mean token entropy and max pairwise edit distance against step. */
export function diversitySpec(curves: readonly RunCurve[], colours: Colours): TopLevelSpec {
  const names = curves.map((c) => c.name);
  const rows = curves.flatMap((c) =>
    byStep(c).map((p) => ({ run: c.name, step: p.step, entropy: p.entropy, edit: p.maxEditDistance })),
  );
  const colour = runColour(names, colours, "run");
  const x = { field: "step", title: "PPO step" };
  return {
    config: CONFIG,
    data: { values: rows },
    hconcat: [
      {
        title: "Mean token entropy of samples",
        width: WIDTH,
        height: HEIGHT,
        ...merge(lineLayer({ field: "entropy", title: "entropy (nats)" }, x), { color: colour }),
      },
      {
        title: "Max pairwise edit distance among samples",
        width: WIDTH,
        height: HEIGHT,
        ...merge(lineLayer({ field: "edit", title: "normalised edit distance" }, x), { color: colour }),
      },
    ],
  };
}
